"""Non-payment, billing's half: which invoices are overdue past grace or past the time to
write them off, the subscriptions they billed (by uuid: billing never imports
subscriptions), and the invoice's own record of each step. The lifecycle sweep asks these
and moves the subscriptions (subscriptions.services.dunning).

- A check/wire invoice still unpaid GRACE days after its due date, or a card invoice whose
  last retry (day 7) was declined, suspends the subscriptions billed on it.
- Paid in full, they are reinstated (`billing.signals.invoice_paid`).
- Still unpaid WRITE_OFF days after the suspension, they are disabled for non-payment and
  the invoice becomes uncollectible.
"""

import datetime
import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from portal.audit import Actor, audit_record

from .models import (
    CARD_RETRY_DAYS,
    CardChargeAttempt,
    ChargeAttemptStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceNoticeKind,
    InvoiceStatus,
    PaymentMethod,
)
from .notices import invoice_notice_record

GRACE = datetime.timedelta(days=14)  # check/wire: days past the due date
WRITE_OFF = datetime.timedelta(days=60)  # days suspended, still unpaid
ACTOR = Actor.system("dunning")


def _unpaid():
    return Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status=InvoiceStatus.OPEN, amount_due__gt=0
    )


def invoices_to_suspend(day: datetime.date):
    """Open invoices overdue past grace on `day` whose subscriptions are not suspended yet."""
    last_retry_declined = Exists(
        CardChargeAttempt.objects.filter(
            invoice=OuterRef("pk"),
            number=len(CARD_RETRY_DAYS),
            status=ChargeAttemptStatus.FAILED,
        )
    )
    return _unpaid().filter(
        Q(payment_method=PaymentMethod.CHECK_WIRE, due_date__lte=day - GRACE)
        | Q(last_retry_declined, payment_method=PaymentMethod.CARD),
        suspended_on__isnull=True,
        issue_date__lte=day,
    )


def invoices_to_write_off(day: datetime.date):
    """Open invoices whose subscriptions were suspended WRITE_OFF days ago or more."""
    return _unpaid().filter(suspended_on__lte=day - WRITE_OFF)


def billed_subscriptions(invoice_ids) -> dict[int, set[uuid.UUID]]:
    """The uuids of the subscriptions each invoice billed (any line)."""
    rows = InvoiceLine.objects.filter(invoice_id__in=invoice_ids).values_list(
        "invoice_id", "subscription_uuid"
    )
    billed = defaultdict(set)
    for invoice_id, subscription_uuid in rows:
        billed[invoice_id].add(subscription_uuid)
    return billed


def overdue_invoice_of(subscription_uuid, *, excluding: int | None = None) -> Invoice | None:
    """Another unpaid invoice its subscription is suspended for, if any: the oldest."""
    invoices = _unpaid().filter(
        suspended_on__isnull=False, lines__subscription_uuid=subscription_uuid
    )
    if excluding is not None:
        invoices = invoices.exclude(pk=excluding)
    return invoices.order_by("issue_date", "pk").first()


def invoice_suspended(invoice: Invoice, *, day: datetime.date, apps: list[str]) -> bool:
    """Record that the invoice's subscriptions were suspended on `day` (once: whether this
    call did), and tell its people; in the caller's transaction."""
    if not Invoice.objects.filter(pk=invoice.pk, suspended_on__isnull=True).update(
        suspended_on=day
    ):
        return False
    invoice.suspended_on = day
    _audit(invoice, "invoice.overdue", {"suspended_on": day.isoformat(), "apps": apps})
    if apps:  # its apps may all be suspended already, for an older invoice
        invoice_notice_record(invoice, InvoiceNoticeKind.SUSPENDED, apps=apps)
    return True


def invoice_reinstated(invoice: Invoice, *, apps: list[str]) -> None:
    """Tell the invoice's people that the apps it suspended work again (once)."""
    if apps:
        invoice_notice_record(invoice, InvoiceNoticeKind.REINSTATED, apps=apps)


def invoice_written_off(invoice: Invoice, *, apps: list[str]) -> bool:
    """The invoice is uncollectible: its apps were disabled for non-payment (once: whether
    this call did it). Its amount due stays what it was."""
    with transaction.atomic():
        if not Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.OPEN).update(
            status=InvoiceStatus.UNCOLLECTIBLE
        ):
            return False
        invoice.status = InvoiceStatus.UNCOLLECTIBLE
        _audit(invoice, "invoice.uncollectible", {"apps": apps})
        invoice_notice_record(invoice, InvoiceNoticeKind.WRITTEN_OFF, apps=apps)
    return True


def _audit(invoice: Invoice, verb: str, data: dict) -> None:
    audit_record(
        tenant=invoice.tenant,
        actor=ACTOR,
        verb=verb,
        target_type="billing.invoice",
        target_id=str(invoice.uuid),
        data={"number": invoice.number, **data},
    )
