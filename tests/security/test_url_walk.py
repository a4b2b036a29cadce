"""Walk every URL pattern of the project.

Under /t/<tenant_slug>/: anonymous callers are sent to log in, and a member of another
tenant gets 404 for GET and POST, with and without htmx headers, and nothing changes.
Under /api/saas/ (the Fulfillment API): another publisher's bearer token gets 404 on
subscription and operation URLs with every method, 400 at resolve, only its own in the
list, and nothing changes.
Every other pattern must stand in PUBLIC with its anonymous status and the reason.
A pattern with a URL argument that has no sample value fails, so no new URL escapes.
"""

import datetime
import re

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver

from billing.models import BillingProfileRole, Invoice, InvoiceExport
from billing.services import charge_create, invoice_profiles
from portal.audit import Actor
from portal.models import Invitation, Membership, Role
from portal.regions import CURRENCIES
from subscriptions import services
from subscriptions.models import OperationAction, Proposal, ProposalLine, Subscription
from tests.factories import (
    BillingProfileFactory,
    BillingProfileRoleFactory,
    InvitationFactory,
    MembershipFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
    bearer,
)

TENANT_PREFIX = "t/<slug:tenant_slug>/"

# Route -> (status for an anonymous GET, why it is reachable outside a tenant).
PUBLIC = {
    "": (302, "entry point: sends to log in, then to the caller's tenant or tenant picker"),
    "accounts/login/": (200, "log in"),
    "accounts/logout/": (405, "log out takes POST only"),
    "accounts/password-reset/": (200, "ask for a password reset e-mail"),
    "accounts/password-reset/sent/": (200, "says the e-mail is on its way"),
    "accounts/reset/<uidb64>/<token>/": (200, "the link from the e-mail (a bad one says so)"),
    "accounts/reset/done/": (200, "says the password is set"),
    "invitations/<uuid:invitation_uuid>/accept/": (
        302,
        "the invited person is no member yet: signed in, POST only, their own invitation only",
    ),
    "invitations/<uuid:invitation_uuid>/decline/": (
        302,
        "the invited person is no member yet: signed in, POST only, their own invitation only",
    ),
    "admin/login/": (200, "Django admin log in, operator staff only"),
    "webhooks/stripe": (405, "Stripe's events: POST only, each verified by its signature"),
    "api/oauth2/token": (405, "publishers' OAuth client credentials: POST only, rate-limited"),
    "api/oauth2/token/": (405, "the same, with the trailing slash publishers' clients send"),
    "api/openapi.json": (200, "the publisher API's OpenAPI document: public, as its docs are"),
    "api/<path:rest>": (404, "any other path under /api/: a JSON 404"),
    "go/apps/<uuid:subscription_uuid>/": (
        302,
        "a publisher's link back to an app: signed in, to its tenant page if the caller may see it",
    ),
    "sandbox-publisher/<slug:slug>/": (404, "the sandbox publisher: only when enabled (demo)"),
    "sandbox-publisher/<slug:slug>/subscriptions/": (
        404,
        "the sandbox publisher's list of its subscriptions: only when enabled (demo)",
    ),
    "sandbox-publisher/<slug:slug>/webhook/": (
        404,
        "the sandbox publisher's webhook receiver: only when enabled (demo), POST only, each "
        "webhook verified by its signature",
    ),
    "sandbox-publisher/<slug:slug>/webhooks/": (
        404,
        "the sandbox publisher's page of the webhooks it received: only when enabled (demo)",
    ),
    "api/saas/subscriptions/?": (401, "Fulfillment API: a publisher's own apps' subscriptions"),
    "api/saas/subscriptions/(?P<subscription_id>[^/]+)/listAvailablePlans/?": (
        401,
        "Fulfillment API: a publisher's bearer token, its own apps' subscriptions only",
    ),
    "api/saas/subscriptions/(?P<subscription_id>[^/]+)/operations/?": (
        401,
        "Fulfillment API: a publisher's bearer token, its own apps' subscriptions only",
    ),
    "api/saas/subscriptions/(?P<subscription_id>[^/]+)/operations/(?P<operation_id>[^/]+)/?": (
        401,
        "Fulfillment API: a publisher's bearer token, its own apps' subscriptions only",
    ),
    "api/saas/subscriptions/resolve/?": (401, "Fulfillment API: a publisher's bearer token only"),
    "api/saas/subscriptions/(?P<subscription_id>[^/]+)/activate/?": (
        401,
        "Fulfillment API: a publisher's bearer token, its own apps' subscriptions only",
    ),
    "api/saas/subscriptions/(?P<subscription_id>[^/]+)/?": (
        401,
        "Fulfillment API: a publisher's bearer token, its own apps' subscriptions only",
    ),
}
# Every other Django admin page sends anonymous callers to the admin's log in.
ADMIN_PREFIX = ("admin/", 302, "Django admin: operator staff only")


