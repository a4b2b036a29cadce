"""Once something uses a profile its currency is fixed: one rule, asked by form and service.

"In use" is what `BillingProfile.uses` reports: here, a subscription it bills.
"""

import re

import pytest
from django.core.exceptions import ValidationError

from billing.forms import BillingProfileForm
from billing.models import BillingProfile
from billing.services import billing_profile_update
from portal.audit import Actor
from tests.factories import SubscriptionFactory

from .test_profiles import GOOD, url

IN_USE = "This profile is in use, so it stays billed in USD: choose a country billed in USD."


@pytest.fixture
def in_use(profile):
    return SubscriptionFactory(billing_profile=profile)


def test_an_unused_profile_may_move_to_any_supported_country(profile):
    assert profile.country_refusal("DE") == ""


def test_a_profile_in_use_keeps_its_currency(profile, in_use):
    assert profile.country_refusal("DE") == IN_USE
    assert profile.country_refusal("PR") == ""  # Puerto Rico is billed in USD too


def test_a_new_profile_has_no_currency_to_keep(tenant, in_use):
    assert BillingProfile(tenant=tenant).country_refusal("DE") == ""


def test_the_edit_form_says_what_the_profile_says(profile, in_use):
    data = {**GOOD, "name": profile.name, "country": "DE", "state": "", "postal_code": "10115"}
    form = BillingProfileForm(data, instance=profile)
    assert not form.is_valid()
    assert form.errors["country"] == [profile.country_refusal("DE")]


def test_the_service_refuses_with_the_same_words(profile, in_use):
    with pytest.raises(ValidationError) as refused:
        billing_profile_update(profile=profile, values={"country": "DE"}, actor=Actor.system())
    assert refused.value.message_dict == {"country": [IN_USE]}
    profile.refresh_from_db()
    assert (profile.country, profile.currency) == ("US", "USD")


def test_the_edit_page_refuses_the_move_and_changes_nothing(
    login, tenant, billing_admin, profile, in_use
):
    data = {**GOOD, "name": profile.name, "country": "DE", "state": "", "postal_code": "10115"}
    response = login(billing_admin).post(url("profile_edit", tenant, profile), data)
    assert response.status_code == 422
    assert IN_USE in response.content.decode()
    profile.refresh_from_db()
    assert profile.currency == "USD"


def test_the_edit_page_warns_with_the_refusal_before_submitting(
    login, tenant, billing_admin, profile, in_use
):
    html = login(billing_admin).get(url("profile_edit", tenant, profile)).content.decode()
    germany = re.search(r'<option value="DE"[^>]*>', html).group(0)
    assert f'data-currency-warning="{IN_USE}"' in germany  # not "billed in EUR, not USD"
    choose = re.search(r'<option value=""[^>]*>', html).group(0)
    assert 'data-tax-id-label="Tax id"' in choose  # "Choose a country" puts the words back
