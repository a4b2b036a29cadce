"""Joining a tenant: an invitation the invited person accepts; nothing tells who has an account."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from billing.models import BillingProfileRole, ProfileRole
from portal import permissions, services
from portal.audit import Actor
from portal.models import AuditEvent, Invitation, Membership, Role, User
from tests.factories import (
    BillingProfileFactory,
    BillingProfileRoleFactory,
    InvitationFactory,
    MembershipFactory,
)

MEMBERS = "/t/contoso/settings/members/"


def invite(client, email, role=Role.READER):
    return client.post(MEMBERS, {"email": email, "role": role})


@pytest.fixture
def invited(tenant, admin, other_admin):
    """Fabrikam's admin, invited to Contoso as a reader."""
    return services.invitation_create(
        tenant=tenant, email=other_admin.email, role=Role.READER, actor=Actor.system()
    )


def test_new_and_existing_addresses_get_the_same_answer_and_audit(
    login, tenant, admin, other_admin
):
    client = login(admin)
    answers = []
    for email in (other_admin.email, "nobody@new.example"):
        response = invite(client, email)
        page = client.get(MEMBERS).content.decode()
        answers.append((response.status_code, response["Location"]))
        assert f"Invitation sent to {email}." in page
        assert f'aria-label="Resend invitation to {email}"' in page
        assert f'aria-label="Cancel invitation to {email}"' in page
    assert answers[0] == answers[1]
    data = [e.data for e in AuditEvent.objects.filter(verb="invitation.create").order_by("id")]
    assert data == [
        {"email": other_admin.email, "role": "reader"},
        {"email": "nobody@new.example", "role": "reader"},
    ]
    assert not Membership.objects.filter(tenant=tenant, user__email__in=data[0].values()).exists()


def test_inviting_a_member_or_someone_invited_is_a_field_error(login, tenant, admin, reader):
    client = login(admin)
    assert b"already a member" in invite(client, "READER@contoso.example").content
    invite(client, "ada@example.com")
    response = invite(client, "Ada@Example.com")
    assert response.status_code == 422
    assert b"already invited" in response.content
    assert Invitation.objects.count() == 1


def test_one_pending_invitation_per_address_is_a_database_rule(tenant):
    InvitationFactory(tenant=tenant, email="ada@example.com")
    with pytest.raises(IntegrityError):
        InvitationFactory(tenant=tenant, email="ADA@example.com")


def test_the_invited_person_sees_it_on_the_picker_and_accepts(login, tenant, other_admin, invited):
    client = login(other_admin)
    assert client.get("/t/contoso/").status_code == 404
    picker = client.get("/")  # one tenant of their own, but an invitation: the picker
    assert picker.status_code == 200
    html = picker.content.decode()
    assert "Contoso" in html and "Accept the invitation to Contoso" in html
    # The switcher's menu, as htmx loads it when it is opened; without htmx, the picker.
    assert 'data-menu-url="/t/fabrikam/switcher/"' in client.get("/t/fabrikam/").content.decode()
    switcher = client.get("/t/fabrikam/switcher/", headers={"HX-Request": "true"})
    assert f"/invitations/{invited.uuid}/accept/" in switcher.content.decode()
    assert client.get("/t/fabrikam/switcher/").url == "/"
    response = client.post(f"/invitations/{invited.uuid}/accept/")
    assert response["Location"] == "/t/contoso/"
    assert Membership.objects.get(tenant=tenant, user=other_admin).role == Role.READER
    assert client.get("/t/contoso/").status_code == 200
    event = AuditEvent.objects.get(verb="invitation.accept")
    assert (event.actor_user, event.data) == (
        other_admin,
        {"email": other_admin.email, "role": "reader"},
    )
    assert client.post(f"/invitations/{invited.uuid}/accept/").status_code == 404  # once only
    assert b"Accept the invitation" not in client.get("/").content


def test_decline_makes_no_member(login, tenant, other_admin, invited):
    client = login(other_admin)
    assert client.post(f"/invitations/{invited.uuid}/decline/").status_code == 302
    invited.refresh_from_db()
    assert invited.declined_at is not None
    assert not Membership.objects.filter(tenant=tenant, user=other_admin).exists()
    assert AuditEvent.objects.get(verb="invitation.decline").actor_user == other_admin
    assert client.post(f"/invitations/{invited.uuid}/accept/").status_code == 404


