from django import template

from portal.templatetags.portal_tags import money
from publishers.models import PricingModel, Term

register = template.Library()

PERIOD = {Term.MONTHLY: "month", Term.ANNUAL: "year"}


@register.simple_tag
def price_phrase(amount, currency, term, pricing_model, lowest=False):
    """ "from 4.00 EUR per license per month", "120.00 GBP per year, unlimited licenses"."""
    amount = money(amount, currency)  # the one money filter
    period = PERIOD[term]
    if pricing_model == PricingModel.PER_SEAT:
        phrase = f"{amount} per license per {period}"
    else:
        phrase = f"{amount} per {period}, unlimited licenses"
    return f"from {phrase}" if lowest else phrase
