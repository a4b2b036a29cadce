"""The Django admin: operator staff change memberships through the same audited rules."""

import pytest

from portal.models import AuditEvent, Membership, Role
from tests.factories import UserFactory


@pytest.fixture
def operator(db):
    return UserFactory(email="ops@operator.example", is_staff=True, is_superuser=True)


def change_url(membership):
    return f"/admin/portal/membership/{membership.pk}/change/"


def test_only_staff_get_in(login, tenant, admin):
    assert login(admin).get("/admin/").status_code == 302


def test_operator_changes_a_role_and_it_is_audited(login, operator, tenant, admin, reader):
    m = Membership.objects.get(user=reader)
    response = login(operator).post(change_url(m), {"role": Role.BILLING_ADMIN})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.role == Role.BILLING_ADMIN
    event = AuditEvent.objects.get(verb="member.change_role")
    assert (event.actor_user, event.tenant) == (operator, tenant)


def test_operator_cannot_demote_the_last_admin(login, operator, tenant, admin):
    m = Membership.objects.get(user=admin)
    response = login(operator).post(change_url(m), {"role": Role.READER})
    assert response.status_code == 200
    assert b"at least one admin" in response.content
    m.refresh_from_db()
    assert m.role == Role.ADMIN


def test_operator_cannot_delete_the_last_admin(login, operator, tenant, admin):
    m = Membership.objects.get(user=admin)
    client = login(operator)
    page = client.get(f"/admin/portal/membership/{m.pk}/delete/")
    assert b"the tenant&#x27;s last admin" in page.content
    client.post(f"/admin/portal/membership/{m.pk}/delete/", {"post": "yes"})
    assert Membership.objects.filter(pk=m.pk).exists()


def test_operator_adds_and_removes_a_member_with_audit(login, operator, tenant, admin, other_admin):
    client = login(operator)
    response = client.post(
        "/admin/portal/membership/add/",
        {"user": other_admin.pk, "tenant": tenant.pk, "role": Role.READER},
    )
    assert response.status_code == 302
    added = Membership.objects.get(user=other_admin, tenant=tenant)
    client.post(f"/admin/portal/membership/{added.pk}/delete/", {"post": "yes"})
    assert not Membership.objects.filter(pk=added.pk).exists()
    verbs = list(AuditEvent.objects.filter(tenant=tenant).values_list("verb", flat=True))
    assert sorted(verbs) == ["member.add", "member.remove"]


def test_audit_events_are_read_only_in_the_admin(login, operator, tenant, admin, reader):
    client = login(operator)
    client.post(change_url(Membership.objects.get(user=reader)), {"role": Role.ADMIN})
    event = AuditEvent.objects.get()
    assert client.get("/admin/portal/auditevent/add/").status_code == 403
    page = client.get(f"/admin/portal/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="verb"' not in page.content  # shown, not editable
    assert (
        client.post(f"/admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_people_are_deactivated_not_deleted(login, operator, tenant, admin):
    client = login(operator)
    assert client.get(f"/admin/portal/user/{admin.pk}/delete/").status_code == 403
    assert Membership.objects.filter(user=admin).exists()


def test_operator_tenant_changes_are_audited(login, operator, tenant, admin):
    response = login(operator).post(
        f"/admin/portal/tenant/{tenant.pk}/change/",
        {
            "name": "Contoso Group",
            "slug": "contoso",
            "country": "US",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": Membership.objects.get(user=admin).pk,
            "memberships-0-tenant": tenant.pk,
        },
    )
    assert response.status_code == 302, response.content
    event = AuditEvent.objects.get(verb="tenant.change")
    assert event.data == {"name": "Contoso Group"}
    assert event.actor_user == operator


def test_operator_ends_a_partner_relationship_with_audit(login, operator, tenant, partner_tenant):
    link = partner_tenant.customer_links.get()
    client = login(operator)
    assert client.get(f"/admin/portal/partnerrelationship/{link.pk}/delete/").status_code == 403
    client.post(
        "/admin/portal/partnerrelationship/",
        {"action": "end_relationships", "_selected_action": [link.pk]},
    )
    link.refresh_from_db()
    assert not link.is_active
    assert AuditEvent.objects.get(verb="partner.end").tenant == tenant
