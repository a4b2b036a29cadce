"""The billing app's data: billing profiles and their roles (`profiles.py`), charges
(`charges.py`), invoices and credit notes (`invoices.py`), their exports (`exports.py`)
and the payments made on them (`payments.py`)."""

from .charges import CREDIT_KINDS, SIGNED_KINDS, Charge, ChargeKind, ChargeQuerySet
from .exports import ExportStatus, InvoiceExport, InvoiceExportQuerySet
from .invoices import (
    ISSUED,
    SERIES,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceQuerySet,
    InvoiceStatus,
    invoice_number,
)
from .notices import InvoiceNotice, InvoiceNoticeKind
from .payments import (
    CARD_RETRY_DAYS,
    CardChargeAttempt,
    ChargeAttemptStatus,
    CreditApplication,
    Payment,
    Refund,
    RefundStatus,
)
from .profiles import (
    TENANT_ROLE_ON_PROFILES,
    BillingProfile,
    BillingProfileQuerySet,
    BillingProfileRole,
    BillingProfileRoleQuerySet,
    PaymentMethod,
    ProfileRole,
    StripeEvent,
)

__all__ = [
    "CARD_RETRY_DAYS",
    "CREDIT_KINDS",
    "ISSUED",
    "SERIES",
    "SIGNED_KINDS",
    "TENANT_ROLE_ON_PROFILES",
    "BillingProfile",
    "BillingProfileQuerySet",
    "BillingProfileRole",
    "BillingProfileRoleQuerySet",
    "CardChargeAttempt",
    "Charge",
    "ChargeAttemptStatus",
    "ChargeKind",
    "ChargeQuerySet",
    "CreditApplication",
    "ExportStatus",
    "Invoice",
    "InvoiceCounter",
    "InvoiceExport",
    "InvoiceExportQuerySet",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceNotice",
    "InvoiceNoticeKind",
    "InvoiceQuerySet",
    "InvoiceStatus",
    "Payment",
    "PaymentMethod",
    "ProfileRole",
    "Refund",
    "RefundStatus",
    "StripeEvent",
    "invoice_number",
]
