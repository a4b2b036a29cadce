"""Invoice exports: the lines of invoices as CSV, amounts in major units beside the currency."""

from portal.exports import csv_lines
from portal.money import major_amount

from .models import Invoice, InvoiceLine

CSV_COLUMNS = [
    "Document",
    "Number",
    "Issue date",
    "Billing profile",
    "Line",
    "Transaction type",
    "App",
    "Plan",
    "Publisher",
    "Description",
    "Service from",
    "Service to",
    "Quantity",
    "Unit price",
    "Amount",
    "Tax rate (%)",
    "Tax",
    "Total",
    "Currency",
]


def invoice_csv_rows(invoices):
    """CSV lines of the invoices' lines, header first, one at a time (for streaming)."""
    lines = (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .select_related("invoice", "invoice__billing_profile")
        .order_by("invoice__issue_date", "invoice__number", "position")
    )
    return csv_lines(CSV_COLUMNS, (_row(line) for line in lines.iterator(chunk_size=500)))


def _row(line: InvoiceLine) -> list:
    invoice: Invoice = line.invoice
    currency = invoice.currency
    return [
        invoice.get_kind_display(),
        invoice.number,
        invoice.issue_date.isoformat(),
        invoice.billing_profile.name,
        line.position,
        line.get_transaction_type_display(),
        line.app_name,
        line.plan_name,
        line.publisher_name,
        line.description,
        line.period_start.isoformat(),
        line.period_last_day.isoformat(),
        line.quantity if line.quantity is not None else "Unlimited",
        major_amount(line.unit_amount, currency),
        major_amount(line.amount, currency),
        line.tax_rate,
        major_amount(line.tax, currency),
        major_amount(line.total, currency),
        currency,
    ]
