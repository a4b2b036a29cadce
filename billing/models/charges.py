"""Charges: what a subscription costs for a service period, made by the subscription
services through `billing.services`."""

from django.db import models
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.models import Tenant, TenantOwnedQuerySet

from .profiles import BillingProfile


class ChargeKind(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    RENEWAL = "renewal", "Renew"
    ADD_QUANTITY = "add_quantity", "Add quantity"
    REMOVE_QUANTITY = "remove_quantity", "Remove quantity"
    CHANGE_PLAN = "change_plan", "Change plan"
    CANCEL_CREDIT = "cancel_credit", "Cancel"


CREDIT_KINDS = (ChargeKind.REMOVE_QUANTITY, ChargeKind.CANCEL_CREDIT)
# Either sign: a plan change charges the difference, negative when the new plan is cheaper.
SIGNED_KINDS = (ChargeKind.CHANGE_PLAN,)


class ChargeQuerySet(TenantOwnedQuerySet):
    def of_subscription(self, subscription_uuid):
        return self.filter(subscription_uuid=subscription_uuid)

    def net_for_term(self, subscription_uuid, period_end) -> int:
        """What the subscription's charges for the term ending `period_end` add up to, every
        kind and sign: what is left to give back of it (a cheaper plan's negative
        `change_plan` charge included, which names no debit)."""
        total = self.of_subscription(subscription_uuid).filter(period_end=period_end)
        return total.aggregate(net=Coalesce(Sum("amount"), 0))["net"]

    def creditable(self, subscription_uuid, period_end):
        """The subscription's debits for the term ending `period_end`, newest first, each
        with `remaining`: its amount less what credits have already given back of it."""
        given = Coalesce(Sum("credited_by__amount"), 0)
        return (
            self.of_subscription(subscription_uuid)
            .filter(period_end=period_end, amount__gt=0)
            .annotate(remaining=F("amount") + given)
            .order_by("-created_at", "-pk")
        )


class Charge(models.Model):
    """What a subscription costs for a service period, in the profile's currency: a debit,
    or a credit (negative). Made only by `billing.services.charge_create`, which the
    subscription services call; billing knows the subscription by its uuid alone. One
    invoice line bills it (`InvoiceLine.charge`); until then it is uninvoiced.

    On PostgreSQL, composite foreign keys hold the charge to its profile's tenant and
    currency (migration 0004).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="charges")
    billing_profile = models.ForeignKey(
        BillingProfile, on_delete=models.PROTECT, related_name="charges"
    )
    subscription_uuid = models.UUIDField(db_index=True)
    # What was bought: the invoice line names its app, plan and publisher from it.
    plan = models.ForeignKey("publishers.Plan", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ChargeKind.choices)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    unit_amount = models.PositiveIntegerField()
    amount = models.IntegerField(help_text="Minor units; negative for a credit.")
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Excluded: the day after the last day served.")
    # The charge a credit gives back (part of): once that charge is invoiced, the credit
    # goes on a credit note against its invoice.
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credited_by"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ChargeQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ChargeKind.values), name="charge_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CREDIT_KINDS, amount__lte=0)
                | Q(kind__in=SIGNED_KINDS)
                | (~Q(kind__in=[*CREDIT_KINDS, *SIGNED_KINDS]) & Q(amount__gte=0)),
                name="charge_credit_is_negative",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="charge_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(credits__isnull=True) | Q(kind__in=CREDIT_KINDS),
                name="charge_only_credits_credit",
            ),
            # A term is charged once: a retried activation or renewal can't charge it again.
            models.UniqueConstraint(
                fields=["subscription_uuid", "period_start"],
                condition=Q(kind__in=[ChargeKind.PURCHASE, ChargeKind.RENEWAL]),
                name="charge_term_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} {self.currency}"
