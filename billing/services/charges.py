"""Charges: made here only, by the subscription services, in their transaction."""

import datetime
import uuid

from ..models import CREDIT_KINDS, SIGNED_KINDS, BillingProfile, Charge


def charge_create(
    *,
    profile: BillingProfile,
    subscription_uuid: uuid.UUID,
    plan,
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
    """A charge to `profile`, in its tenant and currency, for the `plan` (a publishers.Plan,
    or its id) bought. `amount` is the signed total in minor units: a credit (a removed
    quantity, a cancel's credit) is negative or zero and names the charge it `credits`, in
    that charge's profile, and its plan. `at` is the caller's clock."""
    if credits is not None and credits.billing_profile_id != profile.pk:
        raise ValueError("A credit goes to the profile of the charge it credits.")
    if kind not in SIGNED_KINDS and (kind in CREDIT_KINDS) != (amount < 0) and amount != 0:
        raise ValueError(f"A {kind} charge of {amount} has the wrong sign.")
    return Charge.objects.create(
        tenant_id=profile.tenant_id,
        billing_profile=profile,
        subscription_uuid=subscription_uuid,
        plan_id=getattr(plan, "pk", plan),
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


def charges_create_many(charges: list[Charge]) -> None:
    """The set-based twin of `charge_create`, for the lifecycle sweep: debits built from
    rows (`Charge(tenant_id=..., billing_profile_id=..., currency=..., ...)`, each in its
    profile's currency, as a subscription's is), written in one statement per thousand.
    The term-once constraint refuses a term charged twice, so a doubled renewal can't be."""
    for charge in charges:
        if charge.kind in CREDIT_KINDS or charge.amount < 0 or charge.credits_id is not None:
            raise ValueError(f"Only debits are made in bulk, not {charge.kind} {charge.amount}.")
    Charge.objects.bulk_create(charges, batch_size=1000)


def credit_create(
    *,
    subscription_uuid: uuid.UUID,
    term_end: datetime.date,
    kind: str,
    amount: int,
    description: str,
    unit_amount: int,
    period_start: datetime.date,
    quantity: int | None = None,
    at=None,
) -> list[Charge]:
    """Give back `amount` (> 0, minor units) of what the subscription was charged for the
    term ending `term_end`: one credit per debit, newest debit first, each up to what is
    left of it after earlier credits, each to that debit's profile. The caller holds the
    subscription's lock, so two credits can't give back the same money."""
    if amount <= 0:
        raise ValueError("Credit a positive amount.")
    debits = Charge.objects.creditable(subscription_uuid, term_end).select_related(
        "billing_profile"
    )
    credits, left = [], amount
    for debit in debits:
        if left == 0:
            break
        part = min(left, debit.remaining)
        if part <= 0:
            continue
        credits.append(
            charge_create(
                profile=debit.billing_profile,
                subscription_uuid=subscription_uuid,
                plan=debit.plan_id,
                kind=kind,
                description=description,
                unit_amount=unit_amount,
                amount=-part,
                period_start=period_start,
                period_end=term_end,
                quantity=quantity,
                credits=debit,
                at=at,
            )
        )
        left -= part
    if left:
        raise ValueError(f"Only {amount - left} of {amount} is left to credit for this term.")
    return credits
