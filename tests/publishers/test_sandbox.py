"""The sandbox publisher: off unless enabled, seeded to play the catalog's publishers (their
landing pages and API secrets, idempotently), the portal's link back for it, and its list
of subscriptions, whose changes go through the Fulfillment API over real HTTP and charge,
credit or cancel as the portal's own services do."""

import re
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.test import Client

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from publishers import services
from publishers.models import PricingModel, Publisher, PublisherSecret
from publishers.sandbox.models import SandboxPublisher
from publishers.sandbox.views import client_of
from subscriptions import services as subscription_services
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import Operation
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    MembershipFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
    TenantFactory,
)
from tests.sandbox import sandbox_of

pytestmark = pytest.mark.django_db


def test_its_pages_are_not_there_unless_enabled(client, settings):
    PublisherFactory(slug="quillfeather")
    call_command("seed_sandbox_publishers", "--force")
    settings.SANDBOX_PUBLISHER_ENABLED = False
    assert client.get("/sandbox-publisher/quillfeather/").status_code == 404
    settings.SANDBOX_PUBLISHER_ENABLED = True
    page = client.get("/sandbox-publisher/quillfeather/")
    assert page.status_code == 200 and "Manage in publisher's portal" in page.content.decode()
    assert client.get("/sandbox-publisher/nobody/").status_code == 404
    unreachable = client.get("/sandbox-publisher/quillfeather/", {"token": "abc"})
    assert unreachable.status_code == 400  # the marketplace's API can't be reached here
    assert "Something went wrong" in unreachable.content.decode()


def test_its_client_refuses_a_header_http_cannot_carry_without_sending_anything():
    """A token with CR/LF (a crafted landing link) would split the request's headers:
    http.client refuses it before connecting, and the client says so as an ApiFailure."""
    from urllib.request import Request

    from publishers.sandbox.client import ApiFailure, Fulfillment

    api = Fulfillment("http://127.0.0.1:9/api", "id", "secret")  # nothing listens on 9
    bad = Request("http://127.0.0.1:9/api/saas/x", headers={"x-ms-marketplace-token": "a\r\nb"})
    with pytest.raises(ApiFailure, match="can't be sent"):
        api._send(bad)


def test_its_client_follows_the_apis_links_only_on_the_apis_origin():
    """`@nextLink` and Operation-Location are followed as given, but the bearer token is
    sent to no other origin than the API's."""
    from publishers.sandbox.client import ApiFailure, Fulfillment

    api = Fulfillment("http://127.0.0.1:9/api", "id", "secret")
    assert api._link("http://127.0.0.1:9/api/saas/x?y=1") == "http://127.0.0.1:9/api/saas/x?y=1"
    for elsewhere in ("http://evil.example/api/saas/x", "https://127.0.0.1:9/api/saas/x"):
        with pytest.raises(ApiFailure, match="outside its API"):
            api.operation(elsewhere)


