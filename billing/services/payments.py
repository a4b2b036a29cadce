"""Payments on invoices: recorded by an operator (a check or a wire), or a card charge
Stripe reports as succeeded. Each lowers its invoice's amount due in one transaction with
the invoice row locked, so two payments recorded at once can't pay more than is due."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.audit import Actor, audit_record
from portal.money import major_amount

from ..models import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentMethod
from ..signals import invoice_paid


def _in_words(amount: int, currency: str) -> str:
    return f"{major_amount(amount, currency):,} {currency}"


def payment_refusal(invoice: Invoice, amount: int, currency: str) -> str:
    """Why a payment of `amount` `currency` can't be recorded on the invoice ("" when it
    can): one line, naming the invoice."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        return f"{invoice} is not an issued invoice: payments are recorded on invoices."
    if invoice.status == InvoiceStatus.VOID:
        return f"{invoice} is void: nothing is due on it."
    if currency != invoice.currency:
        return (
            f"{invoice} is billed in {invoice.currency}: "
            f"a payment in {currency} can't be recorded on it."
        )
    if amount <= 0:
        return "A payment's amount must be above zero."
    if invoice.amount_due == 0:
        return f"{invoice} is already paid in full."
    if amount > invoice.amount_due:
        return (
            f"{_in_words(amount, currency)} is more than the "
            f"{_in_words(invoice.amount_due, currency)} due on {invoice}: "
            "record at most what is due."
        )
    return ""


def payment_record(
    *,
    invoice: Invoice,
    amount: int,
    currency: str,
    reference: str,
    actor: Actor,
    received_on: datetime.date | None = None,
    method: str = PaymentMethod.CHECK_WIRE,
    stripe_payment_intent_id: str = "",
) -> Payment:
    """Record a full or partial payment on an issued invoice; ValidationError (one line)
    when it can't be: an overpayment, another currency, a void invoice or a credit note, a
    date ahead of today, no reference."""
    reference = " ".join(reference.split())
    today = timezone.localdate()
    received_on = received_on or today
    if not reference:
        raise ValidationError("Give the payment's reference: the check's number or the wire's.")
    if len(reference) > 100:
        raise ValidationError("The reference is longer than 100 characters.")
    if received_on > today:
        raise ValidationError(f"The payment's date, {received_on}, is ahead of today.")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("tenant").get(pk=invoice.pk)
        refusal = payment_refusal(invoice, amount, currency)
        if refusal:
            raise ValidationError(refusal)
        payment = Payment.objects.create(
            tenant_id=invoice.tenant_id,
            invoice=invoice,
            method=method,
            amount=amount,
            currency=currency,
            received_on=received_on,
            reference=reference,
            stripe_payment_intent_id=stripe_payment_intent_id,
            recorded_by=actor.user,
        )
        invoice.amount_paid += amount
        invoice.amount_due -= amount
        if invoice.amount_due == 0:
            invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["amount_paid", "amount_due", "status"])
        audit_record(
            tenant=invoice.tenant,
            actor=actor,
            verb="invoice.payment",
            target_type="billing.invoice",
            target_id=str(invoice.uuid),
            data={
                "number": invoice.number,
                "amount": {"amount": amount, "currency": currency},
                "method": method,
                "reference": reference,
                "received_on": received_on.isoformat(),
                "amount_due": invoice.amount_due,
            },
        )
        if invoice.status == InvoiceStatus.PAID:
            invoice_id = invoice.pk
            transaction.on_commit(lambda: invoice_paid.send(sender=Invoice, invoice_id=invoice_id))
    payment.invoice = invoice
    return payment


def invoice_void(*, invoice: Invoice, actor: Actor) -> Invoice:
    """Void an open invoice nothing was paid on: nothing is due on it any more, its number
    and lines stay as issued (a void invoice is never deleted, nor numbered again), and its
    charges are not billed again. ValidationError, in words, for any other."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("tenant").get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(f"{invoice} is not an open invoice: only those can be voided.")
        if invoice.amount_paid or invoice.payments.exists():
            raise ValidationError(f"{invoice} has payments: correct it with a credit note instead.")
        if invoice.card_attempts.filter(status__in=("sending", "processing")).exists():
            raise ValidationError(f"{invoice}'s card is being charged; try again in a minute.")
        due = invoice.amount_due
        invoice.status, invoice.amount_due = InvoiceStatus.VOID, 0
        invoice.save(update_fields=["status", "amount_due"])
        audit_record(
            tenant=invoice.tenant,
            actor=actor,
            verb="invoice.void",
            target_type="billing.invoice",
            target_id=str(invoice.uuid),
            data={"number": invoice.number, "amount_due": due},
        )
    return invoice
