"""Card invoices, charged off-session through the local Stripe server: at issue, in a task
queued when the invoice run's chunk commits (never in the run), then retried 1, 3, 5 and 7
days after issue while open, each failure e-mailing the invoice recipients once. The same
attempt asked again is the same charge (its idempotency key); Stripe's webhook settles an
attempt the task never heard back from, and nothing twice."""

import datetime
import time
import uuid

import pytest
from django.core import mail
from django.urls import reverse

from billing import stripe_gateway
from billing.models import (
    CardChargeAttempt,
    ChargeAttemptStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from billing.services import (
    charge_create,
    invoicing_run,
)
from billing.services.card_charges import card_charge_ask, card_charge_claim, card_charges_due
from billing.tasks import card_charges_sweep, charge_card_invoice
from tests.factories import BillingProfileFactory, PlanFactory

from .conftest import DECLINES_CHARGES, card_profile, signed

pytestmark = pytest.mark.django_db

ISSUED = datetime.date(2026, 12, 1)


def issue(profile, amount=9000, tasks=None):
    """A November charge, then the run of Dec 1; `tasks` (django_capture_on_commit_callbacks)
    runs what its commit queues (Celery eager: the PDF, the first card charge)."""
    made = datetime.datetime(2026, 11, 10, tzinfo=datetime.UTC)
    charge_create(
        profile=profile,
        subscription_uuid=uuid.uuid4(),
        plan=PlanFactory(),
        kind="purchase",
        description="Ledger Pro, Team: 5 licenses",
        quantity=5,
        unit_amount=amount // 5,
        amount=amount,
        period_start=made.date(),
        period_end=made.date() + datetime.timedelta(days=30),
        at=made,
    )
    if tasks is None:
        invoicing_run(day=ISSUED)
    else:
        with tasks(execute=True):
            invoicing_run(day=ISSUED)
    return Invoice.objects.get(billing_profile=profile)


def test_a_good_card_is_charged_at_issue_and_the_invoice_paid(
    tenant, django_capture_on_commit_callbacks
):
    invoice = issue(card_profile(tenant), tasks=django_capture_on_commit_callbacks)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 0, invoice.total)
    (attempt,) = invoice.card_attempts.all()
    assert attempt.status == ChargeAttemptStatus.SUCCEEDED and attempt.payment_intent_id
    assert attempt.idempotency_key == f"invoice-{invoice.uuid}-charge-1"
    payment = invoice.payments.get()
    assert (payment.method, payment.amount) == (PaymentMethod.CARD, invoice.total)
    assert payment.stripe_payment_intent_id == attempt.payment_intent_id
    assert mail.outbox == []
    assert charge_card_invoice(invoice.pk, 1) == "nothing to do"  # the task again
    assert card_charges_due(ISSUED + datetime.timedelta(days=3)) == []


def test_a_declining_card_is_retried_on_days_1_3_5_and_7_each_failure_mailed_once(
    tenant, django_capture_on_commit_callbacks
):
    invoice = issue(
        card_profile(tenant, DECLINES_CHARGES), tasks=django_capture_on_commit_callbacks
    )
    first = invoice.card_attempts.get()
    assert first.status == ChargeAttemptStatus.FAILED and "declined" in first.error
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@contoso.example"] and invoice.number in message.subject
    assert f"/t/contoso/billing/bills/invoices/{invoice.uuid}/" in message.body
    assert "again on 2 December 2026" in message.body

    for day in range(0, 10):
        today = ISSUED + datetime.timedelta(days=day)
        for _ in range(2):  # a second sweep the same day sends nothing
            with django_capture_on_commit_callbacks(execute=True):
                card_charges_sweep(today.isoformat())
    attempts = list(invoice.card_attempts.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3, 4, 5]
    assert {a.status for a in attempts} == {ChargeAttemptStatus.FAILED}
    assert len({a.idempotency_key for a in attempts}) == 5
    assert len(mail.outbox) == 5
    assert "That was the last automatic try: unless the invoice is paid" in mail.outbox[-1].body
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and not Payment.objects.exists()


def test_the_same_attempt_asked_again_is_the_same_charge(tenant):
    """The task died after Stripe charged the card and before it kept the answer: run
    again, it sends the same idempotency key, Stripe answers with the same PaymentIntent,
    and the invoice is paid once."""
    profile = card_profile(tenant)
    invoice = issue(profile)  # on-commit tasks not run: nothing charged yet
    attempt = card_charge_claim(invoice.pk, 1)
    lost = card_charge_ask(attempt)  # Stripe charged; the answer never kept
    assert lost.succeeded
    assert charge_card_invoice(invoice.pk, 1) == ChargeAttemptStatus.SUCCEEDED
    attempt.refresh_from_db()
    assert attempt.payment_intent_id == lost.id
    assert invoice.payments.get().stripe_payment_intent_id == lost.id
    assert charge_card_invoice(invoice.pk, 1) == "nothing to do"


def stripe_event(kind, obj):
    return {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
            "created": int(time.time()), "data": {"object": obj}}  # fmt: skip


def deliver(client, event):
    body, signature = signed(event)
    return client.post(
        reverse("stripe_webhook"),
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )


def test_stripes_webhook_settles_an_attempt_the_task_never_heard_back_from(client, tenant):
    profile = card_profile(tenant)
    invoice = issue(profile)
    attempt = card_charge_claim(invoice.pk, 1)
    charged = card_charge_ask(attempt)
    # The body says nothing the handler believes: it reads the PaymentIntent back.
    event = stripe_event("payment_intent.succeeded", {"id": charged.id, "status": "failed"})
    assert deliver(client, event).status_code == 200
    assert deliver(client, event).status_code == 200  # Stripe sends it again
    attempt.refresh_from_db()
    invoice.refresh_from_db()
    assert attempt.status == ChargeAttemptStatus.SUCCEEDED and invoice.status == "paid"
    assert invoice.payments.count() == 1
    assert charge_card_invoice(invoice.pk, 1) == "nothing to do"
    # Another payment naming no invoice of ours changes nothing.
    stranger = stripe_gateway.payment_intent_charge(
        customer_id=profile.stripe_customer_id,
        payment_method_id=profile.stripe_payment_method_id,
        amount=500,
        currency=attempt.currency,
        idempotency_key=f"other-{uuid.uuid4()}",
        metadata={"invoice": "not-a-uuid"},
    )
    assert (
        deliver(client, stripe_event("payment_intent.succeeded", {"id": stranger.id})).status_code
        == 200
    )
    assert Payment.objects.count() == 1


def test_a_profile_without_a_card_fails_in_words(tenant, django_capture_on_commit_callbacks):
    profile = BillingProfileFactory(tenant=tenant, payment_method=PaymentMethod.CARD)
    invoice = issue(profile, tasks=django_capture_on_commit_callbacks)
    attempt = invoice.card_attempts.get()
    assert attempt.status == ChargeAttemptStatus.FAILED
    assert attempt.error == "There is no card on file for this billing profile."
    assert CardChargeAttempt.objects.count() == 1 and len(mail.outbox) == 1
