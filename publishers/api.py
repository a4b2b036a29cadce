"""`POST /api/oauth2/token`: OAuth 2.0 client credentials for publishers' API clients, as
the marketplace's token endpoint answers them (../shared/reference/fulfillment-api.md).

Form-encoded `grant_type=client_credentials`, `client_id`, `client_secret` (`resource` and
`scope` are accepted and ignored). Errors are JSON `{"error": {"code", "message"}}`; a wrong,
expired or revoked secret or an unknown client id all get the same 401. Requests are
limited per IP, and wrong credentials per client id (429 with Retry-After).
"""

import uuid

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from portal.client_ip import client_ip
from portal.ratelimit import blocked, too_many

from . import services
from .credentials import TOKEN_LIFETIME

FORM = "application/x-www-form-urlencoded"
FORMS = (FORM, "multipart/form-data")  # what request.POST parses


def api_error(status: int, code: str, message: str, **headers) -> JsonResponse:
    """An API refusal as every /api/ answer gives it (the Fulfillment API's too)."""
    return JsonResponse(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


MAX_BODY = 16 * 1024  # bytes: a token request is a few hundred


def api_not_found(request, rest=""):
    """Any other path under /api/: JSON, as the API's own answers are."""
    return api_error(404, "NotFound", "No such API path.")


@csrf_exempt  # a machine's call, authenticated by its client secret, not a browser's form
@never_cache
def oauth_token(request):
    if request.method != "POST":
        return api_error(405, "MethodNotAllowed", "Use POST.", Allow="POST")
    if request.content_type not in FORMS:
        return api_error(400, "invalid_request", f"Send the fields form-encoded ({FORM}).")
    if request_length(request) > MAX_BODY:
        return api_error(413, "invalid_request", "The request is too large.")
    try:
        fields = request.POST
    except (SuspiciousOperation, MultiPartParserError):
        return api_error(400, "invalid_request", "The form can't be read.")
    per_ip, failures_per_client, window = settings.PUBLISHER_TOKEN_RATE_LIMITS
    if wait := too_many(f"token-ip:{client_ip(request)}", limit=per_ip, window=window):
        return _slow_down(wait)
    if fields.get("grant_type") != "client_credentials":
        return api_error(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    client_id = fields.get("client_id", "")
    token = services.token_issue(client_id=client_id, client_secret=fields.get("client_secret", ""))
    # Wrong guesses are limited per client id, however the id is spelled (one key for every
    # id that is no UUID). The right secret always gets its token: anyone may know a client
    # id, and must not be able to lock its publisher out by guessing wrong.
    client_key = f"token-failures:{_canonical(client_id)}"
    if token is None:
        if wait := blocked(client_key, limit=failures_per_client, window=window):
            return _slow_down(wait)
        too_many(client_key, limit=failures_per_client, window=window)
        return api_error(401, "invalid_client", "The client id and secret were not accepted.")
    return JsonResponse(
        {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "access_token": token}
    )


def request_length(request) -> int:
    """The body's length the request declares (0 when it says nothing sensible)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _canonical(client_id: str) -> str:
    try:
        return str(uuid.UUID(client_id))
    except (ValueError, TypeError):
        return "not-a-client-id"


def _slow_down(wait: int) -> JsonResponse:
    return api_error(
        429,
        "too_many_requests",
        "Too many token requests: try again later.",
        **{"Retry-After": str(wait)},
    )
