import re

import pytest
from django.core import mail

from portal.models import AuditEvent, Invitation, Membership, Role, User
from tests.factories import InvitationFactory


def url(tenant, suffix=""):
    return f"/t/{tenant.slug}/settings/members/{suffix}"


@pytest.mark.parametrize("persona", ["billing_admin", "reader", "member", "partner_user"])
def test_members_page_is_refused_to_everyone_but_admins(request, login, tenant, persona):
    client = login(request.getfixturevalue(persona))
    assert client.get(url(tenant)).status_code == 403
    response = client.post(url(tenant), {"email": "x@example.com", "role": "admin"})
    assert response.status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_admin_sees_members_with_roles(login, tenant, admin, reader):
    response = login(admin).get(url(tenant))
    assert response.status_code == 200
    assert b"reader@contoso.example" in response.content
    assert b"Members" in response.content


def test_members_link_shows_in_navigation_only_to_admins(login, tenant, admin, reader):
    assert b'href="/t/contoso/settings/members/"' in login(admin).get(f"/t/{tenant.slug}/").content
    assert b"settings/members" not in login(reader).get(f"/t/{tenant.slug}/").content


def test_adding_an_existing_user_invites_them_and_makes_no_member(
    login, tenant, admin, other_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin).post(
            url(tenant), {"email": "ADMIN@fabrikam.example", "role": Role.READER}
        )
    assert response.status_code == 302
    assert not Membership.objects.filter(tenant=tenant, user=other_admin).exists()
    assert login(other_admin).get("/t/contoso/").status_code == 404
    invitation = Invitation.objects.get(tenant=tenant)
    assert (invitation.email, invitation.role) == ("admin@fabrikam.example", Role.READER)
    [sent] = mail.outbox
    assert sent.to == ["admin@fabrikam.example"]
    assert sent.subject == "You are invited to join Contoso"
    assert "http://testserver/" in sent.body
    event = AuditEvent.objects.get(tenant=tenant, verb="invitation.create")
    assert event.actor_user == admin
    assert event.data == {"email": "admin@fabrikam.example", "role": "reader"}


