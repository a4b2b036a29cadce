"""What the database holds true of every subscription, whoever writes it."""

import datetime
from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import BillingProfile
from publishers.models import MAX_SEATS, PricingModel
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import BoughtVia, Subscription
from tests.factories import AppFactory, BillingProfileFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 2)


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant)


def per_seat_plan():
    return PlanFactory(app=AppFactory(pricing_model=PricingModel.PER_SEAT))


def flat_rate_plan():
    return PlanFactory(app=AppFactory(pricing_model=PricingModel.FLAT_RATE))


def refused(**values):
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(**values)


def test_a_pending_purchase_saves_and_copies_the_plans_pricing_model(profile):
    seats = SubscriptionFactory(billing_profile=profile, plan=per_seat_plan())
    flat = SubscriptionFactory(billing_profile=profile, plan=flat_rate_plan())
    assert (seats.pricing_model, seats.quantity) == (PricingModel.PER_SEAT, 5)
    assert (flat.pricing_model, flat.quantity) == (PricingModel.FLAT_RATE, None)
    assert seats.status == Status.PENDING_ACTIVATION and seats.auto_renew
    assert seats.currency == profile.currency == "USD"


@pytest.mark.parametrize("quantity", [None, 0, MAX_SEATS + 1])
def test_per_license_subscriptions_have_1_to_10000_licenses(profile, quantity):
    refused(billing_profile=profile, plan=per_seat_plan(), quantity=quantity)


def test_flat_rate_subscriptions_have_no_quantity(profile):
    refused(billing_profile=profile, plan=flat_rate_plan(), quantity=3)
    refused(billing_profile=profile, plan=flat_rate_plan(), scheduled_quantity=2)


@pytest.mark.parametrize(("scheduled", "ok"), [(4, True), (1, True), (5, False), (0, False)])
def test_a_scheduled_change_is_a_decrease_within_bounds(profile, scheduled, ok):
    values = {"billing_profile": profile, "plan": per_seat_plan(), "scheduled_quantity": scheduled}
    if ok:
        assert SubscriptionFactory(**values).scheduled_quantity == scheduled
    else:
        refused(**values)


def test_disabled_has_a_reason_and_a_time_and_no_other_status_has_a_reason(profile):
    now = timezone.now()
    refused(billing_profile=profile, status=Status.DISABLED)  # no reason, no time
    refused(billing_profile=profile, status=Status.DISABLED, disabled_reason="canceled")
    refused(billing_profile=profile, disabled_reason=DisabledReason.CANCELED, disabled_at=now)
    gone = SubscriptionFactory(
        billing_profile=profile,
        status=Status.DISABLED,
        disabled_reason=DisabledReason.EXPIRED,
        disabled_at=now,
    )
    assert gone.is_disabled


def test_an_active_subscription_has_its_term_and_activation(profile):
    refused(billing_profile=profile, status=Status.ACTIVE)
    refused(
        billing_profile=profile,
        status=Status.ACTIVE,
        activated_at=timezone.now(),
        term_start=TODAY,
        term_end=TODAY,  # a term ends after it starts
    )
    refused(billing_profile=profile, term_start=TODAY, term_end=TODAY.replace(year=2027))
    now = timezone.now()
    term = {
        "activated_at": now,
        "term_started_at": now,
        "term_start": TODAY,
        "term_end": date(2027, 1, 2),
    }
    refused(billing_profile=profile, status=Status.ACTIVE, **{**term, "term_started_at": None})
    refused(billing_profile=profile, term_started_at=now)  # pending: no term yet
    active = SubscriptionFactory(billing_profile=profile, status=Status.ACTIVE, **term)
    assert Subscription.objects.active().get() == active


def test_a_partners_purchase_names_the_partner_and_only_it_does(profile, partner_tenant):
    refused(billing_profile=profile, bought_via=BoughtVia.PARTNER)
    refused(billing_profile=profile, bought_by_partner=partner_tenant)
    bought = SubscriptionFactory(
        billing_profile=profile, bought_via=BoughtVia.PARTNER, bought_by_partner=partner_tenant
    )
    assert bought.bought_by_partner == partner_tenant


def test_the_currency_and_tenant_are_the_billing_profiles(profile, other_tenant):
    """On PostgreSQL, composite foreign keys (subscriptions migration 0001)."""
    refused(billing_profile=profile, currency="EUR")
    refused(billing_profile=profile, tenant=other_tenant)


def test_a_profile_that_bills_a_subscription_keeps_its_currency(profile):
    SubscriptionFactory(billing_profile=profile)
    assert profile.currency_is_fixed and profile.uses() == ["subscriptions"]
    assert "stays billed in USD" in profile.country_refusal("DE")
    with pytest.raises(IntegrityError), transaction.atomic():  # even a write past the service
        BillingProfile.objects.filter(pk=profile.pk).update(currency="EUR", country="DE")


def test_for_tenant_and_renewing_between(profile, other_tenant):
    def active(term_end, **values):
        return SubscriptionFactory(
            billing_profile=profile,
            status=Status.ACTIVE,
            activated_at=timezone.now(),
            term_started_at=timezone.now(),
            term_start=term_end - datetime.timedelta(days=30),
            term_end=term_end,
            **values,
        )

    due = active(TODAY)
    ended = active(TODAY, auto_renew=False)  # expires instead
    active(TODAY + datetime.timedelta(days=1))  # tomorrow
    overdue = active(TODAY - datetime.timedelta(days=3))  # a day the sweep missed
    SubscriptionFactory(billing_profile=BillingProfileFactory(tenant=other_tenant))
    window = Subscription.objects.renewing_between(TODAY, TODAY + datetime.timedelta(days=1))
    assert list(window) == [due]
    assert set(Subscription.objects.due_by(TODAY)) == {due, ended, overdue}
    assert Subscription.objects.for_tenant(profile.tenant).count() == 4
    assert Subscription.objects.for_tenant(other_tenant).count() == 1
