"""The subscription transitions: one service each (ARCHITECTURE.md, Subscription lifecycle).

Each, in one transaction: locks the row, checks the move against `lifecycle.MOVES` (an
illegal move raises `IllegalMove`, whose message pages show), writes the new state, records
an audit event, tells the publisher (`tell_publisher`: the "Webhooks and operations" issue
writes its outbox row there), and creates any charge through `billing.services`. `now` is
the clock, given by tests; the services read it once.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.models import Charge, ChargeKind
from billing.proration import prorate
from billing.services import charge_create, credit_create
from portal.audit import Actor, audit_record
from portal.money import format_money

from ..lifecycle import Status, Transition, check_move
from ..models import Subscription
from ..terms import term_end
from .common import ChangeRefused, describe, locked, money, recheck, utc_day
from .outbox import tell_publisher

# Cancel credits (the seed: what a cancel gives back, in money).
FIRST_TERM_FULL_CREDIT = datetime.timedelta(hours=72)
AFTER_RENEWAL_CREDIT = datetime.timedelta(days=7)


def _charge_term(subscription: Subscription, kind: str, now) -> None:
    """The charge for the whole of the subscription's current term."""
    charge_create(
        at=now,
        profile=subscription.billing_profile,
        subscription_uuid=subscription.uuid,
        plan=subscription.plan,
        kind=kind,
        description=describe(subscription, subscription.term_start, subscription.term_end),
        quantity=subscription.quantity,
        unit_amount=subscription.unit_amount,
        amount=subscription.term_amount,
        period_start=subscription.term_start,
        period_end=subscription.term_end,
    )


def _move(subscription, transition, actor: Actor, now, *, data=None, fields=()):
    """Check and write the move; the caller has locked the row and set `fields`."""
    move = check_move(transition, subscription.status)
    old = subscription.status
    subscription.status = move.target
    changed = {"status", *fields}
    if move.target == Status.DISABLED:
        subscription.disabled_reason, subscription.disabled_at = move.reason, now
        changed |= {"disabled_reason", "disabled_at"}
    if move.target != Status.SUSPENDED and subscription.suspended_for_id is not None:
        subscription.suspended_for = None  # no longer waiting on an overdue invoice
        changed.add("suspended_for")
    subscription.save(update_fields=sorted(changed))
    audit_record(
        tenant=subscription.tenant,
        actor=actor,
        verb=f"subscription.{transition}",
        target=subscription,
        at=now,
        data={
            "name": subscription.name,
            **({"from": old, "to": move.target} if old != move.target else {}),
            **(data or {}),
        },
    )
    tell_publisher(subscription, transition, actor, now)
    return subscription


def subscription_activate(*, subscription: Subscription, actor: Actor, now=None) -> Subscription:
    """The publisher has set the app up: the first term starts today (UTC) and its charge is
    made (nothing is charged while pending set-up)."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = locked(subscription)
        check_move(Transition.ACTIVATE, sub.status)
        start = utc_day(now)
        sub.activated_at = sub.term_started_at = now
        sub.term_start = start
        sub.term_end = term_end(start, sub.term)
        fields = ["activated_at", "term_started_at", "term_start", "term_end"]
        _move(sub, Transition.ACTIVATE, actor, now, fields=fields)
        _charge_term(sub, ChargeKind.PURCHASE, now)
    return sub


class NotDue(ValidationError):
    """A renewal asked before the term has ended, or of one set not to renew."""


def subscription_renew(*, subscription: Subscription, actor: Actor, now=None) -> Subscription:
    """A new term from the old end (the anchor day kept), once the term has ended: a
    scheduled decrease applies first, and the unit price becomes the plan's price of the day
    in the subscription's currency (kept as it was if the plan no longer has one in it).
    Asked again for the same term (a retried task), it refuses with NotDue: nothing doubles."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = locked(subscription)
        check_move(Transition.RENEW, sub.status)
        if not sub.auto_renew:
            raise NotDue("This app is set not to renew: it expires at the end of its term.")
        if sub.term_end > utc_day(now):
            raise NotDue(f"This app's term runs until {sub.term_end}: it isn't due to renew.")
        data = {}
        if sub.scheduled_quantity is not None:
            sub.quantity, sub.scheduled_quantity = sub.scheduled_quantity, None
            data["quantity"] = sub.quantity
        price = Subscription.objects.with_renewal_price().get(pk=sub.pk).renewal_unit_amount
        if price != sub.unit_amount:
            sub.unit_amount = price
            data["unit_amount"] = money(price, sub.currency)
        sub.term_start, sub.term_started_at = sub.term_end, now
        sub.term_end = term_end(sub.term_start, sub.term, anchor_day=sub.anchor_day)
        fields = ["quantity", "scheduled_quantity", "unit_amount", "term_start", "term_end"]
        fields.append("term_started_at")
        _move(sub, Transition.RENEW, actor, now, data=data, fields=fields)
        _charge_term(sub, ChargeKind.RENEWAL, now)
    return sub


