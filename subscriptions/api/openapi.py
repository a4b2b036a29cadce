"""`GET /api/openapi.json`: the OpenAPI 3.1 document of the publisher API (the token endpoint
and the Fulfillment API), built from the same pydantic models that check the requests and
shape the answers, so it says what the server does (tests/subscriptions/test_openapi.py
runs schemathesis against it)."""

import functools

from django.conf import settings
from django.http import JsonResponse
from pydantic.json_schema import models_json_schema

from publishers.api import api_error
from publishers.models import MAX_SEATS

from . import schemas
from .base import API_VERSION, MAX_BODY

REF = "#/components/schemas/{model}"


def ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _model_schemas() -> dict:
    """The components of every model the API reads or writes."""
    models = [
        (schemas.ActivateIn, "validation"),
        (schemas.PatchIn, "validation"),
        (schemas.OperationPatchIn, "validation"),
        (schemas.ResolveOut, "serialization"),
        (schemas.SubscriptionOut, "serialization"),
        (schemas.PlansOut, "serialization"),
        (schemas.OperationOut, "serialization"),
        (schemas.OperationsOut, "serialization"),
    ]
    _, found = models_json_schema(models, by_alias=True, ref_template=REF)
    return found["$defs"]


SEATS = {"type": "integer", "minimum": 1, "maximum": MAX_SEATS}
SEATS_AS_TEXT = {"type": "string", "pattern": schemas.SEATS_AS_TEXT}


