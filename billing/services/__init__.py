"""Every write to billing profiles, their roles and payment methods, charges and invoices:
one function per use case.

Stripe is called before the database transaction, so when Stripe fails nothing is written;
each function then locks the profile row, writes, and records its audit event.
"""

from .cards import (
    CardSetup,
    CardSetupError,
    billing_profile_card_confirm,
    billing_profile_card_forget,
    billing_profile_card_known,
    billing_profile_card_setup,
    billing_profile_demo_card,
    billing_profile_pay_now_card,
    billing_profile_set_payment_method,
    billing_profile_stripe_forget,
)
from .charges import charge_create, charges_create_many, credit_create
from .events import stripe_event_handle
from .exports import invoice_export_build, invoice_export_request
from .invoices import (
    RunSummary,
    invoice_profiles,
    invoicing_chunks,
    invoicing_period,
    invoicing_run,
)
from .payments import invoice_void, payment_record, payment_refusal
from .profiles import (
    billing_profile_create,
    billing_profile_delete,
    billing_profile_make_default,
    billing_profile_update,
)
from .roles import (
    billing_profile_role_grant,
    billing_profile_role_revoke,
    billing_profile_roles_of_departed_member,
)

__all__ = [
    "CardSetup",
    "CardSetupError",
    "RunSummary",
    "billing_profile_card_confirm",
    "billing_profile_card_forget",
    "billing_profile_card_known",
    "billing_profile_card_setup",
    "billing_profile_create",
    "billing_profile_delete",
    "billing_profile_demo_card",
    "billing_profile_make_default",
    "billing_profile_pay_now_card",
    "billing_profile_role_grant",
    "billing_profile_role_revoke",
    "billing_profile_roles_of_departed_member",
    "billing_profile_set_payment_method",
    "billing_profile_stripe_forget",
    "billing_profile_update",
    "charge_create",
    "charges_create_many",
    "credit_create",
    "invoice_export_build",
    "invoice_export_request",
    "invoice_profiles",
    "invoice_void",
    "invoicing_chunks",
    "invoicing_period",
    "invoicing_run",
    "payment_record",
    "payment_refusal",
    "stripe_event_handle",
]
