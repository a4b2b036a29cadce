"""Refunds to a card, for credit notes against invoices the card paid: recorded pending by
the invoice run, asked of Stripe by a task (`refund_send`) with a key derived from the
refund, so a repeated task is the same refund, and settled once (`refund_settle`), from the
task's answer or from Stripe's `charge.refunded` webhook, whichever comes first."""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.audit import Actor, audit_record

from .. import stripe_gateway
from ..models import Invoice, InvoiceStatus, Refund, RefundStatus

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=15)  # a pending refund this old was lost: asked again
STRIPE = Actor.system("stripe")


def refund_send(refund_id: int) -> Refund | None:
    """Ask Stripe for the refund, unless it is settled; the refund as it then stands.
    StripeUnavailable leaves it pending for the task's retry (the same key)."""
    refund = Refund.objects.select_related("payment", "credit_note").filter(pk=refund_id).first()
    if refund is None or refund.status != RefundStatus.PENDING:
        return refund
    outcome = stripe_gateway.refund_create(
        payment_intent_id=refund.payment.stripe_payment_intent_id,
        amount=refund.amount,
        idempotency_key=refund.idempotency_key,
        metadata={"refund": str(refund.uuid), "credit_note": refund.credit_note.number},
    )
    return refund_settle(refund.pk, outcome)


def refund_settle(refund_id: int, outcome: stripe_gateway.RefundOutcome) -> Refund:
    """Keep Stripe's answer, once: a refund that succeeded gives back that much of its
    credit note (applied once nothing is left); a failed one leaves the note's credit to
    its profile's next invoice."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.PENDING or outcome.status in ("pending", ""):
            return refund
        refund.stripe_refund_id = outcome.id or refund.stripe_refund_id
        refund.settled_at = timezone.now()
        note = (
            Invoice.objects.select_for_update()
            .select_related("tenant")
            .get(pk=refund.credit_note_id)
        )
        if outcome.status == "succeeded":
            refund.status = RefundStatus.SUCCEEDED
            note.amount_due = max(note.amount_due - refund.amount, 0)
            if note.amount_due == 0:
                note.status = InvoiceStatus.PAID
            note.save(update_fields=["amount_due", "status"])
        else:
            refund.status = RefundStatus.FAILED
            refund.error = (outcome.error or f"Stripe says {outcome.status}.")[:500]
            log.warning("Refund %s for %s failed: %s", refund.uuid, note, refund.error)
        refund.save()
        audit_record(
            tenant=note.tenant,
            actor=STRIPE,
            verb="credit_note.refund",
            target_type="billing.invoice",
            target_id=str(note.uuid),
            data={
                "number": note.number,
                "amount": {"amount": refund.amount, "currency": refund.currency},
                "status": refund.status,
            },
        )
    return refund


def refunds_due() -> list[int]:
    """Pending refunds whose task was lost (or ran out of retries)."""
    stale = timezone.now() - STALE_AFTER
    pending = Refund.objects.filter(status=RefundStatus.PENDING, created_at__lt=stale)
    return list(pending.values_list("pk", flat=True))


def refunds_reconcile(charge_id: str) -> int:
    """`charge.refunded`: settle the charge's refunds that are ours, as Stripe has them
    now; how many were settled by this call."""
    settled = 0
    try:
        outcomes = stripe_gateway.refunds_of_charge(charge_id)
    except stripe_gateway.StripeObjectMissing:
        return 0
    for outcome in outcomes:
        refund = (
            Refund.objects.filter(uuid=outcome.metadata.get("refund"))
            .filter(status=RefundStatus.PENDING)
            .first()
            if _is_uuid(outcome.metadata.get("refund", ""))
            else None
        )
        if refund is not None and refund_settle(refund.pk, outcome).status != RefundStatus.PENDING:
            settled += 1
    return settled


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
