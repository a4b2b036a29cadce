from importlib import import_module

from django import template
from django.apps import apps

from portal.money import format_money

register = template.Library()


def permission_check(action: str):
    """The `can_<action>` function of whichever app's permissions module defines it."""
    name = f"can_{action}"
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError:
            continue
        if hasattr(module, name):
            return getattr(module, name)
    raise template.TemplateSyntaxError(f"No permission function {name}()")


@register.simple_tag
def can(action, membership, obj=None):
    """`{% can "manage_members" request.membership as allowed %}`: the view's own check."""
    if membership is None:
        return False
    return permission_check(action)(membership, obj)


@register.filter
def money(amount, currency):
    """`{{ price.amount|money:price.currency }}`: minor units shown in the currency, in the
    tenant's locale ("$29.00", "1.100,00 €"). Every page, e-mail and invoice uses it."""
    if amount is None or amount == "":
        return ""
    return format_money(int(amount), currency)
