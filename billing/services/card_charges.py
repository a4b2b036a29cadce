"""Card invoices are charged off-session, in Celery tasks, never in the invoice run: the
first charge when the invoice is issued (due on receipt), then retries 1, 3, 5 and 7 days
after issue while it is still open. Each failure e-mails the profile's invoice recipients
once, with a link to pay it now.

An attempt is claimed before Stripe is asked (a row per invoice and number, its
idempotency key derived from both), so a task repeated after a crash asks Stripe the same
question and gets the same answer, while two tasks never ask two. What Stripe says is then
settled on the row in one transaction with the payment, whether the task or Stripe's
webhook brings it first.
"""

import datetime
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from portal.audit import Actor

from .. import stripe_gateway
from ..models import (
    CARD_RETRY_DAYS,
    CardChargeAttempt,
    ChargeAttemptStatus,
    Invoice,
    InvoiceKind,
    InvoiceNoticeKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from ..notices import invoice_notice_record
from .payments import payment_record

log = logging.getLogger(__name__)

UNSETTLED = (ChargeAttemptStatus.SENDING, ChargeAttemptStatus.PROCESSING)
# A claimed attempt whose task said nothing for this long is asked again (same key).
STALE_AFTER = timedelta(minutes=15)
NO_CARD = "There is no card on file for this billing profile."
STRIPE = Actor.system("stripe")


def chargeable():
    """Open card invoices with something due."""
    return Invoice.objects.filter(
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.OPEN,
        payment_method=PaymentMethod.CARD,
        amount_due__gt=0,
    )


def attempt_due(issue_date: datetime.date, today: datetime.date) -> int:
    """The number of the last charge due by `today` (0 before issue)."""
    days = (today - issue_date).days
    return sum(1 for offset in CARD_RETRY_DAYS if offset <= days)


def card_charge_claim(invoice_id: int, number: int) -> CardChargeAttempt | None:
    """The attempt to send: new, or one claimed before whose answer was never kept. None
    when there is nothing to do (paid, no longer open, settled, or an earlier attempt still
    waiting for Stripe)."""
    with transaction.atomic():
        invoice = (
            chargeable()
            .select_for_update(of=("self",))
            .select_related("billing_profile", "tenant")
            .filter(pk=invoice_id)
            .first()
        )
        if invoice is None:
            return None
        attempts = {a.number: a for a in CardChargeAttempt.objects.filter(invoice=invoice)}
        if number in attempts:
            attempt = attempts[number]
            return attempt if attempt.status == ChargeAttemptStatus.SENDING else None
        if any(a.status in UNSETTLED for a in attempts.values()):
            return None
        attempt = CardChargeAttempt.objects.create(
            invoice=invoice,
            number=number,
            amount=invoice.amount_due,
            currency=invoice.currency,
            idempotency_key=f"invoice-{invoice.uuid}-charge-{number}",
        )
    attempt.invoice = invoice
    return attempt


def card_charge_send(attempt: CardChargeAttempt) -> CardChargeAttempt:
    """Ask Stripe to charge the profile's card for the attempt, and settle what it says.
    StripeUnavailable leaves the attempt claimed for the task's retry (the same key)."""
    return card_charge_settle(attempt.pk, card_charge_ask(attempt))


def card_charge_ask(attempt: CardChargeAttempt) -> stripe_gateway.PaymentOutcome:
    """Stripe's answer to the attempt's charge: the same request every time it is asked
    (its key and parameters), so Stripe answers a repeat as it answered the first."""
    profile = attempt.invoice.billing_profile
    if not (profile.has_card and profile.stripe_customer_id):
        return stripe_gateway.PaymentOutcome(id="", status="no_card", error=NO_CARD)
    try:
        return stripe_gateway.payment_intent_charge(
            customer_id=profile.stripe_customer_id,
            payment_method_id=profile.stripe_payment_method_id,
            amount=attempt.amount,
            currency=attempt.currency,
            idempotency_key=attempt.idempotency_key,
            metadata={
                "invoice": str(attempt.invoice.uuid),
                "invoice_number": attempt.invoice.number,
                "attempt": str(attempt.number),
            },
        )
    except stripe_gateway.StripeUnavailable:
        raise
    except stripe_gateway.StripeFailure as failure:  # a customer or card Stripe lost
        return stripe_gateway.PaymentOutcome(id="", status="failed", error=str(failure))


def card_charge_settle(attempt_id: int, outcome) -> CardChargeAttempt:
    """Keep Stripe's answer on the attempt, once: a succeeded charge is the invoice's
    payment; a failure is e-mailed to the profile's invoice recipients (once)."""
    with transaction.atomic():
        attempt = (
            CardChargeAttempt.objects.select_for_update(of=("self",))
            .select_related("invoice__tenant", "invoice__billing_profile")
            .get(pk=attempt_id)
        )
        if attempt.status not in UNSETTLED:
            return attempt
        attempt.payment_intent_id = outcome.id or attempt.payment_intent_id
        now = timezone.now()
        if outcome.succeeded:
            attempt.status, attempt.settled_at = ChargeAttemptStatus.SUCCEEDED, now
            attempt.error = card_payment_record(
                invoice=attempt.invoice, amount=attempt.amount, payment_intent_id=outcome.id
            )
        elif outcome.pending:
            attempt.status = ChargeAttemptStatus.PROCESSING
        else:
            attempt.status, attempt.settled_at = ChargeAttemptStatus.FAILED, now
            attempt.error = (outcome.error or "The card was declined.")[:500]
            invoice_notice_record(
                attempt.invoice, InvoiceNoticeKind.CARD_DECLINED, key=attempt.number
            )
        attempt.save()
    return attempt


def card_payment_record(*, invoice: Invoice, amount: int, payment_intent_id: str) -> str:
    """Record a card charge Stripe says succeeded as the invoice's payment, once per
    PaymentIntent; "" when recorded (or already), else what an operator must do."""
    if Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).exists():
        return ""
    try:
        payment_record(
            invoice=invoice,
            amount=amount,
            currency=invoice.currency,
            reference=payment_intent_id,
            actor=STRIPE,
            method=PaymentMethod.CARD,
            stripe_payment_intent_id=payment_intent_id,
        )
    except ValidationError as refused:
        # Paid meanwhile another way: the card's money is the customer's to get back.
        message = f"Charged, not recorded ({' '.join(refused.messages)}): refund it."
        log.error("Card charge %s on %s: %s", payment_intent_id, invoice, message)
        return message[:500]
    return ""


