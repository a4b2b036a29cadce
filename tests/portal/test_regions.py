from decimal import Decimal

import pytest

from portal.regions import REGIONS, UnsupportedCountry, region_for

SEED_REGIONS = {
    "Argentina",
    "Australia",
    "Canada",
    "Chile",
    "France",
    "Germany",
    "Greece",
    "Puerto Rico",
    "South Africa",
    "United Kingdom",
    "United States",
    "Western Europe",
}


def test_every_region_of_the_seed_is_supported():
    assert {r.market for r in REGIONS.values()} == SEED_REGIONS


@pytest.mark.parametrize(
    ("country", "currency", "rate"),
    [
        ("US", "USD", "0"),
        ("PR", "USD", "0"),
        ("CA", "CAD", "5"),
        ("GB", "GBP", "20"),
        ("AU", "AUD", "10"),
        ("ZA", "ZAR", "15"),
        ("AR", "USD", "21"),
        ("CL", "USD", "19"),
        ("DE", "EUR", "19"),
        ("FR", "EUR", "20"),
        ("GR", "EUR", "24"),
        ("CH", "EUR", "8.1"),
    ],
)
def test_currency_and_tax(country, currency, rate):
    region = region_for(country.lower())
    assert region.currency.code == currency
    assert region.tax_rate == Decimal(rate)


def test_us_invoices_say_sales_tax_is_out_of_scope():
    assert "out of scope" in region_for("US").tax_note


def test_unsupported_country_is_a_clear_error():
    with pytest.raises(UnsupportedCountry, match="'JP' is not a supported country"):
        region_for("JP")
