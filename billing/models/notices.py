"""The e-mails billing sends about an invoice, each recorded once before it is sent: a card
charge declined (one per attempt), its apps suspended for non-payment, reinstated once it
is paid, disabled when it is written off."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .invoices import Invoice


class InvoiceNoticeKind(models.TextChoices):
    CARD_DECLINED = "card_declined", "Card charge declined"
    SUSPENDED = "suspended", "Apps suspended: invoice overdue"
    REINSTATED = "reinstated", "Apps reinstated: invoice paid"
    WRITTEN_OFF = "written_off", "Apps disabled: invoice unpaid"


class InvoiceNotice(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=20, choices=InvoiceNoticeKind.choices)
    key = models.PositiveSmallIntegerField(default=0)  # a declined charge's attempt number
    # The apps the step moved, by name, as the e-mail lists them.
    apps = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind", "key"], name="invoice_notice_once"),
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceNoticeKind.values), name="invoice_notice_kind"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True),
                name="invoice_notice_unsent",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.invoice}"
