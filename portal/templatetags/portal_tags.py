import functools
from importlib import import_module

from django import template
from django.apps import apps
from django.utils.html import format_html, format_html_join

from portal.links import tenant_url as build_tenant_url
from portal.money import format_money

register = template.Library()


def permission_functions(modules) -> dict[str, object]:
    """`{"billing.delete_billing_profile": fn, "delete_billing_profile": fn, ...}` from the
    apps' permissions modules. A short name two apps define is left out, so it can only be
    asked for with its app's name: a template never gets a check from the wrong app."""
    found, seen = {}, {}
    for app_label, module in modules:
        for name, function in vars(module).items():
            if name.startswith("can_") and callable(function):
                action = name.removeprefix("can_")
                found[f"{app_label}.{action}"] = function
                seen.setdefault(action, []).append(function)
    found.update({action: fns[0] for action, fns in seen.items() if len(fns) == 1})
    return found


@functools.cache
def _index() -> dict[str, object]:
    modules = []
    for config in apps.get_app_configs():
        try:
            modules.append((config.label, import_module(f"{config.name}.permissions")))
        except ModuleNotFoundError:
            continue
    return permission_functions(modules)


def permission_check(action: str):
    """The permission function for `action`: "delete_billing_profile", or with its app's
    name, "billing.delete_billing_profile" (needed when two apps define the same action)."""
    try:
        return _index()[action]
    except KeyError:
        raise template.TemplateSyntaxError(
            f"No permission function can_{action.rpartition('.')[2]}() for {action!r}, or "
            'more than one app defines it: name the app, as in "billing.view_invoices".'
        ) from None


@register.simple_tag
def can(action, membership, obj=None):
    """`{% can "manage_members" request.membership as allowed %}`: the view's own check
    (`"portal.manage_members"` names the app)."""
    if membership is None:
        return False
    return permission_check(action)(membership, obj)


@register.simple_tag(takes_context=True)
def tenant_url(context, name, **uuid_kwarg):
    """`{% tenant_url "portal:member_role" member_uuid=member.uuid %}`: the URL `{% url %}`
    gives in the request's tenant, built without reversing it each time (portal.links)."""
    return build_tenant_url(name, context["request"].tenant.slug, **uuid_kwarg)


@register.filter
def money(amount, currency):
    """`{{ price.amount|money:price.currency }}`: minor units shown in the currency, in the
    tenant's locale ("$29.00", "1.100,00 €"). Every page, e-mail and invoice uses it."""
    if amount is None or amount == "":
        return ""
    return format_money(int(amount), currency)


@register.simple_tag
def role_select(member):
    """A member's role <select> and its label, named as `MemberRoleForm.for_member` reads
    it. Drawn here rather than by a form per row: a page of members renders in a fraction of
    the time the widget templates take."""
    from portal.forms import MemberRoleForm

    name = MemberRoleForm.field_name(member)
    return format_html(
        '<label class="visually-hidden" for="id_{}">Role of {}</label>'
        '<select name="{}" id="id_{}" required>{}</select>',
        name,
        member.user.email,
        name,
        name,
        _role_options(member.role),
    )


@functools.cache
def _role_options(selected: str):
    from portal.models import Role

    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in Role.choices),
    )
