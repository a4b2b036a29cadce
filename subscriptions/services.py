"""The subscription transitions: one service each (ARCHITECTURE.md, Subscription lifecycle).

Each, in one transaction: locks the row, checks the move against `lifecycle.MOVES` (an
illegal move raises `IllegalMove`, whose message pages show), writes the new state, records
an audit event, tells the publisher (`_tell_publisher`: the "Webhooks and operations" issue
writes its outbox row there), and creates any charge through `billing.services`. `now` is
the clock, given by tests; the services read it once.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.models import Charge, ChargeKind
from billing.proration import prorate
from billing.services import charge_create
from portal.audit import Actor, audit_record
from publishers.models import Price

from .lifecycle import Status, Transition, check_move
from .models import Subscription
from .terms import term_end

# Cancel credits (the seed: what a cancel gives back, in money).
FIRST_TERM_FULL_CREDIT = datetime.timedelta(hours=72)
AFTER_RENEWAL_CREDIT = datetime.timedelta(days=7)


def _locked(subscription: Subscription) -> Subscription:
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__app", "billing_profile", "tenant")
        .get(pk=subscription.pk)
    )


def _money(amount: int, currency: str) -> dict:
    """An amount as the audit log keeps it, so the page can show it as money."""
    return {"amount": amount, "currency": currency}


def _utc_day(moment: datetime.datetime) -> datetime.date:
    """Terms are UTC calendar days, whatever time zone the moment was given in."""
    return moment.astimezone(datetime.UTC).date()


def _tell_publisher(subscription: Subscription, transition: str) -> None:
    """Where the publisher hears of the change, in the same transaction: the "Webhooks and
    operations" issue writes the outbox row for `transition` here. Nothing to do until then."""


def _term_amount(subscription: Subscription) -> int:
    return subscription.unit_amount * (subscription.quantity or 1)


def _licenses(subscription: Subscription) -> str:
    if subscription.quantity is None:
        return "unlimited licenses"
    return f"{subscription.quantity} license{'' if subscription.quantity == 1 else 's'}"


def _description(subscription: Subscription, start, end) -> str:
    """ "Ledger Pro, Team: 5 licenses, 2027-01-31 to 2027-02-27": the days served, the last
    one included (a term's `end` is the next term's first day)."""
    plan, last = subscription.plan, end - datetime.timedelta(days=1)
    return f"{plan.app.name}, {plan.name}: {_licenses(subscription)}, {start} to {last}"


def _charge_term(subscription: Subscription, kind: str, now) -> None:
    """The charge for the whole of the subscription's current term."""
    charge_create(
        at=now,
        profile=subscription.billing_profile,
        subscription_uuid=subscription.uuid,
        kind=kind,
        description=_description(subscription, subscription.term_start, subscription.term_end),
        quantity=subscription.quantity,
        unit_amount=subscription.unit_amount,
        amount=_term_amount(subscription),
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
    subscription.save(update_fields=sorted(changed))
    audit_record(
        tenant=subscription.tenant,
        actor=actor,
        verb=f"subscription.{transition}",
        target=subscription,
        data={
            "name": subscription.name,
            **({"from": old, "to": move.target} if old != move.target else {}),
            **(data or {}),
        },
    )
    _tell_publisher(subscription, transition)
    return subscription


def subscription_activate(*, subscription: Subscription, actor: Actor, now=None) -> Subscription:
    """The publisher has set the app up: the first term starts today (UTC) and its charge is
    made (nothing is charged while pending set-up)."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = _locked(subscription)
        check_move(Transition.ACTIVATE, sub.status)
        start = _utc_day(now)
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
        sub = _locked(subscription)
        check_move(Transition.RENEW, sub.status)
        if not sub.auto_renew:
            raise NotDue("This app is set not to renew: it expires at the end of its term.")
        if sub.term_end > _utc_day(now):
            raise NotDue(f"This app's term runs until {sub.term_end}: it isn't due to renew.")
        data = {}
        if sub.scheduled_quantity is not None:
            sub.quantity, sub.scheduled_quantity = sub.scheduled_quantity, None
            data["quantity"] = sub.quantity
        price = Price.objects.filter(plan=sub.plan, currency=sub.currency).first()
        if price is not None and price.amount != sub.unit_amount:
            sub.unit_amount = price.amount
            data["unit_amount"] = _money(price.amount, sub.currency)
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
            return _move(_locked(subscription), transition, actor, now)

    service.__name__ = f"subscription_{transition}"
    return service


subscription_suspend = _plain(Transition.SUSPEND)
subscription_suspend.__doc__ = "Payment isn't current: the app stops until it is (reinstate)."
subscription_reinstate = _plain(Transition.REINSTATE)
subscription_reinstate.__doc__ = "The overdue invoice is paid: the app works again."
subscription_expire = _plain(Transition.EXPIRE)
subscription_expire.__doc__ = "The term ended without renewal, or set-up never came: disabled."
subscription_disable_for_non_payment = _plain(Transition.DISABLE_FOR_NON_PAYMENT)
subscription_disable_for_non_payment.__doc__ = "Still unpaid after suspension: disabled."


def cancel_credit(subscription: Subscription, now) -> tuple[int, Charge | None, datetime.date]:
    """What a cancel gives back now, in minor units (>= 0), the charge it credits and the
    first day credited: nothing before activation (nothing was charged); the whole first
    charge within 72 hours of activation; the unused part of the term within 7 days of a
    renewal; later nothing."""
    none = (0, None, _utc_day(now))
    if subscription.status == Status.PENDING_ACTIVATION or subscription.activated_at is None:
        return none
    charges = Charge.objects.of_subscription(subscription.uuid).filter(
        period_start=subscription.term_start
    )
    if subscription.term_start == _utc_day(subscription.activated_at):  # the first term
        purchase = charges.filter(kind=ChargeKind.PURCHASE).first()
        if purchase is None or now - subscription.activated_at > FIRST_TERM_FULL_CREDIT:
            return none
        return purchase.amount, purchase, subscription.term_start
    renewal = charges.filter(kind=ChargeKind.RENEWAL).first()
    if renewal is None or now - subscription.term_started_at > AFTER_RENEWAL_CREDIT:
        return none
    on = max(_utc_day(now), subscription.term_start)
    credit = prorate(
        renewal.amount, term_start=subscription.term_start, term_end=subscription.term_end, on=on
    )
    return credit, renewal, on


def subscription_cancel(*, subscription: Subscription, actor: Actor, now=None) -> Subscription:
    """The customer cancels: disabled at once, with the credit `cancel_credit` says, to the
    billing profile the credited charge was made to."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = _locked(subscription)
        check_move(Transition.CANCEL, sub.status)
        credit, credited, since = cancel_credit(sub, now)
        data = {"credit": _money(credit, sub.currency)} if credit else None
        _move(sub, Transition.CANCEL, actor, now, data=data)
        if credit:
            charge_create(
                at=now,
                profile=credited.billing_profile,
                subscription_uuid=sub.uuid,
                kind=ChargeKind.CANCEL_CREDIT,
                description=f"Canceled: {_description(sub, since, sub.term_end)}",
                quantity=sub.quantity,
                unit_amount=sub.unit_amount,
                amount=-credit,
                period_start=since,
                period_end=sub.term_end,
                credits=credited,
            )
    return sub
