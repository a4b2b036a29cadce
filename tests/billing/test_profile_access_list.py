"""The Permissions tab lists everyone with access: granted roles, and roles inherited from
the tenant role or a partner relationship, which can't be revoked here."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import ProfileRole
from portal.models import Role
from tests.factories import BillingProfileRoleFactory, MembershipFactory, UserFactory

from .test_profiles import url


def _rows(response) -> dict[str, str]:
    """Each table row's text, by the e-mail address in it."""
    html = response.content.decode()
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        email = re.search(r'<span class="muted">([^<]+@[^<]+)</span>', row)
        if email:
            rows[email.group(1)] = re.sub(r"\s+", " ", row)
    return rows


def test_tenant_admins_billing_admins_and_readers_are_listed_as_inherited(
    login, tenant, admin, billing_admin, reader, member, profile
):
    rows = _rows(login(admin).get(url("roles", tenant, profile)))
    assert set(rows) == {admin.email, billing_admin.email, reader.email}  # not the member
    assert "Through tenant role: Admin" in rows[admin.email]
    assert "Owner" in rows[admin.email]
    assert "Through tenant role: Billing admin" in rows[billing_admin.email]
    assert "Through tenant role: Reader" in rows[reader.email]
    assert all("Revoke" not in row for row in rows.values())


def test_a_granted_role_is_listed_with_revoke_beside_the_inherited_ones(
    login, tenant, admin, invoice_manager, profile
):
    rows = _rows(login(admin).get(url("roles", tenant, profile)))
    assert "Invoice manager" in rows[invoice_manager.email]
    assert "Granted on this profile" in rows[invoice_manager.email]
    assert "Revoke" in rows[invoice_manager.email]
    assert "Revoke" not in rows[admin.email]


def test_a_reader_granted_more_shows_the_stronger_role_and_both_sources(
    login, tenant, admin, reader, profile
):
    BillingProfileRoleFactory(profile=profile, user=reader, role=ProfileRole.CONTRIBUTOR)
    row = _rows(login(admin).get(url("roles", tenant, profile)))[reader.email]
    assert "Contributor" in row and "Through tenant role: Reader" in row
    assert "Revoke Contributor role" in row  # the grant can go; the tenant role stays


def test_a_partners_people_are_listed_as_acting_through_the_partner(
    login, tenant, admin, partner_user, profile
):
    rows = _rows(login(admin).get(url("roles", tenant, profile)))
    assert "Through partner Northwind: Billing admin" in rows[partner_user.email]
    assert "Revoke" not in rows[partner_user.email]


def test_the_list_costs_the_same_queries_however_many_people(login, tenant, admin, profile):
    client = login(admin)
    client.get(url("roles", tenant, profile))
    with CaptureQueriesContext(connection) as few:
        client.get(url("roles", tenant, profile))
    for n in range(4):
        granted = UserFactory(email=f"granted{n}@contoso.example")
        MembershipFactory(tenant=tenant, user=granted, role=Role.MEMBER)
        BillingProfileRoleFactory(profile=profile, user=granted)
        inheriting = UserFactory(email=f"admin{n}@contoso.example")
        MembershipFactory(tenant=tenant, user=inheriting, role=Role.ADMIN)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("roles", tenant, profile))
    assert len(_rows(response)) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_who_inherits_access_is_shown_only_to_those_who_manage_roles(
    login, tenant, admin, reader, member, profile, partner_tenant
):
    partner_admin = MembershipFactory(tenant=partner_tenant, role=Role.ADMIN).user
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.INVOICE_MANAGER)
    # An invoice manager sees who was granted a role on the profile, not the tenant's
    # admins and readers nor the partner's people.
    rows = _rows(login(member).get(url("roles", tenant, profile)))
    assert set(rows) == {member.email}
    assert partner_admin.email not in login(member).get(url("roles", tenant, profile)).text
    owners = _rows(login(admin).get(url("roles", tenant, profile)))
    assert {admin.email, reader.email, member.email, partner_admin.email} <= set(owners)
