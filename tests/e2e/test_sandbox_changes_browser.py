"""The sandbox publisher's subscription list in Chromium: the publisher changes a
subscription's licenses there, through the Fulfillment API over real HTTP, and reads what
the API answered; the page fits a phone's width."""

from playwright.sync_api import expect

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from publishers import services as publisher_services
from publishers.models import PricingModel
from publishers.sandbox.models import SandboxPublisher
from subscriptions import services
from subscriptions.models import Operation

from ..factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)


def fits(page, width):
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_publisher_changes_licenses_on_its_subscription_list(
    live_server, page, console_errors, screenshot, settings, tenant, admin
):
    settings.SANDBOX_PUBLISHER_ENABLED = True
    settings.PORTAL_BASE_URL = live_server.url
    publisher = PublisherFactory(name="Quillfeather Labs", slug="quillfeather")
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
    team = PlanFactory(app=app, plan_id="team", name="Team", prices={"USD": 900})
    PlanFactory(app=app, plan_id="pro", name="Pro", prices={"USD": 1500})
    profile = BillingProfileFactory(tenant=tenant, is_default=True)
    ledger = services.subscription_activate(
        subscription=SubscriptionFactory(
            billing_profile=profile, plan=team, unit_amount=900, bought_by=admin
        ),
        actor=Actor.system(),
    )
    SubscriptionFactory(
        billing_profile=profile,
        plan=team,
        name="Ledger Pro for the accounts team in the Amsterdam office",
        bought_by=admin,
    )
    wiki = AppFactory(
        name="Quill Wiki",
        publisher=publisher,
        offer_id="quill-wiki-for-teams-with-a-long-offer-id",
        pricing_model=PricingModel.FLAT_RATE,
    )
    flat = PlanFactory(app=wiki, plan_id="everyone", name="Everyone")
    services.subscription_activate(
        subscription=SubscriptionFactory(billing_profile=profile, plan=flat, bought_by=admin),
        actor=Actor.system(),
    )

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/sandbox-publisher/quillfeather/")
    page.get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_role("heading", name="Subscriptions", exact=True)).to_be_visible()
    assert fits(page, 1366)
    screenshot(page, "sandbox_list_1366")

    card = page.get_by_role("region", name="Ledger Pro", exact=True)
    card.get_by_label("Licenses").fill("8")
    card.get_by_role("button", name="Change quantity").click()
    operation = Operation.objects.get(subscription=ledger)
    expect(page.get_by_role("status")).to_have_text(
        f"Quantity changed to 8: operation {operation.uuid} Succeeded"
    )
    expect(card.get_by_label("Licenses")).to_have_value("8")
    ledger.refresh_from_db()
    assert ledger.quantity == 8
    assert Charge.objects.filter(subscription_uuid=ledger.uuid, kind=ChargeKind.ADD_QUANTITY)

    card.get_by_text("Cancel subscription").click()  # the confirmation opens
    expect(card.get_by_role("button", name="Yes, cancel Ledger Pro")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits(page, 390)
    screenshot(page, "sandbox_list_390")
    assert console_errors == []
