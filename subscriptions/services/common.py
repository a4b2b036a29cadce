"""What every subscription service shares: the row lock, the clock's day and charge
wording (the publisher hears of a change in `outbox`)."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import Subscription


class ChangeRefused(ValidationError):
    """A change the subscription can't take; nothing written."""


def recheck(subscription: Subscription, check) -> None:
    """The caller's permission check (`check(subscription) -> refusal`), asked again of the
    locked row: the profile that pays, or the partner that manages it, may have changed
    since the page was read."""
    if check is not None and (refusal := check(subscription)):
        raise ChangeRefused(refusal, code="not_allowed")


def locked(subscription: Subscription) -> Subscription:
    """The subscription's row, locked for the rest of the transaction, read afresh."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__app", "billing_profile", "tenant", "bought_by_partner")
        .get(pk=subscription.pk)
    )


def money(amount: int, currency: str) -> dict:
    """An amount as the audit log keeps it, so the page can show it as money."""
    return {"amount": amount, "currency": currency}


def utc_day(moment: datetime.datetime | None = None) -> datetime.date:
    """Terms are UTC calendar days, whatever time zone the moment was given in."""
    return (moment or timezone.now()).astimezone(datetime.UTC).date()


def licenses(quantity: int | None) -> str:
    if quantity is None:
        return "unlimited licenses"
    return f"{quantity} license{'' if quantity == 1 else 's'}"


def describe(subscription: Subscription, start, end, quantity=None) -> str:
    """ "Ledger Pro, Team: 5 licenses, 2027-01-31 to 2027-02-27": the days served, the last
    one included (a term's `end` is the next term's first day)."""
    count = subscription.quantity if quantity is None else quantity
    plan = subscription.plan
    return describe_term(plan.app.name, plan.name, count, start, end)


def describe_term(app: str, plan: str, quantity: int | None, start, end) -> str:
    """`describe` from the names alone, for the sweep's rows."""
    return f"{app}, {plan}: {licenses(quantity)}, {start} to {end - datetime.timedelta(days=1)}"
