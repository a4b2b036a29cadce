"""One name for the pages ("Billing profiles") and one for a tax id ("Tax id"), which a
profile shows by its country's own name ("VAT number", "ABN", "GST/HST number")."""

import dataclasses

import pytest

from billing.forms import BillingProfileForm
from portal.regions import REGIONS, TAX_ID
from tests.factories import BillingProfileFactory

from .test_profiles import url


def test_the_navigation_and_the_list_say_billing_profiles(login, tenant, billing_admin, profile):
    html = login(billing_admin).get(url("profile_list", tenant)).content.decode()
    assert f'href="{url("profile_list", tenant)}"' in html
    assert ">Billing profiles</a>" in html  # the navigation link
    assert "<h1>Billing profiles</h1>" in html
    assert "<title>Billing profiles · Contoso" in html


@pytest.mark.parametrize(
    "page",
    [
        "profile_list",
        "profile_create",
        "profile_detail",
        "profile_edit",
        "roles",
        "payment",
        "profile_delete",
    ],
)
def test_no_billing_page_says_billing_accounts(login, tenant, billing_admin, profile, page):
    target = None if page in ("profile_list", "profile_create") else profile
    response = login(billing_admin).get(url(page, tenant, target))
    assert response.status_code == 200
    assert "Billing accounts" not in response.content.decode()


@pytest.mark.parametrize(
    "country, name",
    [("DE", "VAT number"), ("GB", "VAT number"), ("AU", "ABN"), ("CA", "GST/HST number")],
)
def test_a_profile_shows_its_tax_id_by_its_countrys_name(
    login, tenant, billing_admin, country, name
):
    profile = BillingProfileFactory(tenant=tenant, country=country, state="", tax_id="")
    detail = login(billing_admin).get(url("profile_detail", tenant, profile)).content.decode()
    assert f"<dt>{name}</dt>" in detail
    assert BillingProfileForm(instance=profile).fields["tax_id"].label == name


def test_a_new_profile_form_without_a_country_says_tax_id():
    assert BillingProfileForm().fields["tax_id"].label == TAX_ID == "Tax id"


def test_the_form_follows_the_country_posted():
    assert BillingProfileForm({"country": "AU"}).fields["tax_id"].label == "ABN"


def test_a_region_without_a_name_for_it_says_tax_id():
    nameless = dataclasses.replace(REGIONS["ZA"], tax_id_name="")
    assert nameless.tax_id_label == "Tax id"
    assert REGIONS["ZA"].tax_id_label == "VAT number"
