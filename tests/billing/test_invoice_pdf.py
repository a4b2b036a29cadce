"""Invoice PDFs: rendered with WeasyPrint once, stored with their checksum and served from
there, rendered again only when missing or altered; on them, read back with pypdf, the
number, dates, totals, each publisher's name and address, payment instructions, and
"Page N of M"."""

import datetime
import hashlib
import io
import uuid

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from billing.models import Invoice
from billing.pdf import invoice_pdf_bytes
from billing.services import charge_create, invoicing_run
from billing.tasks import render_invoice_pdf
from tests.factories import BillingProfileFactory, PlanFactory, PublisherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def issue(profile, lines=1, plan=None):
    plan = plan or PlanFactory(
        app__name="Ledger Pro",
        name="Team",
        app__publisher=PublisherFactory(
            legal_name="Quillfeather Labs Ltd.", address_line1="7 Quill Lane", city="Leeds"
        ),
    )
    for n in range(lines):
        charge_create(
            profile=profile,
            subscription_uuid=uuid.uuid4(),
            plan=plan,
            kind="purchase",
            description=f"Ledger Pro, Team: 5 licenses ({n})",
            quantity=5,
            unit_amount=900,
            amount=4500,
            period_start=datetime.date(2026, 11, 10),
            period_end=datetime.date(2026, 12, 10),
            at=datetime.datetime(2026, 11, 10, tzinfo=datetime.UTC),
        )
    invoicing_run(day=datetime.date(2026, 12, 1))
    return Invoice.objects.select_related("tenant").get(billing_profile=profile)


def text_of(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_holds_what_the_invoice_says(tenant):
    profile = BillingProfileFactory(tenant=tenant, po_number="PO-2026-0042")
    invoice = issue(profile, lines=2)
    assert render_invoice_pdf.delay(invoice.pk).get() is True
    invoice.refresh_from_db()
    with default_storage.open(invoice.pdf_file, "rb") as stored:
        content = stored.read()
    assert hashlib.sha256(content).hexdigest() == invoice.pdf_sha256
    pages, text = text_of(content)
    assert pages == 1 and "Page 1 of 1" in text
    for expected in (
        "INV-2026-000001",
        "Dec 1, 2026",  # issued
        "Dec 31, 2026",  # due, net 30
        "PO-2026-0042",
        "$90.00",  # the total
        "Quillfeather Labs Ltd., 7 Quill Lane, Leeds BS1 4XE, United Kingdom",
        "Marketplace Operator Ltd.",
        "IE6388047V",
        "GB33BUKB20201555555555",  # check/wire: the bank details
    ):
        assert expected in text, expected
    assert render_invoice_pdf.delay(invoice.pk).get() is False  # stored already


def test_a_60_line_invoice_runs_to_two_pages(tenant):
    invoice = issue(BillingProfileFactory(tenant=tenant, payment_method="card"), lines=60)
    pages, text = text_of(invoice_pdf_bytes(invoice))
    assert pages == 2 and "Page 2 of 2" in text and "Page 1 of 2" in text
    assert "charged to the card on file" in text and "IBAN" not in text


def test_the_download_serves_the_stored_file_and_renders_a_missing_one(login, admin, tenant):
    invoice = issue(BillingProfileFactory(tenant=tenant))
    url = f"/t/contoso/billing/bills/invoices/{invoice.uuid}/invoice.pdf"
    first = login(admin).get(url)  # not rendered yet (no worker here): rendered now
    assert first["Content-Type"] == "application/pdf"
    assert first["Content-Disposition"] == 'attachment; filename="INV-2026-000001.pdf"'
    invoice.refresh_from_db()
    assert invoice.pdf_file and hashlib.sha256(first.content).hexdigest() == invoice.pdf_sha256
    with default_storage.open(invoice.pdf_file, "wb") as stored:  # altered on disk
        stored.write(b"%PDF-1.7 not what was stored")
    again = login(admin).get(url)
    assert hashlib.sha256(again.content).hexdigest() == invoice.pdf_sha256  # rendered again
    assert text_of(again.content)[1].count("INV-2026-000001") >= 1
