"""Payments received against invoices: a check or wire recorded by an operator
(`manage.py record_payment`, the Django admin), or a card charged through Stripe.

A payment is written only by `billing.services.payment_record`, in the transaction that
lowers its invoice's amount due; amounts are integers in the invoice's currency's minor
unit, always above zero.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import Tenant, TenantOwnedQuerySet

from .invoices import Invoice
from .profiles import PaymentMethod


class Payment(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    received_on = models.DateField()
    # A check's number or the wire's reference; for a card, Stripe's PaymentIntent id.
    reference = models.CharField(max_length=100)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"
            ),
            # A PaymentIntent pays once, however often Stripe or a retried task reports it.
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=~Q(stripe_payment_intent_id=""),
                name="payment_intent_once",
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} on {self.invoice}"


# Days after issue a card invoice is charged: the first charge, then its retries.
CARD_RETRY_DAYS = (0, 1, 3, 5, 7)


class ChargeAttemptStatus(models.TextChoices):
    SENDING = "sending", "Sending"  # claimed: Stripe is being asked, or was and didn't say
    PROCESSING = "processing", "Processing"  # Stripe is deciding; its webhook will tell
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class CardChargeAttempt(models.Model):
    """One off-session charge of a card invoice: the first when it is issued, then the
    retries 1, 3, 5 and 7 days after (`number` 1 to 5). Its idempotency key is derived from
    the invoice and the number, so a task repeated after a crash asks Stripe the same
    question (and Stripe gives the same answer), while the next retry is a new charge."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="card_attempts")
    number = models.PositiveSmallIntegerField()
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=100, unique=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=ChargeAttemptStatus.choices, default=ChargeAttemptStatus.SENDING
    )
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "number"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "number"], name="card_attempt_once"),
            models.CheckConstraint(
                condition=Q(status__in=ChargeAttemptStatus.values), name="card_attempt_status"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="card_attempt_number"),
        ]
        indexes = [
            models.Index(
                fields=["status"],
                condition=Q(status__in=["sending", "processing"]),
                name="card_attempt_unsettled",
            )
        ]

    def __str__(self):
        return f"Charge {self.number} of {self.invoice}: {self.status}"

    @property
    def next_try(self) -> datetime.date | None:
        """When the attempt after this one is made; None after the last."""
        if self.number >= len(CARD_RETRY_DAYS):
            return None
        return self.invoice.issue_date + datetime.timedelta(days=CARD_RETRY_DAYS[self.number])


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Being refunded"  # recorded; Stripe is being asked, or will be
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    """Money given back to the card that paid an invoice, for a credit note against it.
    Recorded in the invoice run's transaction (pending), asked of Stripe by a task with a
    key derived from the refund, settled once, from the task or Stripe's webhook."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="refunds")
    credit_note = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refunds")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refunds_given")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="refund_status_valid"
            ),
            models.UniqueConstraint(
                fields=["stripe_refund_id"],
                condition=~Q(stripe_refund_id=""),
                name="refund_stripe_once",
            ),
        ]

    def __str__(self):
        return f"Refund of {self.amount} {self.currency} for {self.credit_note}"

    @property
    def idempotency_key(self) -> str:
        return f"refund-{self.uuid}"


class CreditApplication(models.Model):
    """Credit of a credit note used against an invoice's amount due: the invoice it
    corrects, or, credit left over after that invoice was paid by check or wire, the
    profile's next invoice."""

    credit_note = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credits_applied")
    amount = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_applied_positive"),
        ]

    def __str__(self):
        return f"{self.amount} of {self.credit_note} on {self.invoice}"
