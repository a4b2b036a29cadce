"""Pay now, against the local Stripe server: an open card invoice paid in the page with the
card on file or another card, confirmed with 3-D Secure where the bank asks; the outcome is
read from Stripe, a double submit charges once, and only those who may pay see it."""

import datetime
import re
import uuid

import pytest
import requests
from django.conf import settings

from billing.models import ChargeAttemptStatus, Invoice, InvoiceStatus, Payment, ProfileRole
from billing.services import charge_create, invoicing_run
from tests.factories import BillingProfileRoleFactory, PlanFactory

from .conftest import DECLINES_CHARGES, VISA, card_profile, confirm_card_in_browser

pytestmark = pytest.mark.django_db

THREE_D_SECURE = "4000002500003155"  # every payment asks its holder to confirm


def issue(profile, tasks):
    made = datetime.datetime(2026, 11, 10, tzinfo=datetime.UTC)
    charge_create(
        profile=profile,
        subscription_uuid=uuid.uuid4(),
        plan=PlanFactory(),
        kind="purchase",
        description="Ledger Pro, Team: 5 licenses",
        quantity=5,
        unit_amount=1800,
        amount=9000,
        period_start=made.date(),
        period_end=made.date() + datetime.timedelta(days=30),
        at=made,
    )
    with tasks(execute=True):
        invoicing_run(day=datetime.date(2026, 12, 1))
    return Invoice.objects.get(billing_profile=profile)


@pytest.fixture
def declined(tenant, member, django_capture_on_commit_callbacks):
    """A card invoice whose first charge was declined; the finance member manages its
    invoices."""
    profile = card_profile(tenant, DECLINES_CHARGES)
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.INVOICE_MANAGER)
    invoice = issue(profile, django_capture_on_commit_callbacks)
    assert invoice.card_attempts.get().status == ChargeAttemptStatus.FAILED
    return invoice


def pay_url(invoice):
    return f"/t/contoso/billing/bills/invoices/{invoice.uuid}/pay/"


def page_key(page) -> str:
    return re.search(r'name="key" value="([0-9a-f-]+)"', page.content.decode()).group(1)


def setup_secret(page) -> str:
    return re.search(r'data-client-secret="([^"]+)"', page.content.decode()).group(1)


def test_the_saved_card_declined_then_another_card_pays(login, member, declined):
    finance = login(member)
    detail = finance.get(f"/t/contoso/billing/bills/invoices/{declined.uuid}/").content.decode()
    assert "Pay now" in detail and "Automatic card charges" in detail
    assert "Declined</span> Your card was declined." in detail
    page = finance.get(pay_url(declined))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Pay $90.00" in text and "Visa ending 0341" in text
    assert "Also charge this profile's invoices" not in text  # an invoice manager may not

    again = finance.post(pay_url(declined), {"key": page_key(page), "source": "saved"})
    assert again.status_code == 422 and "declined" in again.content.decode()
    declined.refresh_from_db()
    assert declined.status == InvoiceStatus.OPEN and not Payment.objects.exists()

    secret = setup_secret(again)
    assert "error" not in confirm_card_in_browser(secret, VISA)
    key = page_key(again)
    form = {"key": key, "source": "new", "setup_intent": secret.split("_secret_")[0]}
    paid = finance.post(pay_url(declined), {**form, "save_card": "on"})
    assert paid.status_code == 302 and paid["Location"].endswith(f"/invoices/{declined.uuid}/")
    declined.refresh_from_db()
    assert (declined.status, declined.amount_due) == (InvoiceStatus.PAID, 0)
    payment = declined.payments.get()
    assert payment.method == "card" and payment.stripe_payment_intent_id.startswith("pi_")
    declined.billing_profile.refresh_from_db()
    assert declined.billing_profile.card_last4 == "0341"  # not saved: not theirs to change
    # The same form again (a double submit): nothing more is charged or recorded.
    twice = finance.post(pay_url(declined), form)
    assert twice.status_code == 302 and Payment.objects.count() == 1
    shown = finance.get(twice["Location"]).content.decode()
    assert "is not open: there is nothing to pay on it." in shown and "Pay now" not in shown
    assert Payment.objects.count() == 1


def test_a_bank_that_asks_for_3d_secure_is_confirmed_in_the_page(
    login, billing_admin, tenant, django_capture_on_commit_callbacks
):
    profile = card_profile(tenant, DECLINES_CHARGES)
    invoice = issue(profile, django_capture_on_commit_callbacks)
    admin = login(billing_admin)
    page = admin.get(pay_url(invoice))
    assert "Also charge this profile's invoices" in page.content.decode()
    secret = setup_secret(page)
    first = confirm_card_in_browser(secret, THREE_D_SECURE)
    assert first["status"] == "requires_action"
    seti = secret.split("_secret_")[0]
    requests.post(  # the holder confirms the card with the bank, as Stripe.js has them
        f"{settings.STRIPE_API_BASE}/v1/setup_intents/{seti}/confirm",
        json={"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": secret},
        timeout=10,
    ).raise_for_status()
    form = {"key": page_key(page), "source": "new", "setup_intent": seti, "save_card": "on"}
    asked = admin.post(pay_url(invoice), form)
    assert asked.status_code == 200
    text = asked.content.decode()
    assert "Confirm with your bank" in text
    pi_secret = re.search(r'id="pay-authenticate"[^>]*data-client-secret="([^"]+)"', text)[1]
    pi = pi_secret.split("_secret_")[0]
    # Before the holder confirms, the page's word is not taken: nothing is recorded.
    early = admin.post(pay_url(invoice), {"key": page_key(asked), "source": "saved",
                                          "payment_intent": pi})  # fmt: skip
    assert early.status_code == 422 and not Payment.objects.exists()
    requests.post(
        f"{settings.STRIPE_API_BASE}/v1/payment_intents/{pi}/_authenticate?success=true",
        json={"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": pi_secret},
        timeout=10,
    ).raise_for_status()
    done = admin.post(pay_url(invoice), {"key": page_key(asked), "source": "saved",
                                         "payment_intent": pi})  # fmt: skip
    assert done.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payments.get().stripe_payment_intent_id == pi
    profile.refresh_from_db()
    assert profile.card_last4 == "3155"  # saved: a billing admin may


def test_another_invoices_payment_or_a_reader_is_refused(
    login, member, declined, tenant, django_capture_on_commit_callbacks
):
    other = issue(card_profile(tenant, VISA), django_capture_on_commit_callbacks)
    assert other.status == InvoiceStatus.PAID
    finance = login(member)
    page = finance.get(pay_url(declined))
    foreign = finance.post(pay_url(declined), {"key": page_key(page), "source": "saved",
                                               "payment_intent": other.payments.get()
                                               .stripe_payment_intent_id})  # fmt: skip
    assert foreign.status_code == 422 and "nothing was recorded" in foreign.content.decode()
    declined.refresh_from_db()
    assert declined.status == InvoiceStatus.OPEN
    BillingProfileRoleFactory(profile=other.billing_profile, user=member, role=ProfileRole.READER)
    assert finance.get(pay_url(other)).status_code == 403
