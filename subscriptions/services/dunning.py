"""Non-payment, the subscriptions' half (ARCHITECTURE.md: invoice overdue past grace ->
suspended; invoice paid -> reinstated; still unpaid 60 days after suspension -> disabled,
reason non_payment). Billing says which invoices are due a step and which subscriptions
they billed (`billing.dunning`); this moves them through the transition services, so each
move is locked, checked, audited and sent to the publisher (Suspend, Reinstate,
Unsubscribe), and billing records the step on the invoice and e-mails it, once.

The lifecycle sweep runs `dunning_day` for each day it sweeps, after its own moves; a
payment in full reinstates at once (`billing.signals.invoice_paid`), and the day's run
reinstates any the signal missed.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from billing.dunning import (
    ACTOR,
    billed_subscriptions,
    invoice_reinstated,
    invoice_suspended,
    invoice_written_off,
    invoices_to_suspend,
    invoices_to_write_off,
    overdue_invoice_of,
)
from billing.models import Invoice, InvoiceStatus

from ..lifecycle import Status
from ..models import Subscription
from .transitions import (
    subscription_disable_for_non_payment,
    subscription_reinstate,
    subscription_suspend,
)

log = logging.getLogger(__name__)


@dataclass
class DunningCounts:
    suspended: int = 0
    reinstated: int = 0
    disabled: int = 0

    def __str__(self) -> str:
        return (
            f"suspended {self.suspended}, reinstated {self.reinstated}, "
            f"disabled for non-payment {self.disabled}"
        )


def dunning_day(day: datetime.date, *, now=None) -> DunningCounts:
    """Every step of non-payment due on `day`: safe to run again (each step is recorded on
    its invoice, and each subscription moves only from the status the step expects)."""
    now = now or timezone.now()
    counts = DunningCounts()
    paid = Subscription.objects.filter(status=Status.SUSPENDED, suspended_for__isnull=False)
    paid = paid.exclude(suspended_for__status=InvoiceStatus.OPEN, suspended_for__amount_due__gt=0)
    for invoice_id in set(paid.values_list("suspended_for_id", flat=True)):
        counts.reinstated += reinstate_for_invoice(invoice_id, now=now)
    for invoice_id in invoices_to_suspend(day).order_by("pk").values_list("pk", flat=True):
        counts.suspended += suspend_for_invoice(invoice_id, day=day, now=now)
    for invoice_id in invoices_to_write_off(day).order_by("pk").values_list("pk", flat=True):
        counts.disabled += disable_for_invoice(invoice_id, now=now)
    return counts


def _locked_invoice(invoice_id: int) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=invoice_id)
    )


def suspend_for_invoice(invoice_id: int, *, day: datetime.date, now) -> int:
    """Suspend the active subscriptions the overdue invoice billed; how many (0 when another
    run did it first)."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if invoice.suspended_on is not None:
            return 0
        uuids = billed_subscriptions([invoice.pk]).get(invoice.pk, set())
        names = []
        for subscription in Subscription.objects.filter(
            tenant_id=invoice.tenant_id, uuid__in=uuids, status=Status.ACTIVE
        ).order_by("pk"):
            moved = subscription_suspend(subscription=subscription, actor=ACTOR, now=now)
            Subscription.objects.filter(pk=moved.pk).update(suspended_for=invoice)
            names.append(moved.name)
        invoice_suspended(invoice, day=day, apps=names)
    return len(names)


def reinstate_for_invoice(invoice_id: int, *, now=None) -> int:
    """The invoice is paid (or void): the subscriptions suspended for it work again, unless
    another of their invoices is still overdue (they then wait on that one); how many."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if invoice.status == InvoiceStatus.OPEN and invoice.amount_due > 0:
            return 0
        if invoice.status == InvoiceStatus.UNCOLLECTIBLE:
            return 0
        names = []
        for subscription in Subscription.objects.filter(
            suspended_for=invoice, status=Status.SUSPENDED
        ).order_by("pk"):
            other = overdue_invoice_of(subscription.uuid, excluding=invoice.pk)
            if other is not None:
                Subscription.objects.filter(pk=subscription.pk).update(suspended_for=other)
                continue
            names.append(
                subscription_reinstate(subscription=subscription, actor=ACTOR, now=now).name
            )
        invoice_reinstated(invoice, apps=names)
    return len(names)


def disable_for_invoice(invoice_id: int, *, now) -> int:
    """Still unpaid long after the suspension: its subscriptions are disabled for
    non-payment and the invoice is uncollectible; how many."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if invoice.status != InvoiceStatus.OPEN:
            return 0
        names = [
            subscription_disable_for_non_payment(
                subscription=subscription, actor=ACTOR, now=now
            ).name
            for subscription in Subscription.objects.filter(
                suspended_for=invoice, status=Status.SUSPENDED
            ).order_by("pk")
        ]
        invoice_written_off(invoice, apps=names)
    return len(names)


def on_invoice_paid(sender, invoice_id: int, **kwargs) -> None:
    """`billing.signals.invoice_paid`: reinstate now. A failure is logged; the day's
    sweep reinstates what is left."""
    try:
        reinstate_for_invoice(invoice_id)
    except Exception:
        log.exception("Reinstating the subscriptions of invoice %s failed", invoice_id)
