"""Django's input and select widget templates, written in Python: the same markup, faster.

Django renders a widget through templates (`django/forms/widgets/*.html`): a select
includes one template per option and each of those includes the attributes template, so a
13-option select cost 1.8 ms. `render()` gives the markup those templates give (the
templates' own whitespace aside) for the templates it knows, and None for any other, which
the form renderer then renders as a template. tests/portal/test_widgets.py holds it to
Django's templates. A project override of one of those templates would not be seen: change
the markup here instead.
"""

import html

from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

PREFIX = "django/forms/widgets/"
INPUT_TYPES = ("input", "text", "email", "url", "number", "password", "search", "tel", "date")
INPUTS = {f"{PREFIX}{name}.html" for name in (*INPUT_TYPES, "datetime", "time", "hidden", "color")}
SELECT, OPTION = f"{PREFIX}select.html", f"{PREFIX}select_option.html"


def render(template_name: str, context) -> str | None:
    widget = context.get("widget")
    if widget is None:
        return None
    if template_name in INPUTS:
        return _input(widget)
    if template_name == SELECT and all(
        option["template_name"] == OPTION for _, group, _ in widget["optgroups"] for option in group
    ):
        return _select(widget)
    return None


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True is a bare name, False leaves the attribute out."""
    return "".join(
        f" {_e(name)}" if value is True else f' {_e(name)}="{_e(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _e(value) -> str:
    """What `{{ value|stringformat:'s' }}` writes: the text, escaped unless Django marked it
    safe (Django's `escape` is `html.escape`; called directly, it skips the lazy-string
    check). Another library's "safe" type is escaped, as the filter's output would be."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def _label(label) -> str:
    """What `{{ widget.label }}` writes: escaped unless it is safe (`__html__`)."""
    return str(conditional_escape(label))


def _input(widget) -> str:
    value = widget["value"]
    shown = f' value="{_e(value)}"' if value is not None else ""
    return mark_safe(
        f'<input type="{_e(widget["type"])}" name="{_e(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def _select(widget) -> str:
    parts = [f'<select name="{_e(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options, _ in widget["optgroups"]:
        if group:
            parts.append(f'<optgroup label="{_label(group)}">')
        parts.extend(
            f'<option value="{_e(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_label(option['label'])}</option>"
            for option in options
        )
        if group:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("".join(parts))