def private_app(tenant):
    """An app whose only plan is private to `tenant`, priced in every currency."""
    plan = PlanFactory(is_private=True, prices=dict.fromkeys(CURRENCIES, 500))
    plan.allowed_tenants.add(tenant)
    return plan.app


def profile_role(tenant):
    """A role granted to a member on a profile of the tenant (the same one for
    <profile_uuid> and <role_uuid>)."""
    existing = BillingProfileRole.objects.filter(profile__tenant=tenant).first()
    if existing is not None:
        return existing
    profile = BillingProfileFactory(tenant=tenant)
    member = MembershipFactory(tenant=tenant, role=Role.MEMBER)
    return BillingProfileRoleFactory(profile=profile, user=member.user)


def subscription(tenant):
    """A subscription of the tenant, paid by the sample profile (the same one each time)."""
    existing = Subscription.objects.filter(tenant=tenant).first()
    if existing is not None:
        return existing
    plan = private_app(tenant).plans.get()
    return SubscriptionFactory(billing_profile=profile_role(tenant).profile, plan=plan)


def operation(tenant):
    """An operation of the sample subscription (the same one each time)."""
    sample = subscription(tenant)
    return sample.operations.first() or services.operation_record(
        subscription=sample, action=OperationAction.CHANGE_QUANTITY
    )


def proposal(tenant):
    """An open proposal to the tenant, of the sample plan (the same one each time)."""
    existing = Proposal.objects.filter(tenant=tenant).first()
    if existing is not None:
        return existing
    made = Proposal.objects.create(
        tenant=tenant, title="Sample proposal", expires_on=datetime.date(2099, 1, 1)
    )
    plan = private_app(tenant).plans.get()
    ProposalLine.objects.create(proposal=made, plan=plan, quantity=5, unit_amount=300)
    return made


def invoice(tenant):
    """An issued invoice of the sample profile, billing the sample subscription's charge
    (the same one each time)."""
    existing = Invoice.objects.filter(tenant=tenant).first()
    if existing is not None:
        return existing
    sample = subscription(tenant)
    charge_create(
        profile=sample.billing_profile,
        subscription_uuid=sample.uuid,
        plan=sample.plan,
        kind="purchase",
        description="Sample purchase",
        unit_amount=500,
        amount=500,
        period_start=datetime.date(2026, 11, 1),
        period_end=datetime.date(2026, 12, 1),
        at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
    )
    invoice_profiles([sample.billing_profile_id], day=datetime.date(2026, 12, 1))
    return Invoice.objects.get(tenant=tenant)


def invoice_export(tenant):
    """An export of the sample profile's invoices (the same one each time)."""
    existing = InvoiceExport.objects.filter(tenant=tenant).first()
    if existing is not None:
        return existing
    path = f"exports/{tenant.slug}/url-walk-sample.zip"  # built: its download is there
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(b"PK\x05\x06" + bytes(18)))  # an empty zip
    return InvoiceExport.objects.create(
        tenant=tenant,
        billing_profile=profile_role(tenant).profile,
        date_from=datetime.date(2026, 1, 1),
        date_to=datetime.date(2026, 12, 31),
        status="done",
        file=path,
    )


