"""Background work of billing: the invoice run, fanned out over workers. Tasks are thin:
they take ids, and the database says what is left.

`invoicing_run` (Celery beat, daily) closes the month before today: one `invoicing_chunk`
task per chunk of the profiles with charges to bill, each task's id made of the period and
its chunk. On the 1st it bills the month; on the days after, it finds nothing, unless a
chunk failed or its message was lost, and then it bills what was left.
"""

import datetime

from celery import shared_task
from django.utils import timezone

from .services import invoice_profiles, invoicing_chunks, invoicing_period


@shared_task(acks_late=True)
def invoicing_run(day: str | None = None) -> int:
    """Send the chunks of the run on `day` (default: today, UTC); how many."""
    moment = datetime.date.fromisoformat(day) if day else timezone.now().date()
    start, end = invoicing_period(moment)
    chunks = invoicing_chunks(end)
    for chunk in chunks:
        invoicing_chunk.apply_async(
            (chunk, moment.isoformat()),
            task_id=f"invoicing-{start:%Y-%m}-{chunk[0]}-{chunk[-1]}",
        )
    return len(chunks)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def invoicing_chunk(profile_ids: list[int], day: str) -> int:
    """Bill the chunk's profiles for the month before `day` (one transaction); how many
    documents were issued."""
    summary = invoice_profiles(profile_ids, day=datetime.date.fromisoformat(day))
    return summary.invoices + summary.credit_notes


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def render_invoice_pdf(invoice_id: int) -> bool:
    """Render and store an issued invoice's PDF, unless it is stored already."""
    from .models import Invoice
    from .pdf import invoice_pdf_store, stored_pdf

    invoice = Invoice.objects.issued().select_related("tenant", "corrects").filter(pk=invoice_id)
    invoice = invoice.first()
    if invoice is None or stored_pdf(invoice) is not None:
        return False
    invoice_pdf_store(invoice)
    return True


@shared_task(acks_late=True)
def build_invoice_export(export_id: int) -> bool:
    """Build an export of a profile's invoices (its zip of PDFs and CSV), if it still waits."""
    from .services.exports import invoice_export_build

    return invoice_export_build(export_id)
