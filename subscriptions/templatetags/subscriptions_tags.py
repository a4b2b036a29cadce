from django import template

from subscriptions.permissions import managing_partner as partner_of

register = template.Library()


@register.filter
def managing_partner(subscription):
    """`{% with partner=subscription|managing_partner %}`: the partner that manages it."""
    return partner_of(subscription)
