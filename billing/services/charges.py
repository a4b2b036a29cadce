"""Charges: made here only, by the subscription services, in their transaction."""

import datetime
import uuid

from ..models import CREDIT_KINDS, BillingProfile, Charge


def charge_create(
    *,
    profile: BillingProfile,
    subscription_uuid: uuid.UUID,
    kind: str,
    description: str,
    unit_amount: int,
    amount: int,
    period_start: datetime.date,
    period_end: datetime.date,
    quantity: int | None = None,
    credits: Charge | None = None,
    at=None,
) -> Charge:
    """A charge to `profile`, in its tenant and currency. `amount` is the signed total in
    minor units: a credit (a removed quantity, a cancel's credit) is negative or zero and
    names the charge it `credits`, in that charge's profile. `at` is the caller's clock."""
    if credits is not None and credits.billing_profile_id != profile.pk:
        raise ValueError("A credit goes to the profile of the charge it credits.")
    if (kind in CREDIT_KINDS) != (amount < 0) and amount != 0:
        raise ValueError(f"A {kind} charge of {amount} has the wrong sign.")
    return Charge.objects.create(
        tenant_id=profile.tenant_id,
        billing_profile=profile,
        subscription_uuid=subscription_uuid,
        kind=kind,
        description=description,
        quantity=quantity,
        unit_amount=unit_amount,
        amount=amount,
        currency=profile.currency,
        period_start=period_start,
        period_end=period_end,
        credits=credits,
        **({"created_at": at} if at is not None else {}),
    )
