from django.template import Context, Template

from portal.regions import format_money


def test_money_is_shown_in_the_currencys_minor_units_with_its_code():
    assert format_money(400, "EUR") == "4.00 EUR"
    assert format_money(123456789, "ZAR") == "1,234,567.89 ZAR"
    assert format_money(5, "USD") == "0.05 USD"


def test_the_money_filter_formats_like_the_function():
    template = Template("{% load portal_tags %}{{ amount|money:currency }}")
    assert template.render(Context({"amount": 12000, "currency": "GBP"})) == "120.00 GBP"
    assert template.render(Context({"amount": None, "currency": "GBP"})) == ""
