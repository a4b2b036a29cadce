from .models import Tenant
from .navigation import navigation_for


def navigation(request):
    if getattr(request, "tenant", None) is None:
        return {}
    return {
        "nav_groups": navigation_for(request),
        "switchable_tenants": Tenant.objects.visible_to(request.user).exclude(pk=request.tenant.pk),
    }
