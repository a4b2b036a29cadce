"""The transition services: each move, its term, its charge and its audit event, in one go;
refused moves change nothing. The clock is given (`now`)."""

import datetime

import pytest

from billing.models import Charge, ChargeKind
from portal.audit import Actor, event_details
from portal.models import AuditEvent
from publishers.models import Plan, PricingModel, Term
from subscriptions import services
from subscriptions.lifecycle import DisabledReason, IllegalMove, Status
from tests.factories import AppFactory, BillingProfileFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
SYSTEM = Actor.system("publisher")


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def seats(tenant):
    """Pending: 5 licenses at $9.00 a month."""
    plan = PlanFactory(
        app=AppFactory(name="Ledger Pro", pricing_model=PricingModel.PER_SEAT),
        prices={"USD": 900},
    )
    return SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant), plan=plan, unit_amount=900
    )


def charges(sub):
    return list(
        Charge.objects.of_subscription(sub.uuid).values_list("kind", "amount", "period_start")
    )


def test_activation_starts_the_first_term_and_charges_it(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=at(2027, 1, 31, 9))
    sub.refresh_from_db()
    assert (sub.status, sub.term_start, sub.term_end) == (
        Status.ACTIVE,
        datetime.date(2027, 1, 31),
        datetime.date(2027, 2, 28),
    )
    assert (sub.anchor_day, sub.activated_at) == (31, at(2027, 1, 31, 9))
    assert charges(sub) == [(ChargeKind.PURCHASE, 4500, datetime.date(2027, 1, 31))]
    event = AuditEvent.objects.get(verb="subscription.activate")
    assert (event.tenant, event.target_id) == (sub.tenant, str(sub.uuid))
    assert event.data == {"name": "Ledger Pro", "from": "pending_activation", "to": "active"}


def test_renewals_keep_the_anchor_take_the_days_price_and_apply_a_scheduled_decrease(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=at(2027, 1, 31))
    sub.scheduled_quantity = 3
    sub.save(update_fields=["scheduled_quantity"])
    sub.plan.prices.filter(currency="USD").update(amount=1000)  # the plan's price moved
    sub = services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 2, 28))
    assert (sub.term_start, sub.term_end) == (
        datetime.date(2027, 2, 28),
        datetime.date(2027, 3, 31),
    )
    assert (sub.quantity, sub.scheduled_quantity, sub.unit_amount) == (3, None, 1000)
    assert charges(sub)[-1] == (ChargeKind.RENEWAL, 3000, datetime.date(2027, 2, 28))
    event = AuditEvent.objects.get(verb="subscription.renew")
    assert event.data == {
        "name": "Ledger Pro",
        "quantity": 3,
        "unit_amount": {"amount": 1000, "currency": "USD"},
    }
    assert "Unit amount: $10.00" in [str(detail) for detail in event_details(event)]


def test_an_annual_flat_rate_term_is_charged_once_a_year(tenant):
    plan = PlanFactory(
        app=AppFactory(pricing_model=PricingModel.FLAT_RATE),
        term=Term.ANNUAL,
        prices={"USD": 24000},
    )
    sub = SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant), plan=plan, unit_amount=24000
    )
    sub = services.subscription_activate(subscription=sub, actor=SYSTEM, now=at(2028, 2, 29))
    assert sub.term_end == datetime.date(2029, 2, 28)
    sub = services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2029, 2, 28))
    assert sub.term_end == datetime.date(2030, 2, 28)
    assert [amount for _, amount, _ in charges(sub)] == [24000, 24000]


def test_suspend_reinstate_and_the_ways_to_disabled(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=at(2027, 3, 1))
    sub = services.subscription_suspend(subscription=sub, actor=SYSTEM, now=at(2027, 3, 20))
    assert sub.status == Status.SUSPENDED
    sub = services.subscription_reinstate(subscription=sub, actor=SYSTEM, now=at(2027, 3, 21))
    assert sub.status == Status.ACTIVE
    sub = services.subscription_suspend(subscription=sub, actor=SYSTEM, now=at(2027, 4, 20))
    when = at(2027, 6, 19)
    sub = services.subscription_disable_for_non_payment(subscription=sub, actor=SYSTEM, now=when)
    sub.refresh_from_db()
    assert (sub.status, sub.disabled_reason, sub.disabled_at) == (
        Status.DISABLED,
        DisabledReason.NON_PAYMENT,
        when,
    )


def test_a_disabled_app_cant_be_reactivated_and_nothing_is_written(seats):
    sub = services.subscription_expire(subscription=seats, actor=SYSTEM, now=at(2027, 3, 1))
    assert (sub.status, sub.disabled_reason) == (Status.DISABLED, DisabledReason.EXPIRED)
    events = AuditEvent.objects.count()
    for service in (services.subscription_activate, services.subscription_cancel):
        with pytest.raises(IllegalMove, match="Buy it again to keep using it"):
            service(subscription=sub, actor=SYSTEM, now=at(2027, 3, 2))
    sub.refresh_from_db()
    assert sub.status == Status.DISABLED and AuditEvent.objects.count() == events
    assert charges(sub) == []


def test_a_refused_move_in_words(seats):
    with pytest.raises(IllegalMove, match="pending set-up can't be suspended"):
        services.subscription_suspend(subscription=seats, actor=SYSTEM)


ACTIVATED = at(2027, 5, 10, 12)


