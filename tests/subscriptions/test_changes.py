"""License quantity, billing profile, auto-renew and name: what each change does, in money,
and what is refused. The clock is given (`now`)."""

import datetime

import pytest

from billing.models import Charge, ChargeKind, PaymentMethod
from portal.audit import Actor, event_details
from portal.models import AuditEvent
from publishers.models import PricingModel
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.services import ChangeRefused
from tests.factories import AppFactory, BillingProfileFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
ADMIN = Actor.system("admin")
ACTIVATED = datetime.datetime(2027, 5, 10, 12, tzinfo=UTC)  # term May 10 to Jun 10: 31 days


def days(n):
    return ACTIVATED + datetime.timedelta(days=n)


@pytest.fixture
def pending(tenant):
    """5 licenses at $9.00 a month, 1 to 50 licenses."""
    plan = PlanFactory(
        app=AppFactory(name="Ledger Pro", pricing_model=PricingModel.PER_SEAT),
        prices={"USD": 900},
        min_quantity=1,
        max_quantity=50,
    )
    profile = BillingProfileFactory(tenant=tenant)
    return SubscriptionFactory(billing_profile=profile, plan=plan, unit_amount=900, quantity=5)


@pytest.fixture
def active(pending):
    return services.subscription_activate(subscription=pending, actor=ADMIN, now=ACTIVATED)


def change(sub, quantity, now):
    return services.subscription_change_quantity(
        subscription=sub, quantity=quantity, actor=ADMIN, now=now
    )


def kinds_and_amounts(sub):
    return list(Charge.objects.of_subscription(sub.uuid).values_list("kind", "amount"))


def test_pending_set_up_the_quantity_just_changes_and_nothing_is_charged(pending):
    sub, quote = change(pending, 12, ACTIVATED)
    assert (sub.quantity, quote.amount, quote.when) == (12, 0, "now")
    assert kinds_and_amounts(sub) == []
    assert "nothing is charged until the publisher sets the app up" in quote.explanation


def test_an_increase_applies_now_with_a_prorated_charge(active):
    sub, quote = change(active, 8, days(10))  # 3 more, 21 of 31 days left: 3 * 900 * 21/31
    assert sub.quantity == 8
    assert kinds_and_amounts(sub)[-1] == (ChargeKind.ADD_QUANTITY, 1829)
    assert quote.explanation == (
        "8 licenses from today: $18.29 is charged now for the rest of this term."
    )
    event = AuditEvent.objects.get(verb="subscription.change_quantity")
    assert [str(d) for d in event_details(event)] == ["Licenses: 5 → 8", "Charged: $18.29"]


def test_a_decrease_within_7_days_applies_now_with_a_credit_of_the_term_charge(active):
    sub, quote = change(active, 2, days(7))  # 3 fewer, 24 of 31 days left
    assert (sub.quantity, sub.scheduled_quantity) == (2, None)
    credit = Charge.objects.get(kind=ChargeKind.REMOVE_QUANTITY)
    assert credit.amount == -2090
    assert credit.credits.kind == ChargeKind.PURCHASE
    assert quote.amount == -2090


def test_a_decrease_after_7_days_waits_for_the_renewal(active):
    sub, quote = change(active, 2, days(7) + datetime.timedelta(seconds=1))
    assert (sub.quantity, sub.scheduled_quantity, quote.when) == (5, 2, "renewal")
    assert kinds_and_amounts(sub) == [(ChargeKind.PURCHASE, 4500)]
    assert "from the renewal on 10 June 2027 you have 2 licenses" in quote.explanation
    renewed = services.subscription_renew(
        subscription=sub, actor=ADMIN, now=datetime.datetime(2027, 6, 10, tzinfo=UTC)
    )
    assert (renewed.quantity, kinds_and_amounts(sub)[-1]) == (2, (ChargeKind.RENEWAL, 1800))


def test_asking_for_the_current_quantity_cancels_a_scheduled_decrease(active):
    sub, _ = change(active, 2, days(20))
    sub, quote = change(sub, 5, days(21))
    assert (sub.quantity, sub.scheduled_quantity) == (5, None)
    assert "the decrease scheduled for the renewal is canceled" in quote.explanation


def test_an_increase_clears_a_scheduled_decrease(active):
    sub, _ = change(active, 2, days(20))
    sub, _ = change(sub, 6, days(21))
    assert (sub.quantity, sub.scheduled_quantity) == (6, None)


@pytest.mark.parametrize(
    ("quantity", "words"),
    [(0, "Choose 1 to 50 licenses."), (51, "Choose 1 to 50 licenses."), (5, "already has")],
)
def test_quantities_out_of_bounds_or_unchanged_are_refused_and_change_nothing(
    active, quantity, words
):
    with pytest.raises(ChangeRefused, match=words):
        change(active, quantity, days(1))
    active.refresh_from_db()
    assert active.quantity == 5
    assert not AuditEvent.objects.filter(verb="subscription.change_quantity").exists()


