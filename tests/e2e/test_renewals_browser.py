"""Billing > Renewals in Chromium: the month's rows, the billing profile filter updating the
list in place (and the URL and the CSV link with it), and a row's link to the app page,
which says the same dates."""

import datetime
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from portal.audit import Actor
from subscriptions import services
from subscriptions.models import Subscription
from subscriptions.services.common import utc_day

from ..factories import AppFactory, BillingProfileFactory, PlanFactory, SubscriptionFactory
from .conftest import sign_in


def active(profile, name, ends):
    plan = PlanFactory(app=AppFactory(name=name), prices={"USD": 900})
    sub = SubscriptionFactory(billing_profile=profile, plan=plan, unit_amount=900)
    sub = services.subscription_activate(subscription=sub, actor=Actor.system("publisher"))
    end = utc_day(timezone.now()) + datetime.timedelta(days=ends)
    Subscription.objects.filter(pk=sub.pk).update(
        term_start=end - datetime.timedelta(days=30), term_end=end
    )
    return end


def test_an_admin_reads_the_renewals_filters_them_and_opens_an_app(
    live_server, page, console_errors, screenshot, tenant, admin
):
    hq = BillingProfileFactory(tenant=tenant, name="Contoso HQ", is_default=True)
    research = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    active(hq, "Ledger Pro", 5)
    ends = active(research, "Roster Plus", 40)
    sign_in(page, live_server, admin, "/t/contoso/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Renewals").click()
    expect(page.get_by_role("heading", name="Renewals", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Ledger Pro")).to_be_visible()
    expect(page.get_by_role("link", name="Roster Plus")).to_be_visible()
    screenshot(page, "renewals")

    page.get_by_label("Billing profile").select_option(label="Contoso Research")
    expect(page.get_by_role("link", name="Ledger Pro")).to_have_count(0)  # htmx, no button
    expect(page.get_by_role("link", name="Roster Plus")).to_be_visible()
    assert f"billing_profile={research.uuid}" in page.url
    csv_link = page.get_by_role("link", name="Download CSV")
    expect(csv_link).to_have_attribute(
        "href", f"/t/contoso/billing/renewals/export.csv?billing_profile={research.uuid}"
    )
    with page.expect_download() as download:
        csv_link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Roster Plus" in text and "Ledger Pro" not in text

    page.get_by_role("link", name="Roster Plus").click()
    expect(page.get_by_text(f"Renews on {ends:%-d %B %Y} at $45.00 for 5 licenses")).to_be_visible()
    change_by = ends - datetime.timedelta(days=1)
    expect(page.get_by_text(f"lower the licenses by {change_by:%-d %b %Y}")).to_be_visible()
    assert console_errors == []
