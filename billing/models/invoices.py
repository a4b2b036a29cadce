"""Invoices and credit notes, their lines, and the counters their numbers come from.

An invoice is made a draft (no number), its lines added, then issued: numbered from its
series' counter row, locked in the issuing transaction, so a rolled-back issue leaves no gap.
Once issued, only its status, amount paid, amount due, stored PDF and the day its apps were
suspended for it move; on PostgreSQL a trigger refuses anything else, and any change to its
lines (migration 0009). Corrections are credit notes, which have their own series and name
the invoice they correct.

Amounts are integers in the currency's minor unit. An invoice's total is at least zero, a
credit note's at most zero. `amount_due` is what the customer still owes on an invoice;
on a credit note, what of it has not yet been given back (applied to the invoice it
corrects, refunded, or kept as credit).
"""

import datetime
import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from portal.models import Tenant, TenantOwnedQuerySet

from .charges import Charge, ChargeKind
from .profiles import BillingProfile, PaymentMethod


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"


ISSUED = (
    InvoiceStatus.OPEN,
    InvoiceStatus.PAID,
    InvoiceStatus.VOID,
    InvoiceStatus.UNCOLLECTIBLE,
)
SERIES = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


def invoice_number(kind: str, year: int, sequence: int) -> str:
    """`INV-2026-000042`, `CN-2026-000007`."""
    return f"{SERIES[kind]}-{year}-{sequence:06d}"


class InvoiceCounter(models.Model):
    """The last number given in a series (INV, CN) in a year: the row the issuing
    transaction locks."""

    series = models.CharField(max_length=3)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="invoice_counter_once"),
        ]

    def __str__(self):
        return f"{self.series}-{self.year}: {self.last}"


class InvoiceQuerySet(TenantOwnedQuerySet):
    def issued(self):
        return self.exclude(status=InvoiceStatus.DRAFT)

    def visible_to(self, membership):
        """The tenant's issued invoices and credit notes on the profiles the member may see."""
        profiles = BillingProfile.objects.visible_to(membership).values("pk")
        return self.for_tenant(membership.tenant).issued().filter(billing_profile__in=profiles)


class Invoice(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="invoices")
    billing_profile = models.ForeignKey(
        BillingProfile, on_delete=models.PROTECT, related_name="invoices"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    number = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Excluded: the day after the period's last.")
    currency = models.CharField(max_length=3)
    subtotal = models.IntegerField(default=0)
    tax = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    amount_paid = models.IntegerField(default=0)
    amount_due = models.IntegerField(default=0)
    # Frozen at issue: who is billed and who bills, as the document printed them.
    bill_to = models.JSONField(default=dict)
    seller = models.JSONField(default=dict)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    payment_terms = models.CharField(max_length=100)
    po_number = models.CharField("PO number", max_length=50, blank=True)
    tax_label = models.CharField(max_length=50, blank=True)  # "VAT 19%"
    tax_note = models.CharField(max_length=300, blank=True)  # the reverse charge, say
    # The day its subscriptions were suspended for it, overdue (payments and dunning).
    suspended_on = models.DateField(null=True, blank=True, editable=False)
    pdf_file = models.CharField(max_length=255, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-pk"]
        indexes = [
            models.Index(fields=["tenant", "-issue_date", "-id"], name="invoice_tenant_newest"),
            models.Index(fields=["billing_profile", "-issue_date"], name="invoice_profile_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"
            ),
            # A number is given at issue, never to a draft; an issued one has its dates.
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.DRAFT, number__isnull=True)
                | (
                    ~Q(status=InvoiceStatus.DRAFT)
                    & Q(number__isnull=False, issue_date__isnull=False, due_date__isnull=False)
                ),
                name="invoice_numbered_at_issue",
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.CREDIT_NOTE) | Q(corrects__isnull=True),
                name="invoice_only_credit_notes_correct",
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.INVOICE, total__gte=0)
                | Q(kind=InvoiceKind.CREDIT_NOTE, total__lte=0),
                name="invoice_total_sign",
            ),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax")), name="invoice_total_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_due__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="invoice_period_valid"
            ),
        ]

    def __str__(self):
        return self.number or f"Draft {self.get_kind_display().lower()} {self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def status_tone(self) -> str:
        """The status's colour class beside its word ("status-ok")."""
        return {
            InvoiceStatus.DRAFT: "status-off",
            InvoiceStatus.OPEN: "status-info",
            InvoiceStatus.PAID: "status-ok",
            InvoiceStatus.VOID: "status-off",
            InvoiceStatus.UNCOLLECTIBLE: "status-warn",
        }[self.status]

    @property
    def status_words(self) -> str:
        """The status as the customer reads it: a credit note is "Applied", not "Paid"."""
        if self.is_credit_note:
            return {InvoiceStatus.OPEN: "Credit due", InvoiceStatus.PAID: "Applied"}.get(
                self.status, self.get_status_display()
            )
        return self.get_status_display()

    @property
    def period_last_day(self) -> datetime.date:
        return self.period_end - datetime.timedelta(days=1)


class InvoiceLine(models.Model):
    """One charge, billed: what it was for, frozen at issue, and its tax."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    charge = models.OneToOneField(Charge, on_delete=models.PROTECT, related_name="invoice_line")
    position = models.PositiveIntegerField()
    # The charge's kind: Purchase, Renew, Add quantity, Remove quantity, Change plan, Cancel.
    transaction_type = models.CharField(max_length=20, choices=ChargeKind.choices)
    description = models.CharField(max_length=300)
    subscription_uuid = models.UUIDField()
    app_name = models.CharField(max_length=200)
    plan_name = models.CharField(max_length=200)
    publisher_name = models.CharField(max_length=200)
    publisher_address = models.TextField()
    period_start = models.DateField()
    period_end = models.DateField(help_text="Excluded: the day after the last day served.")
    quantity = models.PositiveIntegerField(null=True, blank=True)
    unit_amount = models.PositiveIntegerField()
    amount = models.IntegerField()
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)  # percent
    tax = models.IntegerField()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
            models.CheckConstraint(
                condition=Q(transaction_type__in=ChargeKind.values),
                name="invoice_line_type_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_transaction_type_display()} {self.amount}"

    @property
    def total(self) -> int:
        return self.amount + self.tax

    @property
    def publisher_address_one_line(self) -> str:
        return ", ".join(self.publisher_address.splitlines())

    @property
    def period_last_day(self) -> datetime.date:
        return self.period_end - datetime.timedelta(days=1)
