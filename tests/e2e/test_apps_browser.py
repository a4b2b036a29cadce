"""The seed's path in Chromium: buy a per-seat app, find it under Billing > Your products >
Apps, change its licenses before and after the publisher activates it, move it to another
billing profile, turn auto-renew off, cancel it, and buy it again."""

from playwright.sync_api import expect

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from publishers.models import Term
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.models import Subscription

from ..factories import AppFactory, BillingProfileFactory, PlanFactory, PublisherFactory
from .conftest import sign_in


def test_an_admin_buys_changes_moves_cancels_and_buys_again(
    live_server, page, console_errors, screenshot, tenant, admin
):
    BillingProfileFactory(tenant=tenant, name="Contoso HQ", is_default=True)
    BillingProfileFactory(tenant=tenant, name="Contoso Research")
    ledger = AppFactory(name="Ledger Pro", publisher=PublisherFactory(name="Quillfeather Labs"))
    PlanFactory(
        app=ledger,
        name="Team",
        term=Term.MONTHLY,
        min_quantity=1,
        max_quantity=50,
        prices={"USD": 900},
    )
    sign_in(page, live_server, admin, "/t/contoso/")

    # Marketplace > Ledger Pro > Buy
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marketplace").click()
    page.get_by_role("link", name="Ledger Pro").click()
    page.get_by_role("link", name="Buy Team").click()
    page.get_by_label("Licenses").fill("5")
    expect(page.get_by_text("First term: $45.00")).to_be_visible()  # htmx: updated as typed
    page.get_by_role("button", name="Buy").click()
    expect(page.get_by_text("The customer agreement", exact=False).first).to_be_visible()
    page.get_by_label("I accept the customer agreement").check()
    page.get_by_role("button", name="Buy").click()
    expect(
        page.get_by_role("heading", name="Next step: set it up in Quillfeather Labs's portal")
    ).to_be_visible()
    screenshot(page, "apps_bought")

    # Billing > Your products > Apps: pending set-up
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your products").click()
    expect(page.get_by_role("link", name="Apps")).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row", name="Ledger Pro")
    expect(row.get_by_text("Pending set-up")).to_be_visible()
    screenshot(page, "apps_list")
    row.get_by_role("link", name="Ledger Pro").click()
    expect(page.get_by_text("Manage in publisher's portal")).to_be_visible()

    # Change license quantity while pending: no charge
    page.get_by_role("link", name="Change license quantity").click()
    page.get_by_label("Licenses").fill("7")
    expect(
        page.get_by_text("nothing is charged until the publisher sets the app up")
    ).to_be_visible()
    page.get_by_role("button", name="Change to 7 licenses").click()
    expect(page.get_by_text("Licenses7", exact=False)).to_be_visible()

    # The publisher activates it (the Publisher API issue will do this over HTTP).
    sub = Subscription.objects.get()
    services.subscription_activate(subscription=sub, actor=Actor.system("publisher"))
    page.reload()
    expect(page.get_by_text("Active: your people can use it.")).to_be_visible()

    # An increase: the prorated amount before confirming
    page.get_by_role("link", name="Change license quantity").click()
    page.get_by_label("Licenses").fill("10")
    expect(page.get_by_text("10 licenses from today: $27.00 is charged now")).to_be_visible()
    screenshot(page, "apps_quantity")
    page.get_by_role("button", name="Change to 10 licenses").click()
    expect(page.get_by_role("status").or_(page.locator(".message")).first).to_be_visible()

    # Billing profile > Edit
    page.get_by_role("link", name="Edit billing profile").click()
    expect(page.get_by_role("dialog", name="Billing profile")).to_be_visible()  # side panel
    page.get_by_label("Contoso Research").check()
    screenshot(page, "apps_billing_profile")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Contoso Research pays for Ledger Pro from now on.")).to_be_visible()

    # Auto-renew off
    page.get_by_role("button", name="Turn auto-renew off").click()
    expect(page.get_by_text("Ledger Pro expires after")).to_be_visible()

    # Cancel subscription: what happens, in money
    page.get_by_role("link", name="Cancel subscription").click()
    expect(page.get_by_text("the full first charge, $90.00, is credited")).to_be_visible()
    screenshot(page, "apps_cancel")
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_text("Ledger Pro is canceled.")).to_be_visible()
    expect(page.get_by_text("A disabled app can't be reactivated")).to_be_visible()
    screenshot(page, "apps_disabled")
    sub.refresh_from_db()
    assert sub.status == Status.DISABLED
    assert sum(Charge.objects.of_subscription(sub.uuid).values_list("amount", flat=True)) == 0
    assert Charge.objects.filter(kind=ChargeKind.ADD_QUANTITY).count() == 1

    # Buy again: the same plan, prefilled
    page.get_by_role("link", name="Buy again").click()
    expect(page.get_by_label("Licenses")).to_have_value("10")
    page.get_by_label("I accept the customer agreement").check()
    page.get_by_role("button", name="Buy").click()
    expect(page.get_by_role("heading", name="Next step", exact=False)).to_be_visible()
    assert Subscription.objects.count() == 2
    # The one refused purchase (no agreement) answered 422, which Chromium logs; nothing else.
    assert [e for e in console_errors if "status of 422" not in e] == []
