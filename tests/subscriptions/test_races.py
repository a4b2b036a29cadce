"""Subscription changes at the same moment, each in its own connection: the row lock
(`subscriptions.services.common.locked`) serializes them, so the money always adds up.

The quantity service takes the number of licenses asked for, not "+1": twenty admins who
each read N and ask for N + 1 ask for the same number, and one of them gets it. So the races
here ask for different targets in random order (every increase is charged from the quantity
the locked row holds, so none is charged twice or lost) and for the same target twenty times
(charged once). The clock is fixed: a 30-day term whose proration is whole cents.

`slowed` waits between a service's read and its write (after the quote is made from the row
it read), so without the lock every call reads the same row and the tests fail every time,
not only when the threads happen to overlap.
"""

import datetime
import random
import threading
import time
import uuid
from functools import partial

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.models import Sum

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from portal.models import ActorType, AuditEvent
from publishers.models import PricingModel, WebhookEvent
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.models import Operation, Subscription
from subscriptions.services import ChangeRefused, changes, purchase, transitions
from tests.concurrency import run_together
from tests.factories import AppFactory, BillingProfileFactory, PlanFactory, SubscriptionFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]
UTC = datetime.UTC
ADMIN = Actor.system("admin")
INITIAL, UNIT = 5, 900  # 5 licenses at $9.00 a month
ACTIVATED = datetime.datetime(2027, 6, 1, 12, tzinfo=UTC)  # term June 1 to July 1: 30 days
PURCHASE = INITIAL * UNIT


def days(n):
    return ACTIVATED + datetime.timedelta(days=n)


def per_license(day):
    """What one license added (or removed) `day` days after activation costs: exact."""
    left = 30 - day
    assert UNIT * left % 30 == 0
    return UNIT * left // 30


@pytest.fixture
def active(tenant):
    plan = PlanFactory(
        app=AppFactory(name="Ledger Pro", pricing_model=PricingModel.PER_SEAT),
        prices={"USD": UNIT},
        min_quantity=1,
        max_quantity=50,
    )
    profile = BillingProfileFactory(tenant=tenant)
    pending = SubscriptionFactory(
        billing_profile=profile, plan=plan, unit_amount=UNIT, quantity=INITIAL
    )
    return services.subscription_activate(subscription=pending, actor=ADMIN, now=ACTIVATED)


@pytest.fixture
def slowed(monkeypatch):
    """`slowed(module, "name")`: that function waits a little after it has answered."""

    def slow(module, name, pause=0.02):
        original = getattr(module, name)

        def waiting(*args, **kwargs):
            answer = original(*args, **kwargs)
            time.sleep(pause)
            return answer

        monkeypatch.setattr(module, name, waiting)

    return slow


def charges(sub):
    return Charge.objects.of_subscription(sub.uuid).order_by("pk")


def total(sub):
    return charges(sub).aggregate(total=Sum("amount"))["total"]


def quantity_events(sub):
    return list(
        AuditEvent.objects.filter(verb="subscription.change_quantity", target_id=str(sub.uuid))
        .order_by("pk")
        .values_list("data", flat=True)
    )


def replay(events):
    """The (quantity, scheduled decrease) the audit log's changes lead to, in the order they
    were made (the lock orders the inserts), checking that each started from where the one
    before it left the row: a lost update shows as a change "from" a quantity already gone."""
    quantity, scheduled = INITIAL, None
    for data in events:
        assert data["from"] == quantity, events
        if "applies" in data:  # a decrease kept for the renewal
            scheduled = data["to"]
        else:
            quantity, scheduled = data["to"], None
    return quantity, scheduled


def change_quantity(sub, quantity, now, quotes):
    _, quote = services.subscription_change_quantity(
        subscription=sub, quantity=quantity, actor=ADMIN, now=now
    )
    quotes.append(quote)


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize(
    "day",
    [
        pytest.param(10, id="decreases-wait-for-renewal"),
        pytest.param(3, id="decreases-credited-now"),
    ],
)
def test_twenty_quantity_changes_at_once_charge_exactly_the_final_quantity(
    active, slowed, day, attempt
):
    """Targets initial + 1 .. initial + 20 in random order: each is quoted from the row the
    lock gave it. After day 7 a target below the current quantity waits for the renewal, so
    the quantity ends at initial + 20; before it, it applies now with a credit, so it ends
    at whichever came last. Either way the subscription has paid exactly its purchase plus
    the prorated price of the licenses it ends with."""
    slowed(changes, "quantity_quote")
    targets = [INITIAL + i for i in range(1, 21)]
    random.shuffle(targets)
    quotes = []
    now = days(day)
    errors = run_together(*(partial(change_quantity, active, q, now, quotes) for q in targets))
    assert errors == []

    sub = Subscription.objects.get(pk=active.pk)
    events = quantity_events(sub)
    assert len(events) == len(quotes) == 20
    assert replay(events) == (sub.quantity, sub.scheduled_quantity)
    if day > 7:
        assert sub.quantity == INITIAL + 20
    assert total(sub) == PURCHASE + per_license(day) * (sub.quantity - INITIAL)

    increases = [q for q in quotes if q.new > q.old]
    added = charges(sub).filter(kind=ChargeKind.ADD_QUANTITY)
    assert added.count() == len(increases) == sum(d["to"] > d["from"] for d in events)
    assert sorted(added.values_list("quantity", flat=True)) == sorted(
        q.new - q.old for q in increases
    )
    assert sorted(added.values_list("amount", flat=True)) == sorted(q.amount for q in increases)