def _plain(transition):
    def service(*, subscription: Subscription, actor: Actor, now=None) -> Subscription:
        now = now or timezone.now()
        with transaction.atomic():
            return _move(locked(subscription), transition, actor, now)

    service.__name__ = f"subscription_{transition}"
    return service


subscription_suspend = _plain(Transition.SUSPEND)
subscription_suspend.__doc__ = "Payment isn't current: the app stops until it is (reinstate)."


def subscription_reinstate(*, subscription: Subscription, actor: Actor, now=None) -> Subscription:
    """The overdue invoice is paid: the app works again. A term that ended while it was
    suspended (it doesn't renew then) renews now from its old end, the anchor day kept, as
    many times as it takes to reach today."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = _move(locked(subscription), Transition.REINSTATE, actor, now)
        while sub.auto_renew and sub.term_end <= utc_day(now):
            sub = subscription_renew(subscription=sub, actor=actor, now=now)
    return sub


subscription_expire = _plain(Transition.EXPIRE)
subscription_expire.__doc__ = "The term ended without renewal, or set-up never came: disabled."
subscription_disable_for_non_payment = _plain(Transition.DISABLE_FOR_NON_PAYMENT)
subscription_disable_for_non_payment.__doc__ = "Still unpaid after suspension: disabled."


@dataclass(frozen=True)
class CancelQuote:
    """What a cancel gives back now, in minor units, and by which rule."""

    amount: int
    currency: str
    since: datetime.date  # the first day credited
    rule: str  # "pending", "first_term", "after_renewal" or "none"

    @property
    def explanation(self) -> str:
        amount = format_money(self.amount, self.currency)
        return {
            "pending": "It isn't set up yet, so nothing has been charged and nothing is credited.",
            "first_term": (
                f"It was activated less than 72 hours ago: the full first charge, {amount}, "
                "is credited to its billing profile."
            ),
            "after_renewal": (
                f"It renewed less than 7 days ago: the unused part of this term, {amount}, "
                "is credited to its billing profile."
            ),
            "none": (
                "Nothing is credited: a cancel gives money back only within 72 hours of "
                "activation, or within 7 days of a renewal."
            ),
        }[self.rule]


def cancel_quote(subscription: Subscription, now=None) -> CancelQuote:
    """What a cancel gives back now: nothing before activation (nothing was charged); all
    that was charged for the first term within 72 hours of activation; the unused part of
    the term from today within 7 days of a renewal; later nothing. The confirmation page
    shows it and `subscription_cancel` credits it: one rule."""
    now = now or timezone.now()
    today, currency = utc_day(now), subscription.currency

    def quote(amount, rule, since=today):
        return CancelQuote(amount, currency, since, rule)

    if subscription.activated_at is None or subscription.is_disabled:
        return quote(0, "pending" if subscription.is_pending else "none")
    left = Charge.objects.net_for_term(subscription.uuid, subscription.term_end)
    first_term = subscription.term_started_at == subscription.activated_at
    if first_term:
        if now - subscription.activated_at > FIRST_TERM_FULL_CREDIT:
            return quote(0, "none")
        return quote(max(left, 0), "first_term" if left > 0 else "none", subscription.term_start)
    if now - subscription.term_started_at > AFTER_RENEWAL_CREDIT:
        return quote(0, "none")
    on = max(today, subscription.term_start)
    unused = prorate(
        subscription.term_amount,
        term_start=subscription.term_start,
        term_end=subscription.term_end,
        on=on,
    )
    credit = min(unused, max(left, 0))
    return quote(credit, "after_renewal" if credit else "none", on)


def subscription_cancel(
    *,
    subscription: Subscription,
    actor: Actor,
    now=None,
    expected_credit: int | None = None,
    check=None,
) -> Subscription:
    """The customer cancels: disabled at once, with the credit `cancel_quote` says, given
    back of the term's charges (to the profiles they were made to). `expected_credit` is
    the credit the person was shown: if it is no longer what a cancel gives back (the
    72-hour window closed meanwhile), nothing is done."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = locked(subscription)
        recheck(sub, check)
        check_move(Transition.CANCEL, sub.status)
        credit = cancel_quote(sub, now)
        if expected_credit is not None and credit.amount != expected_credit:
            raise ChangeRefused(
                f"What canceling gives back changed since you looked: {credit.explanation} "
                "Review it again.",
                code="stale",
            )
        data = {"credit": money(credit.amount, sub.currency)} if credit.amount else None
        _move(sub, Transition.CANCEL, actor, now, data=data)
        if credit.amount:
            credit_create(
                at=now,
                subscription_uuid=sub.uuid,
                term_end=sub.term_end,
                kind=ChargeKind.CANCEL_CREDIT,
                description=f"Canceled: {describe(sub, credit.since, sub.term_end)}",
                quantity=sub.quantity,
                unit_amount=sub.unit_amount,
                amount=credit.amount,
                period_start=credit.since,
            )
    return sub