def test_a_new_user_gets_an_email_to_set_their_password(
    login, client, tenant, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        login(admin).post(url(tenant), {"email": "new@contoso.example", "role": Role.MEMBER})
    user = User.objects.get(email="new@contoso.example")
    assert not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()  # they accept after signing in
    assert Invitation.objects.get(tenant=tenant).email == user.email
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@contoso.example"]
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    assert b"Choose a password" in page.content
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-new-passphrase")


def test_a_malformed_email_is_a_field_error_and_changes_nothing(login, tenant, admin):
    before = Membership.objects.count()
    response = login(admin).post(url(tenant), {"email": "not-an-email", "role": Role.MEMBER})
    assert response.status_code == 422
    assert b"Enter a valid email address." in response.content
    assert Membership.objects.count() == before
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.exists()


def test_adding_someone_twice_is_refused(login, tenant, admin, reader):
    response = login(admin).post(url(tenant), {"email": reader.email, "role": Role.ADMIN})
    assert response.status_code == 422
    assert b"already a member" in response.content
    assert Membership.objects.get(user=reader, tenant=tenant).role == Role.READER


def test_htmx_add_answers_with_the_members_region_only(login, tenant, admin):
    response = login(admin).post(
        url(tenant),
        {"email": "htmx@contoso.example", "role": Role.READER},
        headers={"HX-Request": "true", "HX-Target": "members"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="members">' in html
    assert "htmx@contoso.example" in html
    # The confirmation replaces the page's messages region out of band, not a second one.
    assert html.count('id="messages"') == 1
    assert 'hx-swap-oob="true"' in html
    assert "Invitation sent to htmx@contoso.example." in html
    assert "<html" not in html


def test_admin_changes_a_role(login, tenant, admin, reader):
    m = Membership.objects.get(user=reader, tenant=tenant)
    response = login(admin).post(
        url(tenant, f"{m.uuid}/role/"), {f"{m.uuid}-role": "billing_admin"}
    )
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.role == Role.BILLING_ADMIN
    event = AuditEvent.objects.get(verb="member.change_role")
    assert event.data == {"email": reader.email, "from": "reader", "to": "billing_admin"}


def test_htmx_role_change_answers_with_the_row(login, tenant, admin, reader):
    m = Membership.objects.get(user=reader, tenant=tenant)
    response = login(admin).post(
        url(tenant, f"{m.uuid}/role/"), {f"{m.uuid}-role": "member"}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().lstrip().startswith(f'<tr id="member-{m.uuid}">')
    m.refresh_from_db()
    assert m.role == Role.MEMBER


def test_the_last_admin_cannot_be_demoted(login, tenant, admin):
    m = Membership.objects.get(user=admin, tenant=tenant)
    client = login(admin)
    response = client.post(
        url(tenant, f"{m.uuid}/role/"), {f"{m.uuid}-role": "reader"}, follow=True
    )
    assert b"at least one admin" in response.content
    m.refresh_from_db()
    assert m.role == Role.ADMIN
    htmx = client.post(
        url(tenant, f"{m.uuid}/role/"), {f"{m.uuid}-role": "reader"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 422
    assert b"at least one admin" in htmx.content
    assert b"Only admin" in htmx.content  # the row still offers no removal
    assert not AuditEvent.objects.filter(verb="member.change_role").exists()


def test_the_last_admin_cannot_be_removed(login, tenant, admin):
    m = Membership.objects.get(user=admin, tenant=tenant)
    client = login(admin)
    assert b"Only admin" in client.get(url(tenant, "")).content  # no Remove offered
    for method in (client.get, client.post):  # nor the page, nor a crafted POST
        response = method(url(tenant, f"{m.uuid}/remove/"), follow=True)
        assert response.redirect_chain == [(url(tenant, ""), 302)]
        assert b"at least one admin" in response.content
    assert Membership.objects.filter(pk=m.pk).exists()


def test_one_rule_decides_the_sole_admin_for_the_page_the_permission_and_the_service(
    tenant, admin, django_assert_num_queries
):
    from portal.permissions import can_remove_member

    m = Membership.objects.get(user=admin, tenant=tenant)
    listed = Membership.objects.for_tenant(tenant).with_admin_count().get(pk=m.pk)
    with django_assert_num_queries(0):  # the page's rows carry their count
        assert listed.is_sole_admin()
    assert not can_remove_member(m, m)
    second = Membership.objects.create(
        tenant=tenant, user=User.objects.create_user("second@contoso.example"), role=Role.ADMIN
    )
    assert not m.is_sole_admin()
    assert can_remove_member(m, second) and can_remove_member(m, m)
    assert m.is_sole_admin(admin_ids=[m.pk])  # what a service locked decides


def test_an_admin_can_be_demoted_when_another_admin_remains(login, tenant, admin):
    second = Membership.objects.create(
        tenant=tenant, user=User.objects.create_user("second@contoso.example"), role=Role.ADMIN
    )
    m = Membership.objects.get(user=admin, tenant=tenant)
    login(admin).post(url(tenant, f"{m.uuid}/role/"), {f"{m.uuid}-role": "reader"})
    m.refresh_from_db()
    second.refresh_from_db()
    assert m.role == Role.READER
    assert second.role == Role.ADMIN


def test_remove_asks_for_confirmation_then_removes(login, tenant, admin, reader):
    m = Membership.objects.get(user=reader, tenant=tenant)
    client = login(admin)
    confirm = client.get(url(tenant, f"{m.uuid}/remove/"))
    assert b"Remove reader@contoso.example?" in confirm.content
    assert Membership.objects.filter(pk=m.pk).exists()
    client.post(url(tenant, f"{m.uuid}/remove/"))
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert User.objects.filter(pk=reader.pk).exists()
    assert AuditEvent.objects.get(verb="member.remove").data["email"] == reader.email


def test_another_tenants_membership_is_404(login, tenant, admin, other_admin, other_tenant):
    theirs = Membership.objects.get(user=other_admin)
    client = login(admin)
    assert client.post(url(tenant, f"{theirs.uuid}/remove/")).status_code == 404
    assert client.post(url(tenant, f"{theirs.uuid}/role/"), {"role": "reader"}).status_code == 404
    assert Membership.objects.filter(pk=theirs.pk, role=Role.ADMIN).exists()


def test_other_tenants_admin_gets_404(login, tenant, other_admin):
    assert login(other_admin).get(url(tenant)).status_code == 404


def test_an_admin_who_removes_themself_lands_on_their_tenants(login, tenant, admin):
    Membership.objects.create(
        tenant=tenant, user=User.objects.create_user("second@contoso.example"), role=Role.ADMIN
    )
    m = Membership.objects.get(user=admin, tenant=tenant)
    response = login(admin).post(url(tenant, f"{m.uuid}/remove/"))
    assert response["Location"] == "/"
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_an_admin_who_demotes_themself_is_sent_home(login, tenant, admin):
    Membership.objects.create(
        tenant=tenant, user=User.objects.create_user("second@contoso.example"), role=Role.ADMIN
    )
    m = Membership.objects.get(user=admin, tenant=tenant)
    response = login(admin).post(
        url(tenant, f"{m.uuid}/role/"), {f"{m.uuid}-role": "reader"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == "/t/contoso/"
    m.refresh_from_db()
    assert m.role == Role.READER


def test_inviting_someone_who_never_set_a_password_sends_the_email_again(
    login, tenant, other_tenant, admin, django_capture_on_commit_callbacks
):
    invited = User.objects.create_user("invited@example.com")  # no password yet
    Membership.objects.create(tenant=other_tenant, user=invited, role=Role.READER)
    with django_capture_on_commit_callbacks(execute=True):
        login(admin).post(url(tenant), {"email": invited.email, "role": Role.READER})
    assert [m.to for m in mail.outbox] == [[invited.email]]


def test_members_page_queries_do_not_grow_with_members(
    login, tenant, admin, django_assert_max_num_queries
):
    for i in range(30):
        Membership.objects.create(
            tenant=tenant, user=User.objects.create_user(f"p{i}@contoso.example")
        )
        InvitationFactory(tenant=tenant, email=f"i{i}@example.com")
    client = login(admin)
    client.get(url(tenant))  # pushes the session's idle expiry
    # session, user, membership, members with their admin count, invitations listed (the
    # tenant switcher's menu loads when opened)
    with django_assert_max_num_queries(5):
        assert client.get(url(tenant)).status_code == 200


def test_the_only_admin_is_offered_no_remove_link(login, tenant, admin, reader):
    html = login(admin).get(url(tenant)).content.decode()
    admin_m = Membership.objects.get(user=admin)
    reader_m = Membership.objects.get(user=reader)
    assert f"{admin_m.uuid}/remove/" not in html
    assert "Only admin" in html
    assert f"{reader_m.uuid}/remove/" in html
    # Nor a role select: the page says why (a crafted POST is refused, as tested above).
    assert f'name="{admin_m.uuid}-role"' not in html and "make someone else admin first" in html
    assert f'name="{reader_m.uuid}-role"' in html


def test_the_rows_role_select_is_named_as_the_form_reads_it(tenant, reader):
    from portal.forms import MemberRoleForm
    from portal.templatetags.portal_tags import role_select

    member = Membership.objects.select_related("user").get(user=reader)
    field = MemberRoleForm.for_member(member)["role"]
    html = role_select(member)
    assert MemberRoleForm.field_name(member) == field.html_name
    assert f'name="{field.html_name}" id="{field.auto_id}" required' in html
    assert f'<option value="{Role.READER}" selected>' in html
    assert f'<label class="visually-hidden" for="{field.auto_id}">' in html


def test_a_signed_out_htmx_request_sends_the_whole_page_to_log_in(client, tenant):
    response = client.get(
        "/t/contoso/switcher/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/t/contoso/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/t/contoso/"
    assert client.get("/t/contoso/switcher/").url == "/accounts/login/?next=/t/contoso/switcher/"
