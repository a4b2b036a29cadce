"""The seed's activation journey in Chromium, with the sandbox publisher as the third party
over real HTTP: an app pending set-up, Manage in publisher's portal, the publisher's landing
page (which resolves the token through the Fulfillment API), Activate, back to the portal:
Active, and the first term charged."""

from playwright.sync_api import expect

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from publishers import services as publisher_services
from publishers.sandbox.models import SandboxPublisher
from subscriptions.lifecycle import Status
from subscriptions.models import Subscription

from ..factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)
from .conftest import sign_in


def test_an_admin_hands_an_app_to_the_publisher_who_activates_it(
    live_server, page, console_errors, screenshot, settings, tenant, admin
):
    settings.SANDBOX_PUBLISHER_ENABLED = True
    settings.PORTAL_BASE_URL = live_server.url
    publisher = PublisherFactory(
        name="Quillfeather Labs",
        slug="quillfeather",
        landing_page_url=f"{live_server.url}/sandbox-publisher/quillfeather/",
    )
    _, secret = publisher_services.publisher_secret_create(
        publisher=publisher, actor=Actor.system()
    )
    SandboxPublisher.objects.create(
        slug="quillfeather",
        name="Quillfeather Labs",
        client_id=str(publisher.client_id),
        client_secret=secret,
    )
    app = AppFactory(name="Ledger Pro", publisher=publisher, offer_id="ledger-pro")
    plan = PlanFactory(app=app, plan_id="team", prices={"USD": 900})
    profile = BillingProfileFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(billing_profile=profile, plan=plan, unit_amount=900, bought_by=admin)

    sign_in(page, live_server, admin, f"/t/contoso/billing/products/apps/{sub.uuid}/")
    expect(page.get_by_text("Pending set-up").first).to_be_visible()
    page.get_by_role("button", name="Manage in publisher's portal").click()

    # The publisher's site: it resolved the token through the API.
    expect(page.get_by_role("heading", name="Set up Ledger Pro")).to_be_visible()
    expect(page.get_by_text(admin.email)).to_be_visible()
    expect(page.get_by_text("PendingFulfillmentStart")).to_be_visible()
    screenshot(page, "sandbox_landing")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Ledger Pro is active")).to_be_visible()
    screenshot(page, "sandbox_activated")
    page.get_by_role("link", name="Back to the marketplace portal").click()

    expect(page.get_by_text("Active: your people can use it.")).to_be_visible()
    assert page.url == f"{live_server.url}/t/contoso/billing/products/apps/{sub.uuid}/"
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    charge = Charge.objects.get(kind=ChargeKind.PURCHASE)
    assert charge.amount == 4500
    assert Subscription.objects.count() == 1
    assert console_errors == []
