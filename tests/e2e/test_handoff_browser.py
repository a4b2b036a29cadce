"""Manage in publisher's portal in Chromium: the button's POST answers with a redirect to
the publisher's landing page on another origin, which the page's Content Security Policy
lets the form follow (form-action covers redirects), with the token in the URL."""

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from subscriptions import services

from ..factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)
from .conftest import sign_in


def test_the_button_takes_the_admin_to_the_publishers_landing_page_with_a_token(
    live_server, page, console_errors, screenshot, tenant, admin
):
    port = urlsplit(live_server.url).port
    # Another origin than the portal's (localhost): the same server, by its IP.
    landing = f"http://127.0.0.1:{port}/accounts/login/"
    publisher = PublisherFactory(name="Quillfeather Labs", landing_page_url=landing)
    plan = PlanFactory(app=AppFactory(name="Ledger Pro", publisher=publisher))
    profile = BillingProfileFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(billing_profile=profile, plan=plan)
    sign_in(page, live_server, admin, f"/t/contoso/billing/products/apps/{sub.uuid}/bought/")
    expect(page.get_by_role("button", name="Set up account now")).to_be_visible()
    screenshot(page, "apps_bought_setup")
    page.goto(f"{live_server.url}/t/contoso/billing/products/apps/{sub.uuid}/")
    page.get_by_role("button", name="Manage in publisher's portal").click()
    page.wait_for_url(f"{landing}?token=*")
    [token] = parse_qs(urlsplit(page.url).query)["token"]
    assert services.subscription_for_marketplace_token(token, publisher=publisher) == sub
    assert not [error for error in console_errors if "Content Security Policy" in error]
