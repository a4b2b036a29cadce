"""Charges: made by one service, in the profile's tenant and currency, credits negative."""

import uuid
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from billing.models import Charge, ChargeKind
from billing.services import charge_create
from tests.factories import BillingProfileFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant)


def make(profile, **values):
    fields = {
        "profile": profile,
        "subscription_uuid": uuid.uuid4(),
        "plan": PlanFactory(),
        "kind": ChargeKind.PURCHASE,
        "description": "Ledger Pro, Team: 5 licenses, Dec 2 2026 to Jan 2 2027",
        "quantity": 5,
        "unit_amount": 900,
        "amount": 4500,
        "period_start": date(2026, 12, 2),
        "period_end": date(2027, 1, 2),
    }
    return charge_create(**{**fields, **values})


def test_a_charge_takes_its_profiles_tenant_and_currency(profile):
    charge = make(profile)
    assert (charge.tenant, charge.currency, charge.amount) == (profile.tenant, "USD", 4500)
    assert list(Charge.objects.for_tenant(profile.tenant)) == [charge]
    assert list(Charge.objects.of_subscription(charge.subscription_uuid)) == [charge]
    assert profile.uses() == ["charges"]  # so its currency is fixed


def test_credits_are_negative_and_debits_are_not(profile):
    assert make(profile, kind=ChargeKind.CANCEL_CREDIT, amount=-4500).amount == -4500
    with pytest.raises(ValueError, match="wrong sign"):
        make(profile, kind=ChargeKind.CANCEL_CREDIT, amount=4500)
    with pytest.raises(ValueError, match="wrong sign"):
        make(profile, kind=ChargeKind.RENEWAL, amount=-1)


def test_the_database_refuses_what_the_service_would(profile, other_tenant):
    good = make(profile)

    def refused(**values):
        with pytest.raises(IntegrityError), transaction.atomic():
            Charge.objects.filter(pk=good.pk).update(**values)

    refused(amount=-1)  # a purchase is not a credit
    refused(kind=ChargeKind.REMOVE_QUANTITY)  # a credit is not positive
    refused(period_end=date(2026, 12, 2))
    refused(kind="gift")
    refused(currency="EUR")  # not the profile's (PostgreSQL: composite key)
    refused(tenant=other_tenant)  # not the profile's tenant