def _input_rules(found: dict) -> None:
    """What the models' own validators add to their fields' types."""
    # activate: a blank quantity is the purchase's, as null is.
    found["ActivateIn"]["properties"]["quantity"] = {
        "anyOf": [SEATS, SEATS_AS_TEXT, {"type": "null"}, {"const": ""}],
        "description": 'The purchase\'s quantity; null, "" or absent mean the same.',
    }
    # PATCH: exactly one of planId and quantity is given (not null).
    given = {
        "planId": {"required": ["planId"], "properties": {"planId": {"type": "string"}}},
        "quantity": {"required": ["quantity"], "properties": {"quantity": {"type": "integer"}}},
    }
    found["PatchIn"]["oneOf"] = [
        {**given["planId"], "not": given["quantity"]},
        {**given["quantity"], "not": given["planId"]},
    ]
    found["OperationPatchIn"]["properties"]["quantity"] = {
        "anyOf": [SEATS, SEATS_AS_TEXT, {"type": "null"}],
        "description": "When given, the operation's quantity.",
    }


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
TOKEN = {
    "type": "object",
    "required": ["token_type", "expires_in", "access_token"],
    "properties": {
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer"},
        "access_token": {"type": "string"},
    },
}
TOKEN_FORM = {
    "type": "object",
    "required": ["grant_type", "client_id", "client_secret"],
    "properties": {
        "grant_type": {"const": "client_credentials"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "resource": {"type": "string", "description": "Accepted and ignored."},
        "scope": {"type": "string", "description": "Accepted and ignored."},
    },
}
PAGE = {
    "type": "object",
    "required": ["subscriptions"],
    "properties": {
        "subscriptions": {"type": "array", "items": ref("SubscriptionOut"), "maxItems": 100},
        "@nextLink": {
            "type": "string",
            "format": "uri",
            "description": "The next page, absolute, with api-version and continuationToken; "
            "absent on the last page.",
        },
    },
}

IDS = {
    name: {
        "description": f"Echoed back as sent when it is a GUID, else a new one. {text}",
        "schema": {"type": "string"},
    }
    for name, text in (
        ("x-ms-requestid", "Identifies this request."),
        ("x-ms-correlationid", "Ties this request to the caller's operation."),
    )
}
PARAMETERS = {
    "apiVersion": {
        "name": "api-version",
        "in": "query",
        "required": True,
        "schema": {"const": API_VERSION},
    },
    "requestId": {"name": "x-ms-requestid", "in": "header", **IDS["x-ms-requestid"]},
    "correlationId": {"name": "x-ms-correlationid", "in": "header", **IDS["x-ms-correlationid"]},
    "subscriptionId": {
        "name": "subscriptionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "The subscription's id (a GUID); any other is not found.",
    },
    "operationId": {
        "name": "operationId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    },
}
COMMON = [
    {"$ref": "#/components/parameters/apiVersion"},
    {"$ref": "#/components/parameters/requestId"},
    {"$ref": "#/components/parameters/correlationId"},
]
ECHOED = {name: {"schema": {"type": "string"}} for name in IDS}
REFUSALS = {
    "400": "Bad request: a wrong api-version, a body that is not what the call takes, or a "
    "change the subscription can't make.",
    "401": "No valid bearer token.",
    "404": "No such subscription (or operation) among the caller's.",
    "409": "A newer operation of the subscription has already completed.",
    "413": f"The body is larger than {MAX_BODY // 1024} KB.",
    "429": "Too many token requests: wait the Retry-After seconds.",
}


def refused(*codes: str, echoed: bool = True) -> dict:
    """The refusals `codes`, as JSON errors (the Fulfillment API's with the ids echoed)."""
    answers = {}
    for code in codes:
        headers = dict(ECHOED) if echoed else {}
        if code == "429":
            headers["Retry-After"] = {"required": True, "schema": {"type": "string"}}
        answers[code] = {
            "description": REFUSALS[code],
            "headers": headers,
            "content": {"application/json": {"schema": ref("Error")}},
        }
    return answers


def answer(description: str, schema: dict | None = None, headers: dict | None = None) -> dict:
    given = {"description": description, "headers": {**ECHOED, **(headers or {})}}
    if schema is not None:
        given["content"] = {"application/json": {"schema": schema}}
    return given


def json_body(name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


ACCEPTED = answer(
    "Done at once; the operation is at Operation-Location.",
    headers={
        "Operation-Location": {
            "required": True,
            "schema": {"type": "string", "format": "uri"},
            "description": "The absolute URL of the operation, with api-version.",
        }
    },
)


def _paths() -> dict:
    one = [{"$ref": "#/components/parameters/subscriptionId"}]
    return {
        "/oauth2/token": {
            "post": {
                "operationId": "token",
                "summary": "A bearer token for the publisher's client id and secret (1 hour).",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/x-www-form-urlencoded": {"schema": ref("TokenForm")}},
                },
                "responses": {
                    "200": {
                        "description": "A bearer token.",
                        "content": {"application/json": {"schema": ref("Token")}},
                    },
                    **refused("400", "401", "413", "429", echoed=False),
                },
            }
        },
        "/saas/subscriptions": {
            "parameters": COMMON,
            "get": {
                "operationId": "listSubscriptions",
                "summary": "The publisher's subscriptions, every status, 100 a page.",
                "parameters": [
                    {"name": "continuationToken", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": answer("A page.", ref("SubscriptionPage")),
                    **refused("400", "401"),
                },
            },
        },
        "/saas/subscriptions/resolve": {
            "parameters": COMMON,
            "post": {
                "operationId": "resolve",
                "summary": "The subscription behind a landing page's marketplace token.",
                "parameters": [
                    {
                        "name": "x-ms-marketplace-token",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1},
                        "description": "The landing page's token, URL-decoded.",
                    }
                ],
                "responses": {
                    "200": answer("The purchase.", ref("ResolveOut")),
                    **refused("400", "401"),
                },
            },
        },
        "/saas/subscriptions/{subscriptionId}": {
            "parameters": COMMON + one,
            "get": {
                "operationId": "getSubscription",
                "responses": {
                    "200": answer("The subscription.", ref("SubscriptionOut")),
                    **refused("400", "401", "404"),
                },
            },
            "patch": {
                "operationId": "changeSubscription",
                "summary": "A new plan or a new quantity, applied at once.",
                "requestBody": json_body("PatchIn"),
                "responses": {"202": ACCEPTED, **refused("400", "401", "404", "413")},
            },
            "delete": {
                "operationId": "unsubscribe",
                "summary": "Cancel: the subscription becomes Unsubscribed at once.",
                "responses": {"202": ACCEPTED, **refused("400", "401", "404")},
            },
        },
        "/saas/subscriptions/{subscriptionId}/activate": {
            "parameters": COMMON + one,
            "post": {
                "operationId": "activate",
                "summary": "The publisher has set the app up: Subscribed, billing starts.",
                "requestBody": json_body("ActivateIn"),
                "responses": {
                    "200": answer("Activated (no body)."),
                    **refused("400", "401", "404", "413"),
                },
            },
        },
        "/saas/subscriptions/{subscriptionId}/listAvailablePlans": {
            "parameters": COMMON + one,
            "get": {
                "operationId": "listAvailablePlans",
                "responses": {
                    "200": answer("The plans.", ref("PlansOut")),
                    **refused("400", "401", "404"),
                },
            },
        },
        "/saas/subscriptions/{subscriptionId}/operations": {
            "parameters": COMMON + one,
            "get": {
                "operationId": "listOperations",
                "summary": "The operations waiting for the publisher's answer (InProgress).",
                "responses": {
                    "200": answer("The operations.", ref("OperationsOut")),
                    **refused("400", "401", "404"),
                },
            },
        },
        "/saas/subscriptions/{subscriptionId}/operations/{operationId}": {
            "parameters": [*COMMON, *one, {"$ref": "#/components/parameters/operationId"}],
            "get": {
                "operationId": "getOperation",
                "responses": {
                    "200": answer("The operation.", ref("OperationOut")),
                    **refused("400", "401", "404"),
                },
            },
            "patch": {
                "operationId": "answerOperation",
                "summary": "The publisher's Success or Failure for an operation InProgress.",
                "requestBody": json_body("OperationPatchIn"),
                "responses": {
                    "200": answer("Answered (no body)."),
                    **refused("400", "401", "404", "409", "413"),
                },
            },
        },
    }


@functools.cache
def _document_without_server() -> dict:
    found = _model_schemas()
    _input_rules(found)
    found.update(Error=ERROR, Token=TOKEN, TokenForm=TOKEN_FORM, SubscriptionPage=PAGE)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Marketplace publisher API (SaaS Fulfillment API v2)",
            "version": API_VERSION,
            "description": "Wire-compatible with the Microsoft commercial marketplace SaaS "
            "Fulfillment API v2: change the API base URL, the token URL and the credentials.",
        },
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": found,
            "parameters": PARAMETERS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def document() -> dict:
    return {
        **_document_without_server(),
        "servers": [{"url": f"{settings.PORTAL_BASE_URL}/api"}],
    }


def openapi_json(request):
    if request.method not in ("GET", "HEAD"):
        return api_error(405, "MethodNotAllowed", "Use GET.", Allow="GET, HEAD")
    return JsonResponse(document(), json_dumps_params={"indent": 1})
