"""The publisher API's OpenAPI document says what the server does: schemathesis generates
requests from it (valid ones and broken ones, a bounded number per operation) and sends them
over real HTTP to the live server with a publisher's bearer token; no answer may be a 5xx or
step outside the document (status codes, content types, bodies, headers), and a call without
the token must be refused."""

import json
import random

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from portal.audit import Actor
from subscriptions import services
from subscriptions.api.openapi import document
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
    bearer,
)

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.ignored_auth,
]


@pytest.fixture
def api(live_server, settings, tenant, admin):
    """The document as the live server serves it, and what a publisher's calls can find: a
    subscription in each state that has answers to give, and a bearer token."""
    settings.PORTAL_BASE_URL = live_server.url
    publisher = PublisherFactory(name="Quillfeather Labs")
    app = AppFactory(publisher=publisher)
    profile = BillingProfileFactory(tenant=tenant)
    plans = [PlanFactory(app=app, plan_id=name, prices={"USD": 900}) for name in ("team", "pro")]
    subs = [
        SubscriptionFactory(billing_profile=profile, plan=plans[0], bought_by=admin)
        for _ in range(3)
    ]
    for sub in subs[1:]:
        services.subscription_activate(subscription=sub, actor=Actor.system())
    return {
        "base_url": f"{live_server.url}/api",
        "headers": bearer(publisher),
        "ids": [str(sub.uuid) for sub in subs],
    }


# The document as the server builds it (test_the_document_is_served checks it is the one
# served). Not schemathesis.pytest.from_fixture: it breaks on pytest 9.2 (`_nodeid`).
schema = schemathesis.openapi.from_dict(document())


def test_the_document_is_served(client):
    served = client.get("/api/openapi.json")
    assert served.status_code == 200 and served["Content-Type"] == "application/json"
    assert served.json() == json.loads(json.dumps(document()))
    assert served.json()["openapi"].startswith("3.1")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_document_says(case, api):
    if "subscriptionId" in (case.path_parameters or {}) and random.random() < 0.7:
        # Mostly real subscriptions of the caller's, so the answers go past "not found".
        case.path_parameters["subscriptionId"] = random.choice(api["ids"])
    case.call_and_validate(base_url=api["base_url"], headers=api["headers"], checks=CHECKS)
