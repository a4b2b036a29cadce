"""Invoice PDFs: rendered once with WeasyPrint from `billing/invoice_pdf.html`, stored under
MEDIA_ROOT with their SHA-256, served from there; rendered again only when the stored file
is missing or not what was stored.

Money is shown in the tenant's locale, as on its pages; fonts are the system's (DejaVu, by
scripts/ensure-pdf-deps), so nothing is fetched while rendering.
"""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from portal.money import locale_for_country, money_locale

from .models import Invoice, InvoiceKind, PaymentMethod


def _url_fetcher(url, *args, **kwargs):
    """Nothing is fetched while rendering an invoice: its template is self-contained."""
    raise ValueError(f"An invoice PDF fetches nothing ({url!r}).")


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """The invoice's PDF, as its customer will read it."""
    from weasyprint import HTML

    lines = list(invoice.lines.all())
    charges = sum(line.amount for line in lines if line.amount > 0)
    publishers = {line.publisher_name: line.publisher_address_one_line for line in lines}
    context = {
        "invoice": invoice,
        "lines": lines,
        "publishers": sorted(publishers.items()),
        "charges": charges,
        "credits": sum(line.amount for line in lines if line.amount < 0),
        "card": invoice.payment_method == PaymentMethod.CARD,
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "remittance": invoice.seller.get("remittance", settings.REMITTANCE),
    }
    with money_locale(locale_for_country(invoice.tenant.country)):
        html = render_to_string("billing/invoice_pdf.html", context)
    return HTML(string=html, url_fetcher=_url_fetcher).write_pdf()


def pdf_path(invoice: Invoice) -> str:
    return f"invoices/{invoice.tenant.slug}/{invoice.issue_date:%Y}/{invoice.number}.pdf"


def stored_pdf(invoice: Invoice) -> bytes | None:
    """The stored PDF, if it is there and is what was stored."""
    if not invoice.pdf_file or not default_storage.exists(invoice.pdf_file):
        return None
    with default_storage.open(invoice.pdf_file, "rb") as stored:
        content = stored.read()
    return content if hashlib.sha256(content).hexdigest() == invoice.pdf_sha256 else None


def invoice_pdf_store(invoice: Invoice) -> bytes:
    """Render the invoice's PDF and store it (replacing what was there), its path and
    checksum kept on the invoice; the PDF."""
    content = invoice_pdf_bytes(invoice)
    path = pdf_path(invoice)
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(content))
    invoice.pdf_file, invoice.pdf_sha256 = saved, hashlib.sha256(content).hexdigest()
    Invoice.objects.filter(pk=invoice.pk).update(
        pdf_file=invoice.pdf_file, pdf_sha256=invoice.pdf_sha256
    )
    return content


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF: the stored one, or rendered and stored now when it is missing."""
    return stored_pdf(invoice) or invoice_pdf_store(invoice)
