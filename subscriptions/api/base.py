"""What every Fulfillment API endpoint does before and after its own work: the api-version,
the bearer token (`request.publisher`), the request and correlation ids echoed back (made up
when missing), JSON bodies checked by a schema, and every refusal as JSON
`{"error": {"code", "message"}}`."""

import functools
import json
import uuid

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from publishers.api import api_error, request_length
from publishers.credentials import publisher_for_token

API_VERSION = "2018-08-31"
MAX_BODY = 64 * 1024  # bytes: the largest body an endpoint takes is a few hundred


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found() -> ApiError:
    return ApiError(404, "NotFound", "No such subscription.")


def _request_id(request, header: str) -> str:
    """The caller's id, as sent, when it is a GUID (its usual 36-character spelling); else a
    new one."""
    given = request.headers.get(header, "")
    try:
        canonical = str(uuid.UUID(given))
    except ValueError:
        canonical = ""
    return given if canonical and canonical == given.lower() else str(uuid.uuid4())


def _answer(response, request_id: str, correlation_id: str):
    response["x-ms-requestid"] = request_id
    response["x-ms-correlationid"] = correlation_id
    return response


def error_response(error: ApiError) -> JsonResponse:
    return api_error(error.status, error.code, error.message)


def body_of(request, schema: type[BaseModel]) -> BaseModel:
    """The request's JSON body, checked by `schema` (400 with what is wrong)."""
    too_large = ApiError(413, "PayloadTooLarge", "The body is too large.")
    if request_length(request) > MAX_BODY:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > MAX_BODY:
        raise too_large
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not ours
        raise ApiError(400, "BadRequest", "The body is not JSON.") from None
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise ApiError(400, "BadRequest", problems) from None


def endpoint(*methods: str):
    """Decorate a Fulfillment API view: it runs for `methods` only, with `request.publisher`
    set from a valid bearer token and the api-version checked; it returns a response or
    raises ApiError."""

    def decorate(view):
        @csrf_exempt  # machines' calls, authenticated by their bearer token
        @never_cache
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            request_id = _request_id(request, "x-ms-requestid")
            correlation_id = _request_id(request, "x-ms-correlationid")
            try:
                scheme, _, token = request.headers.get("Authorization", "").partition(" ")
                publisher = publisher_for_token(token) if scheme.lower() == "bearer" else None
                if publisher is None:
                    raise ApiError(401, "Unauthorized", "A valid bearer token is needed.")
                allowed = (*methods, "HEAD") if "GET" in methods else methods
                if request.method not in allowed:
                    raise ApiError(405, "MethodNotAllowed", f"Use {' or '.join(methods)}.")
                if request.GET.get("api-version") != API_VERSION:
                    raise ApiError(400, "BadRequest", f"api-version must be {API_VERSION}.")
                request.publisher = publisher
                response = view(request, *args, **kwargs)
            except ApiError as error:
                response = error_response(error)
                if error.status == 405:
                    response["Allow"] = ", ".join(methods)
            return _answer(response, request_id, correlation_id)

        return wrapped

    return decorate
