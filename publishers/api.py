"""`POST /api/oauth2/token`: OAuth 2.0 client credentials for publishers' API clients, as
the marketplace's token endpoint answers them (../shared/reference/fulfillment-api.md).

Form-encoded `grant_type=client_credentials`, `client_id`, `client_secret` (`resource` and
`scope` are accepted and ignored). Errors are JSON `{"error": {"code", "message"}}`; a wrong,
expired or revoked secret or an unknown client id all get the same 401. Requests are
limited per IP and per client id (429 with Retry-After).
"""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from portal.client_ip import client_ip
from portal.ratelimit import too_many

from . import services
from .credentials import TOKEN_LIFETIME

FORM = "application/x-www-form-urlencoded"
FORMS = (FORM, "multipart/form-data")  # what request.POST parses


def api_error(status: int, code: str, message: str, **headers) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


@csrf_exempt  # a machine's call, authenticated by its client secret, not a browser's form
@never_cache
def oauth_token(request):
    if request.method != "POST":
        return api_error(405, "MethodNotAllowed", "Use POST.", Allow="POST")
    if request.content_type not in FORMS:
        return api_error(400, "invalid_request", f"Send the fields form-encoded ({FORM}).")
    per_ip, per_client, window = settings.PUBLISHER_TOKEN_RATE_LIMITS
    client_id = request.POST.get("client_id", "")[:100]
    wait = too_many(f"token-ip:{client_ip(request)}", limit=per_ip, window=window)
    if not wait and client_id:
        wait = too_many(f"token-client:{client_id}", limit=per_client, window=window)
    if wait:
        return api_error(
            429,
            "too_many_requests",
            "Too many token requests: try again later.",
            **{"Retry-After": str(wait)},
        )
    if request.POST.get("grant_type") != "client_credentials":
        return api_error(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    token = services.token_issue(
        client_id=client_id, client_secret=request.POST.get("client_secret", "")
    )
    if token is None:
        return api_error(401, "invalid_client", "The client id and secret were not accepted.")
    return JsonResponse(
        {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "access_token": token}
    )
