"""Credit notes and the money they give back: against an open invoice they lower its amount
due; against an invoice a card paid they are refunded to that card through the local Stripe
server (once, whether the task or Stripe's webhook settles it); against one paid by check or
wire the credit stays on the profile and lowers its next invoice. Shown on both documents."""

import datetime
import time
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from billing import stripe_gateway
from billing.models import (
    CreditApplication,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Refund,
    RefundStatus,
)
from billing.services import charge_create, credit_create, invoicing_run
from billing.services.refunds import refund_send
from billing.tasks import refund_to_card
from tests.factories import BillingProfileFactory, PlanFactory

from .conftest import VISA, card_profile, signed

pytestmark = pytest.mark.django_db
NOVEMBER = datetime.datetime(2026, 11, 10, 9, tzinfo=datetime.UTC)
DECEMBER = datetime.datetime(2026, 12, 12, 9, tzinfo=datetime.UTC)


def bill(profile, amount=9000):
    """A November purchase (a month from Nov 10) and the Dec 1 run."""
    return charge_create(
        profile=profile,
        subscription_uuid=uuid.uuid4(),
        plan=PlanFactory(app__name="Ledger Pro"),
        kind="purchase",
        description="Ledger Pro, Team: 5 licenses",
        quantity=5,
        unit_amount=amount // 5,
        amount=amount,
        period_start=NOVEMBER.date(),
        period_end=NOVEMBER.date() + datetime.timedelta(days=30),
        at=NOVEMBER,
    )


def cancel(debit, amount):
    credit_create(
        subscription_uuid=debit.subscription_uuid,
        term_end=debit.period_end,
        kind="cancel_credit",
        amount=amount,
        description="Canceled: Ledger Pro",
        unit_amount=debit.unit_amount,
        period_start=debit.period_start,
        at=DECEMBER,
    )


def run(day, tasks=None):
    if tasks is None:
        return invoicing_run(day=day)
    with tasks(execute=True):
        return invoicing_run(day=day)


def test_a_credit_note_against_a_card_paid_invoice_is_refunded_to_the_card(
    tenant, login, admin, django_capture_on_commit_callbacks
):
    profile = card_profile(tenant, VISA)
    debit = bill(profile)
    run(datetime.date(2026, 12, 1), django_capture_on_commit_callbacks)
    invoice = profile.invoices.get()
    assert invoice.status == InvoiceStatus.PAID  # charged at issue
    cancel(debit, 3000)
    run(datetime.date(2027, 1, 1), django_capture_on_commit_callbacks)
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    refund = Refund.objects.get()
    assert (refund.credit_note, refund.invoice, refund.amount) == (note, invoice, 3000)
    assert refund.status == RefundStatus.SUCCEEDED and refund.stripe_refund_id.startswith("re_")
    note.refresh_from_db()
    assert (note.amount_due, note.status, note.status_words) == (0, "paid", "Applied")
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (invoice.total, InvoiceStatus.PAID)
    assert refund_to_card(refund.pk) == RefundStatus.SUCCEEDED  # the task again: nothing
    assert Refund.objects.count() == 1

    client = login(admin)
    shown = client.get(f"/t/contoso/billing/bills/invoices/{invoice.uuid}/").content.decode()
    assert "refunded to the card" in shown and note.number in shown
    shown = client.get(f"/t/contoso/billing/bills/invoices/{note.uuid}/").content.decode()
    assert "refunded to the card" in shown and invoice.number in shown


def test_stripes_webhook_settles_a_refund_the_task_never_heard_back_from(
    tenant, client, django_capture_on_commit_callbacks
):
    profile = card_profile(tenant, VISA)
    debit = bill(profile)
    run(datetime.date(2026, 12, 1), django_capture_on_commit_callbacks)
    cancel(debit, 9000)
    run(datetime.date(2027, 1, 1))  # its tasks not run: the refund waits
    refund = Refund.objects.select_related("payment").get()
    assert refund.status == RefundStatus.PENDING
    # The task asked Stripe and died before keeping the answer.
    asked = stripe_gateway.refund_create(
        payment_intent_id=refund.payment.stripe_payment_intent_id,
        amount=refund.amount,
        idempotency_key=refund.idempotency_key,
        metadata={"refund": str(refund.uuid), "credit_note": refund.credit_note.number},
    )
    assert asked.status == "succeeded"
    intent = stripe_gateway.client().v1.payment_intents.retrieve(
        refund.payment.stripe_payment_intent_id
    )
    charge = intent.latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "charge.refunded",
        "created": int(time.time()),
        "data": {"object": {"id": charge_id, "object": "charge"}},
    }
    body, signature = signed(event)
    response = client.post(
        reverse("stripe_webhook"),
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )
    assert response.status_code == 200
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.stripe_refund_id == asked.id
    # The task, given again, asks nothing more; asked anyway, it is the same refund.
    assert refund_send(refund.pk).stripe_refund_id == asked.id
    assert len(stripe_gateway.refunds_of_charge(charge_id)) == 1


def test_credit_against_a_check_wire_invoice_paid_lowers_the_next_invoice(tenant, login, admin):
    profile = BillingProfileFactory(tenant=tenant)
    debit = bill(profile)
    run(datetime.date(2026, 12, 1))
    invoice = profile.invoices.get()
    call_command(
        "record_payment", invoice.number, "--amount", "90.00", "--reference", "W1",
        stdout=StringIO(),
    )  # fmt: skip
    cancel(debit, 3000)
    bill_again = charge_create(
        profile=profile,
        subscription_uuid=uuid.uuid4(),
        plan=PlanFactory(),
        kind="purchase",
        description="Another app",
        quantity=1,
        unit_amount=5000,
        amount=5000,
        period_start=DECEMBER.date(),
        period_end=DECEMBER.date() + datetime.timedelta(days=31),
        at=DECEMBER,
    )
    assert bill_again.amount == 5000
    run(datetime.date(2027, 1, 1))
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    january = profile.invoices.get(kind=InvoiceKind.INVOICE, issue_date=datetime.date(2027, 1, 1))
    assert not Refund.objects.exists()
    assert (january.total, january.amount_due) == (5000, 2000)
    note.refresh_from_db()
    assert (note.amount_due, note.status) == (0, InvoiceStatus.PAID)
    (applied,) = CreditApplication.objects.all()
    assert (applied.credit_note, applied.invoice, applied.amount) == (note, january, 3000)
    shown = login(admin).get(f"/t/contoso/billing/bills/invoices/{january.uuid}/").content
    assert b"credited by" in shown and note.number.encode() in shown


def test_credit_left_with_no_invoice_to_lower_stays_due_to_the_customer(tenant):
    profile = BillingProfileFactory(tenant=tenant)
    debit = bill(profile)
    run(datetime.date(2026, 12, 1))
    invoice = profile.invoices.get()
    Invoice.objects.filter(pk=invoice.pk).update(amount_due=0, amount_paid=9000, status="paid")
    cancel(debit, 3000)
    run(datetime.date(2027, 1, 1))
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert (note.amount_due, note.status_words) == (3000, "Credit due")