def test_the_demo_catalogs_publishers_land_on_the_sandbox_of_this_portal(tenant, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8001"
    call_command("load_catalog", "--demo")
    quill = Publisher.objects.get(slug="quillfeather")
    assert quill.landing_page_url == "http://127.0.0.1:8001/sandbox-publisher/quillfeather/"
    for publisher in Publisher.objects.all():  # webhooks to its receiver, not made-up hosts
        receiver = f"http://127.0.0.1:8001/sandbox-publisher/{publisher.slug}/webhook/"
        assert publisher.webhook_url == receiver


def test_seeding_gives_each_publisher_a_working_secret_once():
    bramble = PublisherFactory(slug="bramblecrest")
    PublisherFactory(slug="quillfeather")
    call_command("seed_sandbox_publishers", "--force")
    sandbox = SandboxPublisher.objects.get(slug="quillfeather")
    assert services.token_issue(client_id=sandbox.client_id, client_secret=sandbox.client_secret)
    call_command("seed_sandbox_publishers", "--force")  # again: nothing new
    assert PublisherSecret.objects.count() == 2
    services.publisher_secret_revoke(
        secret=PublisherSecret.objects.get(publisher=bramble), actor=Actor.system()
    )
    call_command("seed_sandbox_publishers", "--force")  # a secret that stopped working
    assert PublisherSecret.objects.usable().filter(publisher=bramble).count() == 1
    renewed = SandboxPublisher.objects.get(slug="bramblecrest")
    assert services.token_issue(client_id=renewed.client_id, client_secret=renewed.client_secret)


def test_the_link_back_opens_the_app_page_for_those_who_may_see_it(login, tenant, admin):
    plan = PlanFactory(app=AppFactory(name="Ledger Pro"))
    sub = SubscriptionFactory(billing_profile=BillingProfileFactory(tenant=tenant), plan=plan)
    response = login(admin).get(f"/go/apps/{sub.uuid}/")
    assert response.status_code == 302
    assert response["Location"] == f"/t/contoso/billing/products/apps/{sub.uuid}/"
    stranger = MembershipFactory(tenant=TenantFactory(slug="elsewhere")).user
    assert login(stranger).get(f"/go/apps/{sub.uuid}/").status_code == 404
    assert login(admin).get("/go/apps/00000000-0000-0000-0000-000000000000/").status_code == 404


# The subscription list: the sandbox's own pages, in this process, calling the Fulfillment API
# of the live server over real HTTP with the publisher's credentials.


@pytest.fixture
def quill(marketplace):
    publisher = PublisherFactory(name="Quillfeather Labs", slug="quillfeather")
    sandbox_of(publisher)
    return publisher


@pytest.fixture
def ledger(quill, tenant, admin):
    """An active Ledger Pro of Contoso, 5 licenses on the Team plan (Pro and a stop-sell
    Classic beside it)."""
    app = AppFactory(name="Ledger Pro", publisher=quill, offer_id="ledger-pro")
    team = PlanFactory(app=app, plan_id="team", name="Team", prices={"USD": 900})
    PlanFactory(app=app, plan_id="pro", name="Pro", prices={"USD": 1500}, max_quantity=20)
    PlanFactory(app=app, plan_id="classic", name="Classic", is_stop_sell=True)
    profile = BillingProfileFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(billing_profile=profile, plan=team, unit_amount=900, bought_by=admin)
    return subscription_services.subscription_activate(subscription=sub, actor=Actor.system())


LIST = "/sandbox-publisher/quillfeather/subscriptions/"


def post_change(client, sub, **data):
    return client.post(LIST, {"subscription": str(sub.uuid), **data})


def test_the_list_shows_the_publishers_subscriptions_and_only_its_own(client, quill, ledger):
    other = PublisherFactory(name="Bramblecrest", slug="bramblecrest")
    sandbox_of(other)
    plan = PlanFactory(app=AppFactory(name="Bramble Notes", publisher=other))
    SubscriptionFactory(billing_profile=ledger.billing_profile, plan=plan, name="Bramble Notes")
    flat = PlanFactory(
        app=AppFactory(name="Quill Wiki", publisher=quill, pricing_model=PricingModel.FLAT_RATE)
    )
    SubscriptionFactory(billing_profile=ledger.billing_profile, plan=flat, name="Quill Wiki")

    landing = client.get("/sandbox-publisher/quillfeather/").content.decode()
    assert f'href="{LIST}"' in landing
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Subscriptions</h1>" in html
    assert "Ledger Pro" in html and "Quill Wiki" in html and "Bramble Notes" not in html
    assert "<dd>ledger-pro</dd>" in html and "<dd>Team</dd>" in html
    assert "<dd>5</dd>" in html and "<dd>Unlimited</dd>" in html  # Quill Wiki is flat-rate
    assert "<dd>Active</dd>" in html and "<dd>Waiting for set-up</dd>" in html
    assert ", monthly</dd>" in html and "Subscribed" not in html
    # The active one can change to Pro (not to Team, its own, nor to Classic, no longer sold).
    assert '<option value="pro">' in html
    assert '<option value="team">' not in html and '<option value="classic">' not in html
    assert html.count('value="cancel"') == 1  # only the active one can be canceled here
    other_page = client.get("/sandbox-publisher/bramblecrest/subscriptions/").content.decode()
    assert "Bramble Notes" in other_page and "Ledger Pro" not in other_page


def test_the_list_follows_the_apis_pages_with_its_continuation_token(client, quill, ledger):
    plan = ledger.plan
    for n in range(100):  # 101 in all: two pages
        SubscriptionFactory(billing_profile=ledger.billing_profile, plan=plan, name=f"Seat {n}")
    first = client.get(LIST).content.decode()
    assert first.count("<section ") == 100 and "Seat 99" not in first
    [token] = re.findall(r'href="[^"]*\?next=([^"]+)">Next page', first)
    second = client.get(LIST, {"next": unquote(token)})
    assert second.status_code == 200
    html = second.content.decode()
    assert html.count("<section ") == 1 and "Seat 99" in html and "Next page" not in html
    forged = client.get(LIST, {"next": "not-a-token"})
    assert forged.status_code == 400
    assert "The continuationToken is not valid." in forged.content.decode()
    every = list(client_of(SandboxPublisher.objects.get(slug="quillfeather")).subscriptions())
    assert len(every) == 101 and len({sub["id"] for sub in every}) == 101


def test_a_quantity_change_through_the_page_changes_it_and_charges_or_credits_it(client, ledger):
    response = post_change(client, ledger, action="quantity", quantity="8")
    assert response.status_code == 302 and response["Location"] == LIST
    operation = Operation.objects.get(subscription=ledger)
    page = client.get(LIST).content.decode()
    assert f"Quantity changed to 8: operation {operation.uuid} Succeeded" in page
    ledger.refresh_from_db()
    assert ledger.quantity == 8
    added = Charge.objects.get(subscription_uuid=ledger.uuid, kind=ChargeKind.ADD_QUANTITY)
    assert added.quantity == 3 and 0 < added.amount <= 3 * 900

    post_change(client, ledger, action="quantity", quantity="6")
    ledger.refresh_from_db()
    assert ledger.quantity == 6  # the publisher's decrease applies now, with a credit
    [credit] = Charge.objects.filter(subscription_uuid=ledger.uuid, kind=ChargeKind.REMOVE_QUANTITY)
    assert credit.quantity == 2 and credit.amount < 0


def test_a_plan_change_through_the_page_moves_the_plan_with_one_charge(client, ledger):
    response = post_change(client, ledger, action="plan", plan="pro")
    assert response.status_code == 302
    page = client.get(LIST).content.decode()
    assert "Plan changed to pro: operation" in page and "Succeeded" in page
    ledger.refresh_from_db()
    assert ledger.plan.plan_id == "pro" and ledger.unit_amount == 1500
    [charge] = Charge.objects.filter(subscription_uuid=ledger.uuid, kind=ChargeKind.CHANGE_PLAN)
    assert charge.amount > 0  # Pro costs more: the difference for the rest of the term
    assert '<option value="team">' in page and '<option value="pro">' not in page


def test_a_cancel_through_the_page_ends_the_subscription(client, ledger):
    page = client.get(LIST).content.decode()
    assert "<summary>Cancel subscription</summary>" in page  # asked before it is done
    response = post_change(client, ledger, action="cancel")
    assert response.status_code == 302
    assert "Subscription canceled: operation" in client.get(LIST).content.decode()
    ledger.refresh_from_db()
    assert (ledger.status, ledger.disabled_reason) == (Status.DISABLED, DisabledReason.CANCELED)
    again = post_change(client, ledger, action="cancel")
    assert again.status_code == 400
    assert "The subscription is already Unsubscribed." in again.content.decode()


def test_a_change_the_api_refuses_shows_its_message_and_changes_nothing(client, ledger):
    charges = Charge.objects.count()
    response = post_change(client, ledger, action="quantity", quantity="501")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The marketplace refused it (400): Choose 1 to 500 licenses." in html
    assert "Ledger Pro" in html  # the list is still there
    unknown_plan = post_change(client, ledger, action="plan", plan="nowhere")
    assert unknown_plan.status_code == 400
    assert "The app has no plan &#x27;nowhere&#x27;." in unknown_plan.content.decode()
    ledger.refresh_from_db()
    assert (ledger.quantity, ledger.plan.plan_id) == (5, "team")
    assert Charge.objects.count() == charges and not Operation.objects.exists()
    unreadable = post_change(client, ledger, action="quantity", quantity="many")
    assert unreadable.status_code == 400 and "Enter a whole number." in unreadable.content.decode()


def test_the_list_takes_posts_only_with_its_csrf_token(ledger):
    csrf_client = Client(enforce_csrf_checks=True)
    assert post_change(csrf_client, ledger, action="cancel").status_code == 403
    ledger.refresh_from_db()
    assert ledger.status == Status.ACTIVE


def test_the_list_is_not_there_unless_enabled(client, settings, ledger):
    settings.SANDBOX_PUBLISHER_ENABLED = False
    assert client.get(LIST).status_code == 404
    assert post_change(client, ledger, action="cancel").status_code == 404
    ledger.refresh_from_db()
    assert ledger.status == Status.ACTIVE
    settings.SANDBOX_PUBLISHER_ENABLED = True
    assert client.get("/sandbox-publisher/nobody/subscriptions/").status_code == 404
