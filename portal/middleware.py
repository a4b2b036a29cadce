import time

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.cache import patch_cache_control
from django_htmx.http import HttpResponseClientRedirect

from .models import Membership
from .money import activate_locale, deactivate_locale, locale_for_country


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
        request.money_locale_token = None
        try:
            return self.get_response(request)
        finally:
            if request.money_locale_token is not None:
                deactivate_locale(request.money_locale_token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.pop("tenant_slug", None)
        if slug is None:
            return None
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A signed-out page's htmx request: the whole page goes to log in, rather
                # than the log-in form being swapped into a menu or a table row.
                login = redirect_to_login(request.htmx.current_url_abs_path or "/")
                return HttpResponseClientRedirect(login.url)
            return redirect_to_login(request.get_full_path())
        membership = Membership.objects.of_user_in(request.user, slug)
        if membership is None:
            raise Http404("No such tenant.")
        request.tenant = membership.tenant
        request.membership = membership
        # Money on this request's pages reads as it does in the tenant's country.
        request.money_locale_token = activate_locale(locale_for_country(membership.tenant.country))
        return None


class SessionIdleExpiryMiddleware:
    """Push a signed-in session's expiry forward, at most once a minute.

    Sessions end after SESSION_COOKIE_AGE of idle time. Saving the session on every request
    (SESSION_SAVE_EVERY_REQUEST) would cost a database write per page; this marks it for
    saving, with a fresh expiry, only when the last push is a minute old.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)  # absent if a middleware answered early
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get("_touched", 0) >= 60:
                session["_touched"] = now
        return response


class PrivatePagesNotCachedMiddleware:
    """Pages served to a signed-in person are kept out of every cache, shared or not.

    They carry billing addresses, tax ids and who-is-who; `no-store` also keeps them out of
    the browser's back-button cache after signing out. A view that sets its own
    Cache-Control (a download, say) keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