def test_a_flat_rate_or_suspended_app_has_no_quantity_to_change(tenant, active):
    services.subscription_suspend(subscription=active, actor=ADMIN, now=days(2))
    with pytest.raises(ChangeRefused, match="suspended can't change its license quantity"):
        change(active, 6, days(3))
    flat = SubscriptionFactory(
        billing_profile=active.billing_profile,
        plan=PlanFactory(app=AppFactory(pricing_model=PricingModel.FLAT_RATE)),
    )
    with pytest.raises(ChangeRefused, match="unlimited licenses"):
        change(flat, 6, days(3))


def test_a_cancel_after_an_increase_credits_both_charges_in_full(active):
    change(active, 8, days(1))
    services.subscription_cancel(subscription=active, actor=ADMIN, now=days(2))
    credits = Charge.objects.filter(kind=ChargeKind.CANCEL_CREDIT)
    assert sorted(c.amount for c in credits) == [-4500, -2613]  # 3 * 900 * 30/31 from May 11
    total = sum(Charge.objects.of_subscription(active.uuid).values_list("amount", flat=True))
    assert total == 0


def test_a_cancel_after_a_decrease_credits_only_what_is_left(active):
    change(active, 2, days(1))  # 3 fewer from May 11: credit 3 * 900 * 30/31 = 2613
    services.subscription_cancel(subscription=active, actor=ADMIN, now=days(2))
    total = sum(Charge.objects.of_subscription(active.uuid).values_list("amount", flat=True))
    assert total == 0


def test_the_billing_profile_moves_and_later_charges_go_to_the_new_one(tenant, active):
    new = BillingProfileFactory(tenant=tenant, name="Research")
    services.subscription_change_billing_profile(subscription=active, profile=new, actor=ADMIN)
    change(active, 8, days(1))
    assert Charge.objects.get(kind=ChargeKind.ADD_QUANTITY).billing_profile == new
    assert Charge.objects.get(kind=ChargeKind.PURCHASE).billing_profile != new
    event = AuditEvent.objects.get(verb="subscription.change_billing_profile")
    assert next(str(d) for d in event_details(event)).endswith("→ Research")


def test_a_profile_of_another_currency_or_without_a_card_is_refused(tenant, other_tenant, active):
    german = BillingProfileFactory(tenant=tenant, country="DE")
    cardless = BillingProfileFactory(tenant=tenant, payment_method=PaymentMethod.CARD)
    foreign = BillingProfileFactory(tenant=other_tenant, country="US")
    for profile, words in [
        (german, "billed in USD"),
        (cardless, "has no card yet"),
        (foreign, "one of your billing profiles"),
        (active.billing_profile, "already pays"),
    ]:
        with pytest.raises(ChangeRefused, match=words):
            services.subscription_change_billing_profile(
                subscription=active, profile=profile, actor=ADMIN
            )
    active.refresh_from_db()
    assert not AuditEvent.objects.filter(verb="subscription.change_billing_profile").exists()


def test_auto_renew_off_and_a_new_name_are_audited_and_a_disabled_app_takes_neither(active):
    services.subscription_set_auto_renew(subscription=active, auto_renew=False, actor=ADMIN)
    services.subscription_rename(subscription=active, name="Ledger for finance", actor=ADMIN)
    active.refresh_from_db()
    assert (active.auto_renew, active.name) == (False, "Ledger for finance")
    renewed = AuditEvent.objects.get(verb="subscription.auto_renew")
    assert [str(d) for d in event_details(renewed)] == ["Auto renew: Yes → No"]
    services.subscription_cancel(subscription=active, actor=ADMIN, now=days(30))
    assert active.status == Status.ACTIVE  # the caller's copy; the row is disabled
    for attempt in (
        lambda: services.subscription_set_auto_renew(
            subscription=active, auto_renew=True, actor=ADMIN
        ),
        lambda: services.subscription_rename(subscription=active, name="Again", actor=ADMIN),
    ):
        with pytest.raises(ChangeRefused, match="disabled app can't be changed"):
            attempt()


def test_with_auto_renew_off_a_decrease_at_renewal_is_refused_and_a_scheduled_one_dropped(
    active,
):
    sub, _ = change(active, 2, days(20))
    assert sub.scheduled_quantity == 2
    services.subscription_set_auto_renew(subscription=sub, auto_renew=False, actor=ADMIN)
    sub.refresh_from_db()
    assert sub.scheduled_quantity is None
    with pytest.raises(ChangeRefused, match="set not to renew"):
        change(sub, 3, days(21))


def test_the_list_says_when_each_app_renews_or_stops(active, pending):
    assert pending.renewal_phrase == "After set-up"
    assert active.renewal_phrase == "Renews 10 Jun 2027"
    services.subscription_suspend(subscription=active, actor=ADMIN, now=days(3))
    active.refresh_from_db()
    assert active.renewal_phrase == "Not while suspended (term ends 10 Jun 2027)"
    services.subscription_set_auto_renew(subscription=active, auto_renew=False, actor=ADMIN)
    active.refresh_from_db()
    assert active.renewal_phrase == "Expires after 9 Jun 2027"


def test_an_active_change_with_nothing_left_to_charge_says_so(active):
    quote = services.quantity_quote(active, 8, datetime.datetime(2027, 6, 10, tzinfo=UTC))
    assert quote.amount == 0
    assert (
        quote.explanation
        == "8 licenses from today: nothing is left of this term to charge or credit."
    )