def invitation(tenant):
    """A pending invitation of the tenant (the same one each time)."""
    existing = Invitation.objects.filter(tenant=tenant).first()
    return existing or InvitationFactory(tenant=tenant)


SAMPLE_VALUES = {
    # URL argument -> function of the target tenant giving a sample value.
    "tenant_slug": lambda tenant: tenant.slug,
    "member_uuid": lambda tenant: Membership.objects.filter(tenant=tenant).first().uuid,
    "app_uuid": lambda tenant: private_app(tenant).uuid,
    "profile_uuid": lambda tenant: profile_role(tenant).profile.uuid,
    "role_uuid": lambda tenant: profile_role(tenant).uuid,
    "invitation_uuid": lambda tenant: invitation(tenant).uuid,
    "subscription_uuid": lambda tenant: subscription(tenant).uuid,
    "plan_uuid": lambda tenant: private_app(tenant).plans.get().uuid,
    "subscription_id": lambda tenant: subscription(tenant).uuid,
    "slug": lambda tenant: "quillfeather",
    "rest": lambda tenant: "saas/nowhere",
    "operation_id": lambda tenant: operation(tenant).uuid,
    "proposal_uuid": lambda tenant: proposal(tenant).uuid,
    "invoice_uuid": lambda tenant: invoice(tenant).uuid,
    "export_uuid": lambda tenant: invoice_export(tenant).uuid,
    "uidb64": lambda tenant: "MQ",
    "token": lambda tenant: "set-password",
    "app_label": lambda tenant: "portal",
    "object_id": lambda tenant: "1",
    "id": lambda tenant: "1",
    "content_type_id": lambda tenant: "1",
    "url": lambda tenant: "nowhere/",
}

ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def all_routes(patterns=None, prefix=""):
    """Every pattern of the project as one route string, e.g. 't/<slug:tenant_slug>/'."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern).lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(entry, URLResolver):
            yield from all_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def sample_url(route, tenant, *, inside=None):
    """The route with sample values from `tenant`, under `inside`'s slug when given."""

    def value(match):
        name = match.group(1) or match.group(2)
        if name not in SAMPLE_VALUES:
            pytest.fail(f"No sample value for <{name}> in {route!r}: add one to SAMPLE_VALUES")
        if name == "tenant_slug" and inside is not None:
            return inside.slug
        return str(SAMPLE_VALUES[name](tenant))

    return "/" + ARGUMENT.sub(value, route)


def snapshot():
    """Every row the project keeps, apart from sessions and log-in attempt records."""
    skip = {"sessions", "axes", "admin"}
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label not in skip
    }


ROUTES = sorted(set(all_routes()))
TENANT_ROUTES = [r for r in ROUTES if r.startswith(TENANT_PREFIX)]
# Tenant routes that name an object besides the tenant: its id must not reach across tenants.
OBJECT_ROUTES = [r for r in TENANT_ROUTES if len(ARGUMENT.findall(r)) > 1]
OTHER_ROUTES = [r for r in ROUTES if not r.startswith(TENANT_PREFIX)]


def test_the_walk_sees_the_tenant_area():
    assert f"{TENANT_PREFIX}settings/members/" in TENANT_ROUTES
    assert f"{TENANT_PREFIX}settings/members/<uuid:member_uuid>/remove/" in OBJECT_ROUTES


@pytest.mark.parametrize("route", TENANT_ROUTES)
def test_anonymous_is_sent_to_log_in(client, tenant, admin, route):
    url = sample_url(route, tenant)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (method.__name__, url)
        assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("route", TENANT_ROUTES)
