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
from .stripe_gateway import StripeUnavailable


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


@shared_task(
    acks_late=True,
    autoretry_for=(OSError, StripeUnavailable),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=6,
)
def charge_card_invoice(invoice_id: int, number: int) -> str:
    """Send the invoice's card charge `number` (1 at issue, 2 to 5 the retries), unless it
    was sent and settled; its status. Stripe unreachable: retried with the same key."""
    from .services.card_charges import card_charge_claim, card_charge_send

    attempt = card_charge_claim(invoice_id, number)
    if attempt is None:
        return "nothing to do"
    return card_charge_send(attempt).status


@shared_task(acks_late=True)
def card_charges_sweep(day: str | None = None) -> int:
    """Queue every card charge due (Celery beat, hourly): the retries of the day, and any
    claimed attempt whose task was lost; how many."""
    from .notices import notices_resend
    from .services.card_charges import card_charges_due
    from .services.refunds import refunds_due

    today = datetime.date.fromisoformat(day) if day else timezone.now().date()
    due = card_charges_due(today)
    for invoice_id, number in due:
        queue_card_charge(invoice_id, number)
    notices_resend()  # e-mails of invoices whose task was lost
    for refund_id in refunds_due():  # refunds whose task was lost
        queue_refund(refund_id)
    return len(due)


def queue_card_charge(invoice_id: int, number: int) -> None:
    charge_card_invoice.apply_async((invoice_id, number), task_id=f"card-{invoice_id}-{number}")


@shared_task(
    autoretry_for=(OSError,),  # SMTP and network errors, after the claim is given back
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    acks_late=True,
)
def send_invoice_notice(notice_id: int) -> bool:
    """Send an invoice's e-mail unless it was sent (or is being sent); whether this sent it."""
    from .notices import notice_send

    return notice_send(notice_id)


@shared_task(
    acks_late=True,
    autoretry_for=(OSError, StripeUnavailable),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=6,
)
def refund_to_card(refund_id: int) -> str:
    """Ask Stripe for a credit note's refund to the card, unless it is settled; its status."""
    from .services.refunds import refund_send

    refund = refund_send(refund_id)
    return refund.status if refund is not None else "no such refund"


def queue_refund(refund_id: int) -> None:
    refund_to_card.apply_async((refund_id,), task_id=f"refund-{refund_id}")
