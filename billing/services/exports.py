"""Exports of a profile's invoices for a period: requested from Bills & payments, built by
a worker (one zip: each document's stored PDF, rendered if it was missing, and one CSV of
all their lines), its progress counted as it goes."""

import logging
import os
import tempfile
import zipfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from ..exports import invoice_csv_rows
from ..models import BillingProfile, ExportStatus, Invoice, InvoiceExport
from ..models.exports import RECLAIM_AFTER

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 5  # documents between two progress writes


def invoice_export_request(*, profile: BillingProfile, date_from, date_to, user) -> InvoiceExport:
    """An export of the profile's documents issued from `date_from` to `date_to`, its
    building task sent once this commits."""
    from ..tasks import build_invoice_export

    export = InvoiceExport.objects.create(
        tenant_id=profile.tenant_id,
        billing_profile=profile,
        date_from=date_from,
        date_to=date_to,
        requested_by=user,
    )

    def send():
        try:
            build_invoice_export.apply_async((export.pk,), task_id=f"invoice-export-{export.pk}")
        except OperationalError as failure:
            logger.warning("Invoice export %s not queued: %s", export.uuid, failure)
            InvoiceExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED,
                error="It couldn't be queued for a worker. Ask for it again.",
                finished_at=timezone.now(),
            )

    transaction.on_commit(send)
    return export


def invoice_export_build(export_id: int) -> bool:
    """Build the export, if it still waits for a worker, or its worker went silent (a
    killed worker's task, given again); a second worker given it meanwhile does nothing.
    Whether this call built it."""
    now = timezone.now()
    waiting = Q(status=ExportStatus.QUEUED) | Q(
        status=ExportStatus.RUNNING, heartbeat_at__lt=now - RECLAIM_AFTER
    )
    if not InvoiceExport.objects.filter(waiting, pk=export_id).update(
        status=ExportStatus.RUNNING, heartbeat_at=now, done=0
    ):
        return False
    export = InvoiceExport.objects.select_related("tenant", "billing_profile").get(pk=export_id)
    invoices = (
        Invoice.objects.issued()
        .filter(
            billing_profile=export.billing_profile,
            issue_date__gte=export.date_from,
            issue_date__lte=export.date_to,
        )
        .select_related("tenant", "corrects")
        .order_by("issue_date", "number")
    )
    try:
        _build(export, list(invoices))
    except Exception as failure:
        logger.exception("Invoice export %s failed", export.uuid)
        InvoiceExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED,
            error=f"It couldn't be built ({type(failure).__name__}). Ask for it again.",
            finished_at=timezone.now(),
        )
        raise
    return True


def _build(export: InvoiceExport, invoices: list[Invoice]) -> None:
    from ..pdf import invoice_pdf

    InvoiceExport.objects.filter(pk=export.pk).update(total=len(invoices))
    with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as scratch:
        try:
            with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for count, invoice in enumerate(invoices, start=1):
                    archive.writestr(f"{invoice.number}.pdf", invoice_pdf(invoice))
                    if count % PROGRESS_EVERY == 0 or count == len(invoices):
                        InvoiceExport.objects.filter(pk=export.pk).update(
                            done=count, heartbeat_at=timezone.now()
                        )
                archive.writestr("invoices.csv", "".join(invoice_csv_rows(invoices)))
            scratch.flush()
            scratch.seek(0)
            path = f"exports/{export.tenant.slug}/{export.uuid}.zip"
            saved = default_storage.save(path, File(scratch, name=path))
        finally:
            os.unlink(scratch.name)
    InvoiceExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.DONE, file=saved, finished_at=timezone.now()
    )