def test_member_of_another_tenant_gets_404_and_changes_nothing(
    login, tenant, admin, reader, other_admin, route
):
    url = sample_url(route, tenant)
    client = login(other_admin)
    before = snapshot()
    for method in (client.get, client.post):
        for headers in ({}, {"HX-Request": "true", "HX-Target": "content"}):
            response = method(url, {"role": "admin", "email": "x@example.com"}, headers=headers)
            assert response.status_code == 404, (method.__name__, url, headers)
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_another_tenants_object_ids_are_404_inside_your_own_tenant(
    login, tenant, admin, reader, other_admin, other_tenant, route
):
    """Past the middleware: each view must fetch through for_tenant, not by id alone."""
    own = sample_url(route, tenant)
    owner = login(admin)
    status = owner.get(own).status_code
    if status == 405:
        status = owner.post(own).status_code  # a POST-only view; empty data changes nothing
    assert status != 404, f"the sample for {route!r} is not found even by its own tenant"
    url = sample_url(route, tenant, inside=other_tenant)
    client = login(other_admin)
    before = snapshot()
    statuses = set()
    for method in (client.get, client.post):
        for headers in ({}, {"HX-Request": "true"}):
            response = method(url, {"role": "admin"}, headers=headers)
            statuses.add(response.status_code)
    # 405 where the view takes the other method; the method it takes must find nothing.
    assert 404 in statuses and statuses <= {404, 405}, (url, statuses)
    assert snapshot() == before


@pytest.mark.parametrize("route", OTHER_ROUTES)
def test_every_other_pattern_is_listed_as_public(client, tenant, admin, route):
    if route in PUBLIC:
        expected, reason = PUBLIC[route]
    elif route.startswith(ADMIN_PREFIX[0]):
        _, expected, reason = ADMIN_PREFIX
    else:
        pytest.fail(f"{route!r} is neither under /t/<slug>/ nor listed in PUBLIC with a reason")
    assert reason
    assert client.get(sample_url(route, tenant)).status_code == expected, route


API_PREFIX = "api/saas/"
API_ROUTES = [r for r in ROUTES if r.startswith(API_PREFIX)]


def api_url(route, tenant) -> str:
    """The API route with sample values; its optional trailing slash left out."""
    return sample_url(route.removesuffix("/?"), tenant) + "?api-version=2018-08-31"


@pytest.mark.parametrize("route", API_ROUTES)
def test_another_publishers_token_finds_nothing_and_changes_nothing(client, tenant, route):
    url = api_url(route, tenant)
    sample = subscription(tenant)
    owner = bearer(sample.plan.app.publisher)
    assert client.get(url, headers=owner).status_code in {200, 405}, "the sample is its own"
    other = PublisherFactory()
    own = SubscriptionFactory(
        billing_profile=sample.billing_profile, plan=PlanFactory(app__publisher=other)
    )
    token = services.marketplace_token_issue(subscription=sample, actor=Actor.system())
    headers = {**bearer(other), "x-ms-marketplace-token": token}
    before = snapshot()
    statuses = {}
    bodies = {
        "post": {"planId": sample.plan.plan_id, "quantity": sample.quantity},
        "patch": {"quantity": 6, "status": "Success"},
        "delete": None,
    }
    for method in ("get", "post", "patch", "delete"):
        call = getattr(client, method)
        response = call(url, bodies.get(method), content_type="application/json", headers=headers)
        statuses[method] = response.status_code
        assert response["Content-Type"] == "application/json", (method, url)
        if method == "get" and response.status_code == 200:
            listed = [found["id"] for found in response.json()["subscriptions"]]
            assert listed == [str(own.uuid)], "the list holds only the caller's own"
    assert snapshot() == before
    if route.startswith(f"{API_PREFIX}subscriptions/resolve"):
        assert statuses["post"] == 400, statuses
    elif route.startswith(f"{API_PREFIX}subscriptions/?"):
        assert statuses["get"] == 200, statuses
    else:
        found = set(statuses.values())
        assert 404 in found and found <= {404, 405}, (url, statuses)