@pytest.fixture
def awaiting(active):
    """`active`, its publisher taking webhooks: a customer's change waits for its answer."""
    publisher = active.plan.app.publisher
    publisher.webhook_url = "https://hooks.example/marketplace"
    publisher.save()
    return active


@pytest.mark.parametrize("attempt", range(3))
def test_twenty_admins_asking_for_one_more_license_at_once_get_it_once(awaiting, slowed, attempt):
    """What twenty "+1" clicks on the same page send: the same target, twenty times. One is
    sent to the publisher and waits for its answer (nothing charged yet); the others find
    it waiting and are refused in words. Accepted, it applies once and is charged once."""
    slowed(changes, "quantity_quote")
    quotes = []
    target = INITIAL + 1
    errors = run_together(
        *(partial(change_quantity, awaiting, target, days(10), quotes) for _ in range(20))
    )
    assert len(quotes) == 1 and len(errors) == 19
    assert all(isinstance(e, ChangeRefused) and e.code == "waiting" for e in errors), errors
    assert all("Waiting for" in " ".join(e.messages) for e in errors)

    (operation,) = Operation.objects.filter(subscription=awaiting)
    assert (operation.status, operation.quantity) == ("InProgress", target)
    assert WebhookEvent.objects.filter(uuid=operation.uuid).count() == 1
    sub = Subscription.objects.get(pk=awaiting.pk)
    assert sub.quantity == INITIAL and total(sub) == PURCHASE

    with transaction.atomic():
        services.operation_answer(operation=operation, succeeded=True, actor=ADMIN, now=days(10))
    sub = Subscription.objects.get(pk=awaiting.pk)
    assert (sub.quantity, sub.scheduled_quantity) == (target, None)
    (added,) = charges(sub).filter(kind=ChargeKind.ADD_QUANTITY)
    assert (added.quantity, added.amount) == (1, per_license(10))
    assert total(sub) == PURCHASE + per_license(10)
    assert replay(quantity_events(sub)) == (target, None)


@pytest.mark.parametrize("attempt", range(5))
def test_a_cancel_racing_a_quantity_change_leaves_one_consistent_outcome(active, slowed, attempt):
    """Within 72 hours of activation a cancel credits all the term was charged. Either the
    change came first (charged, then credited with the rest: nothing owed) or the cancel did
    (the change is refused on the disabled app and charges nothing). Never a charge after
    the cancel's credit."""
    slowed(changes, "quantity_quote")
    slowed(transitions, "cancel_quote")
    now = days(1)
    quotes = []
    errors = run_together(
        partial(change_quantity, active, INITIAL + 3, now, quotes),
        partial(services.subscription_cancel, subscription=active, actor=ADMIN, now=now),
    )
    sub = Subscription.objects.get(pk=active.pk)
    assert sub.status == Status.DISABLED
    kinds = list(charges(sub).values_list("kind", flat=True))
    if quotes:  # the change came first
        assert errors == []
        assert quotes[0].amount == 3 * per_license(1)
        assert sub.quantity == INITIAL + 3
        assert kinds[:2] == [ChargeKind.PURCHASE, ChargeKind.ADD_QUANTITY]
        assert set(kinds[2:]) == {ChargeKind.CANCEL_CREDIT}
    else:  # the cancel came first
        (refused,) = errors
        assert isinstance(refused, ChangeRefused), errors
        assert "disabled" in refused.message
        assert sub.quantity == INITIAL
        assert kinds == [ChargeKind.PURCHASE, ChargeKind.CANCEL_CREDIT]
        assert quantity_events(sub) == []
    assert total(sub) == 0
    verbs = AuditEvent.objects.filter(target_id=str(sub.uuid)).order_by("pk")
    assert list(verbs.values_list("verb", flat=True))[-1] == "subscription.cancel"


@pytest.mark.parametrize("attempt", range(3))
def test_two_purchases_with_one_key_at_once_buy_once(tenant, admin, slowed, monkeypatch, attempt):
    """Both requests pass the "already bought?" look-up before either has written (the pause
    after the refusal check sees to it); the unique key stops the second insert, and that
    request returns the first one's subscription. One audit event, one e-mail."""
    plan = PlanFactory(
        app=AppFactory(pricing_model=PricingModel.PER_SEAT), prices={"USD": UNIT}, max_quantity=50
    )
    profile = BillingProfileFactory(tenant=tenant)
    actor = Actor(type=ActorType.USER, label=admin.email, user=admin)
    key = uuid.uuid4()
    checked, results, lock = [], [], threading.Lock()
    refusal = purchase.purchase_refusal

    def counted(**kwargs):
        with lock:
            checked.append(1)
        return refusal(**kwargs)

    monkeypatch.setattr(purchase, "purchase_refusal", counted)
    slowed(purchase, "purchase_refusal", pause=0.1)
    mail.outbox = []

    def buy():
        results.append(
            services.subscription_buy(
                tenant=tenant,
                plan=plan,
                profile=profile,
                quantity=7,
                purchase_key=key,
                actor=actor,
            )
        )

    assert run_together(buy, buy) == []
    assert len(checked) == 2  # both got past the look-up: the race was run
    (sub,) = Subscription.objects.for_tenant(tenant)
    assert (sub.purchase_key, sub.quantity, sub.status) == (key, 7, Status.PENDING_ACTIVATION)
    assert sorted(made for _, made in results) == [False, True]
    assert [s.pk for s, _ in results] == [sub.pk, sub.pk]
    assert AuditEvent.objects.filter(verb="subscription.buy").count() == 1
    assert [m.to for m in mail.outbox] == [[admin.email]]
