import pytest

from portal.audit import Actor
from portal.models import AuditEvent, Membership, Role, Tenant
from portal.services import member_add, partner_relationship_create, partner_relationship_end
from tests.factories import MembershipFactory, PartnerRelationshipFactory, TenantFactory


def test_anonymous_is_sent_to_log_in(client, tenant):
    response = client.get("/t/contoso/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/t/contoso/"


def test_unknown_and_foreign_tenants_look_the_same(login, tenant, other_admin):
    client = login(other_admin)
    assert client.get("/t/contoso/").status_code == 404
    assert client.get("/t/no-such-tenant/").status_code == 404


def test_home_shows_tenant_country_currency_role_and_member_count(login, tenant, admin, reader):
    response = login(reader).get("/t/contoso/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Contoso" in html
    assert "United States" in html
    assert "USD" in html
    assert "Reader" in html
    assert response.context["member_count"] == 2


def test_a_member_with_no_tenant_rights_still_sees_home_but_no_settings(login, tenant, member):
    html = login(member).get("/t/contoso/").content.decode()
    assert "Home" in html
    assert "Settings" not in html


def test_single_tenant_users_land_on_their_tenant(login, tenant, admin):
    response = login(admin).get("/")
    assert response["Location"] == "/t/contoso/"


def test_users_of_several_tenants_pick_one(login, tenant, admin, other_tenant):
    MembershipFactory(tenant=other_tenant, user=admin, role=Role.READER)
    response = login(admin).get("/")
    assert response.status_code == 200
    assert [t.slug for t in response.context["tenants"]] == ["contoso", "fabrikam"]


def test_partner_admin_acts_in_customer_tenant_as_billing_admin(login, tenant, partner_user):
    client = login(partner_user)
    picker = client.get("/")
    assert {t.slug for t in picker.context["tenants"]} == {"contoso", "northwind"}
    response = client.get("/t/contoso/")
    assert response.status_code == 200
    membership = response.wsgi_request.membership
    assert membership.role == Role.BILLING_ADMIN
    assert membership.via_partner.slug == "northwind"
    assert b"acting for Contoso as a partner" in response.content
    assert not Membership.objects.filter(user=partner_user, tenant=tenant).exists()


def test_partner_readers_do_not_get_in(login, tenant, partner_tenant):
    reader = MembershipFactory(tenant=partner_tenant, role=Role.READER).user
    assert login(reader).get("/t/contoso/").status_code == 404


def test_an_ended_partner_relationship_closes_the_door(login, tenant, partner_tenant, partner_user):
    partner_tenant.customer_links.update(is_active=False)
    assert login(partner_user).get("/t/contoso/").status_code == 404


def test_partner_actions_are_recorded_as_done_by_the_partner(rf, tenant, admin, partner_user):
    request = rf.post("/", REMOTE_ADDR="203.0.113.9")
    request.user = partner_user
    request.membership = Membership.objects.of_user_in(partner_user, tenant.slug)
    member_add(
        tenant=tenant,
        email="x@contoso.example",
        role=Role.READER,
        actor=Actor.from_request(request),
    )
    event = AuditEvent.objects.get(verb="member.add")
    assert event.actor_user == partner_user
    assert event.actor_partner.slug == "northwind"
    assert event.ip == "203.0.113.9"


def test_tenant_country_must_be_supported(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        TenantFactory(country="JP")


def test_tenant_currency_is_its_countrys(db):
    assert TenantFactory(country="GB").currency == "GBP"
    assert TenantFactory(country="AR").currency == "USD"
    assert Tenant(country="FI").region.tax_label == "VAT 25.5%"


def test_a_partner_of_another_customer_does_not_get_in(login, tenant, other_tenant):
    elsewhere = TenantFactory(name="Litware", slug="litware")
    PartnerRelationshipFactory(partner=elsewhere, customer=other_tenant)
    partner_admin = MembershipFactory(tenant=elsewhere, role=Role.ADMIN).user
    client = login(partner_admin)
    assert client.get("/t/fabrikam/").status_code == 200
    assert client.get("/t/contoso/").status_code == 404


def test_a_partner_acting_through_the_portal_is_recorded_as_the_partner(
    login, tenant, partner_user
):
    with pytest.raises(ValueError, match="never saved"):
        Membership.objects.of_user_in(partner_user, tenant.slug).save()
    # Billing admins may not manage members, so partners can't either.
    response = login(partner_user).post(
        "/t/contoso/settings/members/", {"email": "x@contoso.example", "role": "admin"}
    )
    assert response.status_code == 403


def test_ending_and_renewing_a_partner_relationship_is_audited(tenant, partner_tenant):
    link = partner_tenant.customer_links.get()
    partner_relationship_end(link=link, actor=Actor.system())
    partner_relationship_end(link=link, actor=Actor.system())  # already ended: nothing more
    partner_relationship_create(partner=partner_tenant, customer=tenant, actor=Actor.system())
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["partner.end", "partner.add"]
