from django.template import Context, Template

from portal.money import format_money, locale_for_country, money_locale


def test_money_is_shown_as_people_in_the_locale_read_it():
    assert format_money(2900, "USD", "en_US") == "$29.00"
    assert format_money(110000, "EUR", "de_DE") == "1.100,00\xa0€"
    assert format_money(110000, "EUR", "en_IE") == "€1,100.00"
    assert format_money(5, "GBP", "en_GB") == "£0.05"


def test_each_supported_country_has_a_locale_of_its_own():
    assert locale_for_country("US") == "en_US"
    assert locale_for_country("DE") == "de_DE"
    assert locale_for_country("CA") == "en_CA"
    assert locale_for_country("NO") == "nb_NO"  # Norwegian has no plain "no" locale


def test_outside_a_request_the_locale_is_named_for_a_block():
    with money_locale("de_DE"):
        assert format_money(400, "EUR") == "4,00\xa0€"
    assert format_money(400, "EUR") == "€4.00"  # en_US, the default


def test_the_money_filter_formats_like_the_function():
    template = Template("{% load portal_tags %}{{ amount|money:currency }}")
    with money_locale("en_GB"):
        assert template.render(Context({"amount": 12000, "currency": "GBP"})) == "£120.00"
        assert template.render(Context({"amount": None, "currency": "GBP"})) == ""


def test_a_tenants_pages_show_money_in_its_countrys_locale(login, other_admin, other_tenant):
    from tests.factories import PlanFactory

    PlanFactory(prices={"EUR": 110000}, app__name="Lagerhaus")
    html = login(other_admin).get(f"/t/{other_tenant.slug}/marketplace/").content
    assert "1.100,00\xa0€".encode() in html
    assert format_money(400, "EUR") == "€4.00"  # the request's locale did not outlive it
