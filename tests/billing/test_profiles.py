"""Billing profiles pages: create, edit, validate, default, delete, roles."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import BillingProfile, BillingProfileRole, PaymentMethod, ProfileRole
from portal.models import AuditEvent, Membership
from tests.factories import BillingProfileFactory, BillingProfileRoleFactory

GOOD = {
    "name": "Contoso Labs",
    "payment_method": "check_wire",
    "contact_name": "Lee Labs",
    "email": "labs@contoso.example",
    "phone": "+1 206 555 0199",
    "address_line1": "400 Broad Street",
    "city": "Seattle",
    "state": "WA",
    "postal_code": "98109",
    "country": "US",
    "invoice_emails": "labs@contoso.example, ap@contoso.example",
    "po_number": "PO-7",
    "tax_id": "",
}


def url(name, tenant, profile=None, **kwargs):
    args = [tenant.slug] + ([profile.uuid] if profile is not None else [])
    return reverse(f"billing:{name}", args=args + list(kwargs.values()))


def test_first_profile_is_the_default_and_is_billed_in_its_countrys_currency(
    login, tenant, billing_admin
):
    response = login(billing_admin).post(url("profile_create", tenant), GOOD)
    profile = BillingProfile.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert response["Location"] == url("profile_detail", tenant, profile)
    assert profile.is_default
    assert profile.currency == "USD"
    assert profile.invoice_emails == ["labs@contoso.example", "ap@contoso.example"]
    event = AuditEvent.objects.get(tenant=tenant, verb="billing_profile.create")
    assert event.actor_user == billing_admin
    assert event.data["currency"] == "USD"


def test_a_card_profile_goes_on_to_the_card_form(login, tenant, billing_admin, profile):
    response = login(billing_admin).post(
        url("profile_create", tenant), {**GOOD, "payment_method": "card"}
    )
    created = BillingProfile.objects.get(name="Contoso Labs")
    assert response["Location"] == url("card", tenant, created)
    assert created.needs_card and not created.is_default  # Contoso HQ stays the default


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("country", "JP", "We bill only in the supported countries"),
        ("email", "not-an-email", "Enter a valid email address."),
        ("invoice_emails", "ap@contoso.example, nope", "nope is not an e-mail address."),
        ("invoice_emails", "", "This field is required."),
        ("phone", "call me", "Enter a phone number"),
        ("state", "", "Addresses in United States need a state."),
        ("tax_id", "123", "looks like"),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(
    login, tenant, billing_admin, field, value, message
):
    response = login(billing_admin).post(url("profile_create", tenant), {**GOOD, field: value})
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert not BillingProfile.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="billing_profile").exists()


def test_a_tax_id_must_have_its_countrys_shape(login, tenant, billing_admin):
    data = {**GOOD, "country": "DE", "state": "", "tax_id": "GB123456789"}
    response = login(billing_admin).post(url("profile_create", tenant), data)
    assert "DE" in response.context["form"].errors["tax_id"][0]
    data["tax_id"] = "de 136 695 976"
    login(billing_admin).post(url("profile_create", tenant), data)
    profile = BillingProfile.objects.get()
    assert (profile.tax_id, profile.currency) == ("DE136695976", "EUR")


def test_htmx_checks_the_one_field_that_changed(login, tenant, billing_admin):
    response = login(billing_admin).post(
        url("profile_create", tenant),
        {**GOOD, "email": "not-an-email"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "email"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div class="field has-error">')
    assert "Enter a valid email address." in html
    assert 'name="name"' not in html  # only the field asked about
    assert not BillingProfile.objects.exists()


def test_profile_names_are_unique_in_a_tenant_whatever_their_case(
    login, tenant, billing_admin, profile
):
    response = login(billing_admin).post(
        url("profile_create", tenant), {**GOOD, "name": "contoso hq"}
    )
    assert response.status_code == 422
    assert "already a profile named" in response.content.decode()


def test_a_name_with_a_non_breaking_space_is_the_same_name(login, tenant, billing_admin, profile):
    response = login(billing_admin).post(
        url("profile_create", tenant), {**GOOD, "name": "Contoso\xa0 HQ"}
    )
    assert response.status_code == 422
    assert "already a profile named Contoso HQ" in response.content.decode()
    assert BillingProfile.objects.for_tenant(tenant).count() == 1


def test_a_line_break_in_an_address_is_a_field_error_and_changes_nothing(
    login, tenant, billing_admin
):
    data = {**GOOD, "address_line1": "1 Main Street\r\nBcc: someone@example.com"}
    response = login(billing_admin).post(url("profile_create", tenant), data)
    assert response.status_code == 422
    assert "Remove the control characters" in response.content.decode()
    assert not BillingProfile.objects.for_tenant(tenant).exists()


def test_an_invoice_recipient_with_an_ip_literal_domain_is_refused(login, tenant, billing_admin):
    data = {**GOOD, "invoice_emails": "ap@contoso.example, ap@[192.0.2.1]"}
    response = login(billing_admin).post(url("profile_create", tenant), data)
    assert response.status_code == 422
    assert "ap@[192.0.2.1] is not an e-mail address." in response.content.decode()
    assert not BillingProfile.objects.for_tenant(tenant).exists()


def test_the_database_keeps_one_default_per_tenant(tenant, profile):
    with pytest.raises(IntegrityError):
        BillingProfileFactory(tenant=tenant, is_default=True)


def test_make_default_moves_the_default(login, tenant, billing_admin, profile):
    other = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    login(billing_admin).post(url("profile_make_default", tenant, other))
    profile.refresh_from_db()
    other.refresh_from_db()
    assert other.is_default and not profile.is_default
    assert AuditEvent.objects.filter(verb="billing_profile.make_default").count() == 1


def test_editing_the_country_moves_the_currency_of_an_unused_profile(
    login, tenant, billing_admin, profile
):
    data = {**GOOD, "name": profile.name, "country": "GB", "state": "", "postal_code": "EC1A"}
    response = login(billing_admin).post(url("profile_edit", tenant, profile), data)
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.country, profile.currency) == ("GB", "GBP")
    event = AuditEvent.objects.get(verb="billing_profile.change")
    assert "country" in event.data["changed"] and "currency" in event.data["changed"]


def test_an_edit_that_changes_nothing_records_nothing(login, tenant, billing_admin, profile):
    data = {
        **GOOD,
        **{f: getattr(profile, f) for f in ("name", "contact_name", "email", "phone")},
        **{f: getattr(profile, f) for f in ("address_line1", "city", "state", "postal_code")},
        "invoice_emails": ", ".join(profile.invoice_emails),
        "po_number": "",
    }
    login(billing_admin).post(url("profile_edit", tenant, profile), data)
    assert not AuditEvent.objects.filter(verb="billing_profile.change").exists()


def test_the_default_profile_is_deleted_only_last(login, tenant, billing_admin, profile):
    other = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    client = login(billing_admin)
    refused = client.post(url("profile_delete", tenant, profile), follow=True)
    assert "make another profile the default first" in refused.content.decode()
    assert BillingProfile.objects.filter(pk=profile.pk).exists()
    client.post(url("profile_delete", tenant, other))
    client.post(url("profile_delete", tenant, profile))
    assert not BillingProfile.objects.exists()
    assert AuditEvent.objects.filter(verb="billing_profile.delete").count() == 2


def test_a_member_lists_only_the_profiles_they_hold_a_role_on(
    login, tenant, invoice_manager, profile, django_assert_max_num_queries
):
    BillingProfileFactory(tenant=tenant, name="Contoso Research")
    client = login(invoice_manager)
    with django_assert_max_num_queries(12):
        page = client.get(url("profile_list", tenant))
    assert [p.name for p in page.context["profiles"]] == ["Contoso HQ"]
    assert "Billing profiles" in page.content.decode()  # the navigation shows them the way


def test_the_list_costs_the_same_queries_however_many_profiles(login, tenant, reader):
    client = login(reader)
    BillingProfileFactory(tenant=tenant)
    client.get(url("profile_list", tenant))
    with CaptureQueriesContext(connection) as one:
        client.get(url("profile_list", tenant))
    BillingProfileFactory.create_batch(5, tenant=tenant)
    with CaptureQueriesContext(connection) as six:
        client.get(url("profile_list", tenant))
    assert len(six.captured_queries) == len(one.captured_queries)


def test_another_tenants_profile_is_404(login, tenant, other_admin, other_tenant, profile):
    client = login(other_admin)
    for name in ("profile_detail", "payment", "roles", "profile_edit", "card"):
        assert client.get(url(name, other_tenant, profile)).status_code == 404


# ---------------------------------------------------------------- roles


def test_an_owner_grants_an_invoice_manager(login, tenant, billing_admin, member, profile):
    response = login(billing_admin).post(
        url("roles", tenant, profile), {"user": member.pk, "role": "invoice_manager"}
    )
    assert response.status_code == 302
    grant = BillingProfileRole.objects.get(profile=profile, user=member)
    assert grant.role == ProfileRole.INVOICE_MANAGER
    event = AuditEvent.objects.get(verb="billing_profile.role_grant")
    assert event.data["email"] == member.email


def test_a_tenant_admin_is_not_offered_a_role_they_already_hold(
    login, tenant, billing_admin, admin, profile
):
    response = login(billing_admin).post(
        url("roles", tenant, profile), {"user": admin.pk, "role": "reader"}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.context["form"].errors["user"][0]
    assert not BillingProfileRole.objects.exists()


def test_roles_go_only_to_members_of_the_tenant(login, tenant, billing_admin, other_admin, profile):
    response = login(billing_admin).post(
        url("roles", tenant, profile), {"user": other_admin.pk, "role": "reader"}
    )
    assert response.status_code == 422
    assert not BillingProfileRole.objects.exists()


def test_revoking_a_role_hides_the_profile_again(
    login, tenant, billing_admin, invoice_manager, profile
):
    grant = BillingProfileRole.objects.get(user=invoice_manager)
    client = login(billing_admin)
    assert client.get(url("role_revoke", tenant, profile, role=grant.uuid)).status_code == 200
    client.post(url("role_revoke", tenant, profile, role=grant.uuid))
    assert login(invoice_manager).get(url("profile_detail", tenant, profile)).status_code == 404
    assert AuditEvent.objects.filter(verb="billing_profile.role_revoke").count() == 1


def test_a_person_who_leaves_the_tenant_keeps_no_profile_role(
    login, tenant, admin, invoice_manager, profile
):
    membership = Membership.objects.get(user=invoice_manager, tenant=tenant)
    login(admin).post(reverse("portal:member_remove", args=[tenant.slug, membership.uuid]))
    assert not BillingProfileRole.objects.exists()
    event = AuditEvent.objects.get(verb="billing_profile.role_revoke")
    assert event.data["reason"] == "left the tenant"
    # recorded as done by the admin who removed them, not by "the system"
    assert (event.actor_type, event.actor_user, event.actor_label) == ("user", admin, admin.email)


def test_a_role_on_another_profile_is_404_through_this_one(
    login, tenant, billing_admin, member, profile
):
    other = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    grant = BillingProfileRoleFactory(profile=other, user=member)
    response = login(billing_admin).post(url("role_revoke", tenant, profile, role=grant.uuid))
    assert response.status_code == 404
    assert BillingProfileRole.objects.filter(pk=grant.pk).exists()


def test_paying_by_card_without_a_card_on_file_is_refused(login, tenant, billing_admin, profile):
    response = login(billing_admin).post(
        url("payment_method", tenant, profile), {"method": "card"}, follow=True
    )
    assert "add a card first" in response.content.decode()
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CHECK_WIRE


def test_a_card_profile_without_a_card_is_not_offered_as_default_and_a_post_is_refused(
    login, tenant, billing_admin, profile
):
    cardless = BillingProfileFactory(tenant=tenant, name="Contoso Cards", payment_method="card")
    client = login(billing_admin)
    listing = client.get(url("profile_list", tenant)).content.decode()
    assert "Make Contoso Cards default" not in listing
    assert (
        "Make default" not in client.get(url("profile_detail", tenant, cardless)).content.decode()
    )
    response = client.post(url("profile_make_default", tenant, cardless))
    assert response.status_code == 403
    assert "has no card yet: add one before making it the default" in response.content.decode()
    cardless.refresh_from_db()
    assert not cardless.is_default


def test_the_default_profile_is_not_offered_as_default_again(login, tenant, billing_admin, profile):
    client = login(billing_admin)
    response = client.post(url("profile_make_default", tenant, profile))
    assert response.status_code == 403
    assert "already the default billing profile" in response.content.decode()
    assert not AuditEvent.objects.filter(verb="billing_profile.make_default").exists()


def test_delete_is_not_offered_on_the_default_profile_while_others_exist(
    login, tenant, billing_admin, profile
):
    BillingProfileFactory(tenant=tenant, name="Contoso Research")
    client = login(billing_admin)
    assert (
        "Delete profile" not in client.get(url("profile_detail", tenant, profile)).content.decode()
    )
    assert client.get(url("profile_delete", tenant, profile)).status_code == 403


def test_a_card_profile_without_a_card_does_not_say_its_card_is_in_use(
    login, tenant, billing_admin
):
    cardless = BillingProfileFactory(tenant=tenant, name="Contoso Cards", payment_method="card")
    html = login(billing_admin).get(url("payment", tenant, cardless)).content.decode()
    assert "Card needed" in html
    assert "In use" not in html.split("Check or wire transfer")[0]
