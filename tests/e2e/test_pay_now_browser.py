"""Pay now in Chromium, with Stripe.js from the local Stripe server: finance staff open a
card invoice whose automatic charge was declined, pay it with another card whose bank asks
for 3-D Secure, confirm in the bank's window, and see the invoice paid."""

import datetime
import uuid

from playwright.sync_api import expect

from billing.models import InvoiceStatus, ProfileRole
from billing.services import charge_create, invoicing_run

from ..billing.conftest import DECLINES_CHARGES, card_profile
from ..factories import BillingProfileRoleFactory, PlanFactory
from .conftest import sign_in
from .test_billing_browser import type_card


def test_finance_staff_pay_a_declined_card_invoice_with_another_card(
    live_server, page, console_errors, screenshot, tenant, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    profile = card_profile(tenant, DECLINES_CHARGES, name="Contoso HQ")
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.INVOICE_MANAGER)
    made = datetime.datetime(2026, 11, 10, tzinfo=datetime.UTC)
    charge_create(
        profile=profile,
        subscription_uuid=uuid.uuid4(),
        plan=PlanFactory(app__name="Ledger Pro", name="Team"),
        kind="purchase",
        description="Ledger Pro, Team: 5 licenses",
        quantity=5,
        unit_amount=1800,
        amount=9000,
        period_start=made.date(),
        period_end=made.date() + datetime.timedelta(days=30),
        at=made,
    )
    invoicing_run(day=datetime.date(2026, 12, 1))  # its first charge, declined, on commit
    invoice = profile.invoices.get()
    assert invoice.status == InvoiceStatus.OPEN

    sign_in(page, live_server, member)
    page.get_by_role("link", name=invoice.number).click()
    page.get_by_role("link", name="Pay now").click()
    expect(page.get_by_role("heading", name=f"Pay invoice {invoice.number}")).to_be_visible()
    expect(page.get_by_label("Visa ending 0341 (expires 12/2031)")).to_be_checked()
    screenshot(page, "invoice-pay")
    page.get_by_label("Another card").check()
    expect(page.locator("#card-element input")).to_have_count(5)  # Stripe.js ran
    type_card(page, "4000002500003155", "12", "30", "123", "98052")
    page.get_by_role("button", name="Pay $90.00").click()
    # The bank's window, twice: to save the card, then to confirm the payment.
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Confirm with your bank")).to_be_visible()
    screenshot(page, "invoice-pay-3ds")
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text(f"{invoice.number} is paid. Thank you.")).to_be_visible()
    expect(page.get_by_text("Paid", exact=True).first).to_be_visible()
    payments = page.locator("table.payments tbody tr")
    expect(payments).to_have_count(1)
    expect(payments.first).to_contain_text("Card")
    screenshot(page, "invoice-paid")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus.PAID, 0)
    assert console_errors == []
