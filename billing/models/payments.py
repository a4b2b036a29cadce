"""Payments received against invoices: a check or wire recorded by an operator
(`manage.py record_payment`, the Django admin), or a card charged through Stripe.

A payment is written only by `billing.services.payment_record`, in the transaction that
lowers its invoice's amount due; amounts are integers in the invoice's currency's minor
unit, always above zero.
"""

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
