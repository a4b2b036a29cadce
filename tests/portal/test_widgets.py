"""portal.widgets writes the markup Django's widget templates write, attribute for attribute."""

import datetime

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.test.html import parse_html
from django.utils.safestring import mark_safe

from portal import widgets
from portal.forms import FormRenderer
from publishers.forms import MarketplaceFilterForm

TRICKY = "<b>\"Tom\" & 'Jerry'</b>"


class OtherSafe(str):
    """Another library's "already HTML" string (markupsafe's Markup, say)."""

    def __html__(self):
        return str(self)


class TemplatesOnly(FormRenderer):
    """The portal's renderer with Django's own widget templates, no shortcut: the markup to
    match."""

    def render(self, template_name, context, request=None):
        if template_name.startswith(widgets.PREFIX):
            return TemplatesSetting.render(self, template_name, context, request)
        return super().render(template_name, context, request)


def both(widget, name, value, attrs=None):
    ours = widget.render(name, value, attrs, renderer=FormRenderer())
    django = widget.render(name, value, attrs, renderer=TemplatesOnly())
    return parse_html(ours), parse_html(django)


WIDGETS = [
    (forms.TextInput(), "name", "Contoso HQ", None),
    (forms.TextInput(attrs={"maxlength": 200, "required": True}), "name", TRICKY, {"id": "x"}),
    (forms.TextInput(attrs={"disabled": False, "data-x": None}), "name", None, None),
    (forms.EmailInput(), "email", "ap@contoso.example", {"autocomplete": "email"}),
    (forms.NumberInput(), "quantity", 0, None),
    (forms.DateInput(attrs={"type": "date"}), "date_from", datetime.date(2026, 12, 2), None),
    (forms.HiddenInput(), "next", "/t/contoso/?a=1&b=2", None),
    (forms.PasswordInput(), "password", "secret", None),  # never shown back
    (forms.URLInput(), "url", "https://example.com/?q=<x>", None),
    (forms.Select(choices=[("", "All"), ("a", "A"), ("b", TRICKY)]), "category", "b", None),
    (forms.Select(choices=[("", "All"), ("a", "A")]), "category", None, {"id": "id_c"}),
    (
        forms.Select(choices=[("Europe", [("DE", "Germany"), ("FR", "France")]), ("US", "US")]),
        "country",
        "FR",
        {"aria-describedby": "hint"},
    ),
    (forms.SelectMultiple(choices=[(1, "One"), (2, "Two"), (3, "Three")]), "ids", [1, 3], None),
    (forms.Select(choices=[("x", mark_safe("<i>safe</i>"))]), "safe", "x", None),
    (forms.Select(choices=[(mark_safe("<v>"), "V")]), "safe_value", None, None),
    (forms.TextInput(), "other_safe", OtherSafe("<b>x</b>"), None),  # not Django's: escaped
    (forms.Select(choices=[("x", OtherSafe("<i>y</i>"))]), "label", "x", None),
]


@pytest.mark.parametrize(("widget", "name", "value", "attrs"), WIDGETS)
def test_the_same_markup_as_djangos_templates(widget, name, value, attrs):
    ours, django = both(widget, name, value, attrs)
    assert ours == django


def test_other_widgets_are_left_to_their_templates():
    context = {"widget": {"name": "agree", "attrs": {}, "optgroups": []}}
    assert widgets.render("django/forms/widgets/checkbox_select.html", context) is None
    assert widgets.render("django/forms/widgets/textarea.html", context) is None
    radio = forms.RadioSelect(choices=[("a", "A")]).get_context("r", "a", {})
    assert widgets.render("django/forms/widgets/select.html", radio) is None  # radio options


@pytest.mark.django_db
def test_a_whole_form_renders_as_with_the_templates():
    form = MarketplaceFilterForm({"q": TRICKY, "category": "finance", "pricing": "nonsense"})
    form.is_valid()  # a field error too
    ours = "".join(field.as_field_group() for field in form)
    form.renderer = TemplatesOnly()
    django = "".join(field.as_field_group() for field in form)
    assert parse_html(ours) == parse_html(django)
