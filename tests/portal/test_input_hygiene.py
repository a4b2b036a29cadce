"""Text people type is stored as they meant it, and nothing that would corrupt a printout."""

import pytest

from portal.forms import AuditFilterForm, LoginForm, MemberAddForm
from portal.text import normalise_text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Contoso\xa0HQ", "Contoso HQ"),  # a non-breaking space is a space
        ("  Contoso   HQ ", "Contoso HQ"),
        ("Cafe\u0301", "Café"),  # NFC: one é, however it was typed
    ],
)
def test_text_is_normalised_before_the_form_checks_it(tenant, typed, stored):
    form = AuditFilterForm({"actor": typed}, tenant=tenant)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["actor"] == stored


@pytest.mark.parametrize("typed", ["Contoso\r\nBcc: x@evil.example", "a\tb", "a\x00b", "a\u202eb"])
def test_control_characters_are_refused_with_a_field_error(tenant, typed):
    form = AuditFilterForm({"actor": typed}, tenant=tenant)
    assert not form.is_valid()
    assert form.errors["actor"] == [
        "Remove the control characters (such as line breaks or tabs) from this text."
    ]


def test_a_multi_line_text_keeps_its_line_breaks():
    assert normalise_text("1 Main St\r\n  Suite\xa04 ", multiline=True) == "1 Main St\nSuite 4"


def test_an_ip_literal_e_mail_address_is_refused(db):
    form = MemberAddForm({"email": "ada@[192.0.2.1]", "role": "member"})
    assert not form.is_valid()
    assert form.errors["email"] == ["Use an address with a domain name, not an IP address."]


def test_a_too_long_e_mail_address_gets_one_clear_error(db):
    form = MemberAddForm({"email": "a" * 250 + "@example.com", "role": "member"})
    assert not form.is_valid()
    assert form.errors["email"] == ["An e-mail address has at most 254 characters."]


def test_every_e_mail_field_has_the_same_limit(tenant):
    for form in (MemberAddForm(), LoginForm()):
        email = form.fields.get("email") or form.fields["username"]
        assert email.max_length == 254
        assert email.widget.attrs["maxlength"] == "254"


def test_a_password_is_left_exactly_as_typed(admin):
    form = LoginForm(data={"username": admin.email, "password": "  two  spaces\xa0"})
    assert form.fields["password"].clean("  two  spaces\xa0") == "  two  spaces\xa0"


def test_adding_a_member_with_an_ip_literal_address_changes_nothing(login, admin, tenant):
    from portal.models import Membership, User

    before = Membership.objects.count(), User.objects.count()
    response = login(admin).post(
        f"/t/{tenant.slug}/settings/members/", {"email": "ada@[192.0.2.1]", "role": "member"}
    )
    assert response.status_code == 422
    assert "Use an address with a domain name" in response.content.decode()
    assert (Membership.objects.count(), User.objects.count()) == before