def card_charges_due(today: datetime.date) -> list[tuple[int, int]]:
    """(invoice id, attempt number) of every charge to send now: the one due by `today`
    of each open card invoice not tried yet, and any claimed long ago whose task was lost."""
    oldest = today - timedelta(days=CARD_RETRY_DAYS[-1])
    invoices = (
        chargeable()
        .filter(issue_date__gte=oldest, issue_date__lte=today)
        .annotate(
            last=Max("card_attempts__number"),
            unsettled=Count("card_attempts", filter=Q(card_attempts__status__in=UNSETTLED)),
        )
        .values_list("pk", "issue_date", "last", "unsettled")
    )
    due = [
        (pk, attempt_due(issued, today))
        for pk, issued, last, unsettled in invoices
        if not unsettled and attempt_due(issued, today) > (last or 0)
    ]
    stale = CardChargeAttempt.objects.filter(
        invoice__in=chargeable(),
        status=ChargeAttemptStatus.SENDING,
        created_at__lt=timezone.now() - STALE_AFTER,
    ).values_list("invoice_id", "number")
    return sorted({*due, *stale})


def pay_now_refusal(invoice: Invoice) -> str:
    """Why the invoice can't be paid in the page now ("" when it can)."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.OPEN:
        return f"{invoice} is not open: there is nothing to pay on it."
    if invoice.amount_due <= 0:
        return f"{invoice} is paid in full."
    if invoice.payment_method != PaymentMethod.CARD:
        return f"{invoice} is paid by check or wire transfer: its bank details are on the invoice."
    if invoice.card_attempts.filter(status__in=UNSETTLED).exists():
        return (
            f"{invoice}'s card is being charged right now. Reload this page in a minute "
            "to see whether it went through."
        )
    return ""


def invoice_pay_now(
    *, invoice: Invoice, payment_method_id: str, key: str
) -> stripe_gateway.PaymentOutcome:
    """Charge what is due on the invoice to a card of its profile's Stripe customer, its
    holder in the page. `key` comes from the page's form, so a double submit is one charge.
    A succeeded charge is recorded now; one that needs 3-D Secure comes back with the
    client secret the page confirms it with (`invoice_pay_now_outcome` then reads it)."""
    profile = invoice.billing_profile
    refusal = pay_now_refusal(invoice)
    if refusal:
        raise ValidationError(refusal)
    if not profile.stripe_customer_id:
        raise ValidationError(NO_CARD)
    outcome = stripe_gateway.payment_intent_pay(
        customer_id=profile.stripe_customer_id,
        payment_method_id=payment_method_id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        idempotency_key=f"invoice-{invoice.uuid}-pay-now-{key}",
        metadata={
            "invoice": str(invoice.uuid),
            "invoice_number": invoice.number,
            "pay_now": "1",
        },
    )
    if outcome.succeeded:
        _record_pay_now(invoice, outcome.id)
    return outcome


def invoice_pay_now_outcome(*, invoice: Invoice, payment_intent_id: str):
    """What became of a Pay now charge after the page confirmed it, read back from Stripe
    (never taken from the browser); recorded when it succeeded. ValidationError when the
    PaymentIntent is not this invoice's."""
    try:
        outcome, facts = stripe_gateway.payment_intent_outcome(payment_intent_id)
    except stripe_gateway.StripeObjectMissing:
        raise ValidationError("Stripe doesn't know that payment; nothing was charged.") from None
    if facts["metadata"].get("invoice") != str(invoice.uuid) or facts["currency"] != (
        invoice.currency
    ):
        raise ValidationError("That payment is not this invoice's; nothing was recorded.")
    if outcome.succeeded:
        _record_pay_now(invoice, outcome.id, facts["amount"])
    return outcome


def _record_pay_now(invoice: Invoice, payment_intent_id: str, amount: int | None = None) -> None:
    problem = card_payment_record(
        invoice=invoice,
        amount=invoice.amount_due if amount is None else amount,
        payment_intent_id=payment_intent_id,
    )
    if problem:
        raise ValidationError(problem)
