"""The new-profile form starts in the tenant's country and warns, before submitting, when
the country chosen is billed in another currency; the words come from the region table."""

import re

from billing.forms import BillingProfileForm, currency_warning
from portal.regions import REGIONS
from tests.factories import BillingProfileFactory

from .test_profiles import GOOD, url

WARNING_BOX = '<div id="country-currency-warning" class="currency-warning" aria-live="polite">'


def _option(html, code):
    return re.search(rf'<option value="{code}"[^>]*>', html).group(0)


def test_a_new_profile_starts_in_the_tenants_country(login, tenant, billing_admin):
    page = login(billing_admin).get(url("profile_create", tenant))
    assert page.context["form"]["country"].value() == "US"
    us = _option(page.content.decode(), "US")
    assert "selected" in us and 'data-tax-id-label="EIN"' in us


def test_another_tenant_starts_in_its_own_country(login, other_tenant, other_admin):
    page = login(other_admin).get(url("profile_create", other_tenant))
    assert "selected" in _option(page.content.decode(), "DE")


def test_each_country_of_another_currency_carries_its_warning(login, tenant, billing_admin):
    html = login(billing_admin).get(url("profile_create", tenant)).content.decode()
    assert WARNING_BOX + "</div>" in html  # nothing to say yet, but there to announce it
    assert 'data-currency-warning="Profiles in Germany are billed in EUR, not USD."' in _option(
        html, "DE"
    )
    assert "data-currency-warning" not in _option(html, "PR")  # billed in USD too
    assert 'data-tax-id-label="VAT number"' in _option(html, "DE")
    assert "js/billing-profile-form.js" in html


def test_a_refused_submit_in_another_currency_still_shows_the_warning(login, tenant, billing_admin):
    data = {**GOOD, "country": "GB", "state": "", "postal_code": "EC1A", "phone": "call me"}
    html = login(billing_admin).post(url("profile_create", tenant), data).content.decode()
    assert "Profiles in the United Kingdom are billed in GBP, not USD." in html


def test_the_warning_is_measured_against_an_existing_profiles_own_currency(other_tenant):
    profile = BillingProfileFactory(tenant=other_tenant, state="")  # Germany, EUR
    assert BillingProfileForm({"country": "FR"}, instance=profile).currency_warning == ""
    assert BillingProfileForm({"country": "GB"}, instance=profile).currency_warning == (
        "Profiles in the United Kingdom are billed in GBP, not EUR."
    )


def test_no_warning_in_the_same_currency_or_without_a_country():
    assert currency_warning(REGIONS["PR"], "USD") == ""
    assert currency_warning(None, "USD") == ""
