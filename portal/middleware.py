from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from .models import Membership, Tenant


class TenantMiddleware:
    """Resolve `/t/<tenant_slug>/...` to `request.tenant` and `request.membership`.

    Anonymous callers are sent to log in; anyone who is neither a member nor acting for the
    tenant through a partner relationship gets 404, whether or not the tenant exists.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.pop("tenant_slug", None)
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        tenant = Tenant.objects.filter(slug=slug).first()
        membership = tenant and Membership.objects.effective(user=request.user, tenant=tenant)
        if membership is None:
            raise Http404("No such tenant.")
        request.tenant = tenant
        request.membership = membership
        return None
