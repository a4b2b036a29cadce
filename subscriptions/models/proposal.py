"""Proposals: operator staff offer a tenant negotiated prices (the seed's "Microsoft
proposal"); the tenant's admins accept one with a billing profile, which buys one
subscription per line at its price, or decline it."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import Tenant, TenantOwnedQuerySet
from publishers.models import Plan, PricingModel


def _today() -> datetime.date:
    """Proposals expire at the end of a UTC day, as terms are UTC days."""
    return timezone.now().astimezone(datetime.UTC).date()


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class ProposalQuerySet(TenantOwnedQuerySet):
    def open(self, day: datetime.date | None = None):
        """Proposals still to be answered that have not expired by `day` (today, UTC)."""
        day = day or _today()
        return self.filter(status=ProposalStatus.OPEN, expires_on__gte=day)


class Proposal(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True, help_text="Shown to the tenant's admins.")
    currency = models.CharField(max_length=3, editable=False)  # the tenant's, when made
    expires_on = models.DateField(help_text="The last day it can be accepted (UTC).")
    # Moves on with every change made in the admin: an Accept answers the revision shown.
    revision = models.PositiveIntegerField(default=1, editable=False)
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProposalStatus.values), name="proposal_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=ProposalStatus.OPEN, answered_at__isnull=True)
                | (~Q(status=ProposalStatus.OPEN) & Q(answered_at__isnull=False)),
                name="proposal_answered_when_not_open",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.tenant})"

    def save(self, *args, **kwargs):
        if not self.currency:
            self.currency = self.tenant.currency
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self._state.adding and self.expires_on and self.expires_on < _today():
            raise ValidationError({"expires_on": "A new proposal expires today or later."})

    def is_expired(self, day: datetime.date | None = None) -> bool:
        day = day or _today()
        return self.status == ProposalStatus.OPEN and self.expires_on < day

    @property
    def state_label(self) -> str:
        """ "Open", "Accepted", "Declined" or "Expired", as the pages say it."""
        return "Expired" if self.is_expired() else self.get_status_display()

    def answer_refusal(self) -> str:
        """Why the proposal can't be accepted or declined now ("" when it can)."""
        if self.status != ProposalStatus.OPEN:
            return f"This proposal was {self.get_status_display().lower()} already."
        if self.is_expired():
            return f"This proposal expired on {self.expires_on:%-d %B %Y}: ask for a new one."
        return ""


class ProposalLine(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Licenses, for per-license plans; empty for flat rate."
    )
    unit_amount = models.PositiveIntegerField(
        "negotiated unit price",
        help_text="Minor units, per license (per-license plans) or per term (flat rate).",
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_amount__gt=0), name="proposal_line_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=1),
                name="proposal_line_quantity_positive",
            ),
        ]

    def __str__(self):
        return f"{self.plan}: {self.quantity or 'unlimited'}"

    def clean(self):
        super().clean()
        try:
            plan = self.plan
        except Plan.DoesNotExist:
            return
        if plan.pricing_model == PricingModel.FLAT_RATE:
            if self.quantity is not None:
                raise ValidationError({"quantity": "Flat-rate plans have unlimited licenses."})
        elif self.quantity is None or not plan.min_quantity <= self.quantity <= plan.max_quantity:
            raise ValidationError(
                {"quantity": f"Choose {plan.min_quantity:,} to {plan.max_quantity:,} licenses."}
            )

    @property
    def term_amount(self) -> int:
        return self.unit_amount * (self.quantity or 1)