@pytest.mark.parametrize(
    ("cancel_at", "credit"),
    [
        (ACTIVATED + datetime.timedelta(hours=72), 4500),  # the whole first charge
        (ACTIVATED + datetime.timedelta(hours=72, seconds=1), 0),
    ],
)
def test_cancel_within_72_hours_of_activation_credits_the_first_charge(seats, cancel_at, credit):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=ACTIVATED)
    sub = services.subscription_cancel(subscription=sub, actor=SYSTEM, now=cancel_at)
    assert (sub.status, sub.disabled_reason) == (Status.DISABLED, DisabledReason.CANCELED)
    credits = [amount for kind, amount, _ in charges(sub) if kind == ChargeKind.CANCEL_CREDIT]
    assert credits == ([-credit] if credit else [])


@pytest.mark.parametrize(
    ("days", "credit"),
    # A 30-day term renewed Jun 10 (4500): 7 days on, 23 of 30 days are left.
    [(0, 4500), (7, 3450), (7.000012, 0)],
)
def test_cancel_within_7_days_of_a_renewal_credits_the_unused_part(seats, days, credit):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=ACTIVATED)
    sub = services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 6, 10))
    assert (sub.term_start, sub.term_end) == (
        datetime.date(2027, 6, 10),
        datetime.date(2027, 7, 10),
    )
    renewed = at(2027, 6, 10)
    sub = services.subscription_cancel(
        subscription=sub, actor=SYSTEM, now=renewed + datetime.timedelta(days=days)
    )
    credits = [amount for kind, amount, _ in charges(sub) if kind == ChargeKind.CANCEL_CREDIT]
    assert credits == ([-credit] if credit else [])


def test_cancel_before_activation_credits_nothing(seats):
    sub = services.subscription_cancel(subscription=seats, actor=SYSTEM, now=at(2027, 1, 1))
    assert sub.status == Status.DISABLED and charges(sub) == []


def test_the_term_starts_on_the_utc_day_whatever_the_clocks_zone(seats):
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    when = datetime.datetime(2027, 3, 1, 7, 0, tzinfo=tokyo)  # Feb 28, 22:00 UTC
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=when)
    assert (sub.term_start, sub.anchor_day) == (datetime.date(2027, 2, 28), 28)


def test_a_renewal_asked_twice_or_early_changes_nothing(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=at(2027, 1, 31))
    with pytest.raises(services.NotDue, match="isn't due to renew"):
        services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 2, 27))
    services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 2, 28))
    with pytest.raises(services.NotDue):  # a retried task: the same term is not charged twice
        services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 2, 28, 1))
    sub.refresh_from_db()
    assert sub.term_end == datetime.date(2027, 3, 31)
    assert [kind for kind, _, _ in charges(sub)] == [ChargeKind.PURCHASE, ChargeKind.RENEWAL]
    sub.auto_renew = False
    sub.save(update_fields=["auto_renew"])
    with pytest.raises(services.NotDue, match="set not to renew"):
        services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 3, 31))


def test_a_plan_edited_later_keeps_the_subscriptions_term(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=at(2027, 1, 10))
    Plan.objects.filter(pk=sub.plan_id).update(term=Term.ANNUAL)  # an admin edit
    sub = services.subscription_renew(subscription=sub, actor=SYSTEM, now=at(2027, 2, 10))
    assert (sub.term, sub.term_end) == (Term.MONTHLY, datetime.date(2027, 3, 10))


def test_a_cancel_credits_the_profile_the_charge_was_made_to(seats, tenant):
    first = seats.billing_profile
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=ACTIVATED)
    moved = BillingProfileFactory(tenant=tenant)
    sub.billing_profile = moved
    sub.save(update_fields=["billing_profile"])
    services.subscription_cancel(subscription=sub, actor=SYSTEM, now=ACTIVATED)
    credit = Charge.objects.get(kind=ChargeKind.CANCEL_CREDIT)
    assert (credit.billing_profile, credit.amount) == (first, -4500)
    assert credit.created_at == ACTIVATED  # the given clock


def test_a_refused_move_survives_pickling(seats):
    import pickle

    with pytest.raises(IllegalMove) as refused:
        services.subscription_reinstate(subscription=seats, actor=SYSTEM)
    again = pickle.loads(pickle.dumps(refused.value))
    assert (again.transition, again.status, again.message) == (
        refused.value.transition,
        refused.value.status,
        refused.value.message,
    )


def test_the_credit_names_the_charge_it_gives_back_and_reads_as_money(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=ACTIVATED)
    services.subscription_cancel(subscription=sub, actor=SYSTEM, now=ACTIVATED)
    purchase = Charge.objects.get(kind=ChargeKind.PURCHASE)
    assert Charge.objects.get(kind=ChargeKind.CANCEL_CREDIT).credits == purchase
    event = AuditEvent.objects.get(verb="subscription.cancel")
    assert [str(detail) for detail in event_details(event)] == [
        "Status: Active → Disabled",
        "Credited: $45.00",
    ]


def test_the_7_days_count_from_when_the_renewal_happened(seats):
    sub = services.subscription_activate(subscription=seats, actor=SYSTEM, now=ACTIVATED)
    late = at(2027, 6, 15)  # the term ended Jun 10; the sweep came five days late
    sub = services.subscription_renew(subscription=sub, actor=SYSTEM, now=late)
    assert sub.term_start == datetime.date(2027, 6, 10)
    services.subscription_cancel(
        subscription=sub, actor=SYSTEM, now=late + datetime.timedelta(days=6)
    )
    credit = Charge.objects.get(kind=ChargeKind.CANCEL_CREDIT)
    assert credit.amount == -2850  # 19 of 30 days left on Jun 21
