"""The audit log in words: `{{ event|audit_action }}`, `{{ event|audit_target }}`..."""

from django import template

from portal import audit

register = template.Library()


@register.filter
def audit_action(event) -> str:
    return audit.action_words(event.verb)


@register.filter
def audit_target(event) -> str:
    return audit.event_target(event)


@register.filter
def audit_kind(event) -> str:
    return audit.event_kind(event)


@register.filter
def audit_details(event) -> list:
    return audit.event_details(event)
