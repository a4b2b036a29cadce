"""Exports of a billing profile's invoices for a period: one zip of their PDFs and a CSV of
all their lines, built by a worker (`tasks.build_invoice_export`) while the page shows its
progress, then downloaded."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import Tenant, TenantOwnedQuerySet

from .profiles import BillingProfile


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Being built"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class InvoiceExportQuerySet(TenantOwnedQuerySet):
    def visible_to(self, membership):
        """The tenant's exports of the profiles the member may see."""
        profiles = BillingProfile.objects.visible_to(membership).values("pk")
        return self.for_tenant(membership.tenant).filter(billing_profile__in=profiles)


# A build whose worker said nothing for this long is given to the next worker that asks
# (a redelivered task); one that nothing built for ABANDONED_AFTER is asked for again.
RECLAIM_AFTER = datetime.timedelta(minutes=5)
ABANDONED_AFTER = datetime.timedelta(minutes=15)


class InvoiceExport(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invoice_exports")
    billing_profile = models.ForeignKey(
        BillingProfile, on_delete=models.CASCADE, related_name="invoice_exports"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    date_from = models.DateField()  # issue dates, both included
    date_to = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)  # documents to put in
    done = models.PositiveIntegerField(default=0)  # documents put in so far
    file = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When a worker last said it is building it: claimed, then each progress write.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="export_dates_valid"
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="export_done_within_total"
            ),
        ]

    def __str__(self):
        return f"{self.billing_profile} {self.date_from}..{self.date_to}: {self.status}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED) or self.is_abandoned

    @property
    def is_abandoned(self) -> bool:
        """Not built, and no worker has said anything of it for ABANDONED_AFTER: its task
        was lost (or its worker killed, and no other took it over)."""
        if self.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return False
        last_word = self.heartbeat_at or self.created_at
        return last_word < timezone.now() - ABANDONED_AFTER

    @property
    def filename(self) -> str:
        slug = self.billing_profile.name.lower().replace(" ", "-")
        return f"invoices-{slug}-{self.date_from}-{self.date_to}.zip"