def test_someone_elses_invitation_is_404_and_accept_takes_post(
    login, tenant, admin, reader, invited
):
    for person in (admin, reader):
        client = login(person)
        for action in ("accept", "decline"):
            assert client.post(f"/invitations/{invited.uuid}/{action}/").status_code == 404
    assert (
        login(invited_user(invited)).get(f"/invitations/{invited.uuid}/accept/").status_code == 405
    )
    invited.refresh_from_db()
    assert invited.is_pending
    assert not Membership.objects.filter(tenant=tenant, user__email=invited.email).exists()


def invited_user(invitation):
    return User.objects.get(email__iexact=invitation.email)


def test_cancel_closes_it(login, tenant, admin, other_admin, invited):
    response = login(admin).post(f"{MEMBERS}invitations/{invited.uuid}/cancel/")
    assert response.status_code == 302
    assert AuditEvent.objects.get(verb="invitation.cancel").data == {"email": other_admin.email}
    assert login(other_admin).post(f"/invitations/{invited.uuid}/accept/").status_code == 404
    assert not Membership.objects.filter(tenant=tenant, user=other_admin).exists()
    assert other_admin.email not in login(admin).get(MEMBERS).content.decode()


def test_resend_sends_again_and_renews_an_expired_one(
    login, tenant, admin, other_admin, invited, django_capture_on_commit_callbacks
):
    Invitation.objects.filter(pk=invited.pk).update(sent_at=timezone.now() - timedelta(days=15))
    client = login(other_admin)
    assert client.post(f"/invitations/{invited.uuid}/accept/").status_code == 404  # expired
    assert "Invitation expired" in login(admin).get(MEMBERS).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        login(admin).post(f"{MEMBERS}invitations/{invited.uuid}/resend/")
    assert [m.to for m in mail.outbox] == [[other_admin.email]]
    assert AuditEvent.objects.filter(verb="invitation.resend").count() == 1
    assert client.post(f"/invitations/{invited.uuid}/accept/").status_code == 302
    assert Membership.objects.filter(tenant=tenant, user=other_admin).exists()


def test_an_expired_invitation_cannot_be_accepted_by_the_service(tenant, other_admin, invited):
    Invitation.objects.filter(pk=invited.pk).update(sent_at=timezone.now() - timedelta(days=14))
    with pytest.raises(services.InvitationError, match="expired"):
        services.invitation_accept(invitation=invited, user=other_admin, actor=Actor.system())
    assert not Membership.objects.filter(tenant=tenant, user=other_admin).exists()


def test_a_new_address_sets_a_password_then_accepts(
    login, client, tenant, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(login(admin), "new@new.example")
    [sent] = mail.outbox
    assert sent.subject == "You are invited to join Contoso"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", sent.body).group(1)
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    user = User.objects.get(email="new@new.example")
    assert not Membership.objects.filter(user=user).exists()  # the same rule: they accept
    client.force_login(user)
    assert b"Accept the invitation to Contoso" in client.get("/").content


def test_sole_admin_permission_and_service_refusal_agree(tenant, admin, reader):
    sole = Membership.objects.get(user=admin)
    other = Membership.objects.get(user=reader)
    assert sole.is_sole_admin()
    assert not permissions.can_remove_member(sole, sole)
    assert not permissions.can_change_role(sole, sole)
    with pytest.raises(services.LastAdminError):
        services.member_remove(membership=sole, actor=Actor.system())
    with pytest.raises(services.LastAdminError):
        services.member_change_role(membership=sole, role=Role.READER, actor=Actor.system())
    second = MembershipFactory(tenant=tenant, role=Role.ADMIN)
    assert not sole.is_sole_admin()
    assert permissions.can_remove_member(sole, sole) and permissions.can_change_role(sole, sole)
    assert permissions.can_remove_member(sole, other)
    services.member_remove(membership=second, actor=Actor.system())
    assert Membership.objects.with_admin_count().get(pk=sole.pk).is_sole_admin()


def test_member_removal_revokes_billing_roles_as_the_admin(login, tenant, admin, member):
    profile = BillingProfileFactory(tenant=tenant)
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.INVOICE_MANAGER)
    m = Membership.objects.get(user=member)
    login(admin).post(f"{MEMBERS}{m.uuid}/remove/")
    assert not BillingProfileRole.objects.filter(user=member).exists()
    event = AuditEvent.objects.get(verb="billing_profile.role_revoke")
    assert (event.actor_type, event.actor_user, event.actor_label) == ("user", admin, admin.email)
