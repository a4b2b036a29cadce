import re

from django.core import mail
from playwright.sync_api import expect

from portal.models import AuditEvent, Invitation, Membership, Role

from ..factories import PASSWORD, InvitationFactory, MembershipFactory
from .conftest import sign_in


def test_admin_of_two_tenants_switches_tenant_and_adds_a_member_in_place(
    live_server, page, console_errors, screenshot, tenant, other_tenant, admin
):
    MembershipFactory(tenant=other_tenant, user=admin, role=Role.ADMIN)
    newcomer = "newcomer@fabrikam.example"

    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Two tenants: the picker, not a tenant's Home.
    expect(page.get_by_role("heading", name="Choose a tenant")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/")
    screenshot(page, "picker")
    page.get_by_role("link", name="Contoso").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Contoso")
    expect(page).to_have_url(f"{live_server.url}/t/contoso/")
    screenshot(page, "home_contoso")

    switcher = page.locator("details.tenant-switcher")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name="Fabrikam")).to_be_visible()
    expect(switcher.get_by_role("link", name="Contoso")).to_have_count(0)
    screenshot(page, "switcher")
    switcher.get_by_role("link", name="Fabrikam").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Fabrikam")
    expect(page).to_have_url(f"{live_server.url}/t/fabrikam/")
    expect(switcher.locator("summary")).to_contain_text("Fabrikam")
    screenshot(page, "home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/t/fabrikam/settings/members/")

    # A marker on the window survives only if the page is not loaded again.
    page.evaluate("window.e2eSameDocument = true")
    add = page.locator("section").filter(has=page.get_by_role("heading", name="Invite a member"))
    add.get_by_label("E-mail address").fill(newcomer)
    add.get_by_label("Role").select_option(label=Role.BILLING_ADMIN.label)
    with page.expect_response(re.compile(r"/settings/members/$")) as posted:
        add.get_by_role("button", name="Send invitation").click()
    assert posted.value.request.method == "POST"
    assert posted.value.request.headers.get("hx-request") == "true"

    row = page.get_by_role("row").filter(has_text=newcomer)
    expect(row).to_contain_text("Invited")
    expect(row).to_contain_text(Role.BILLING_ADMIN.label)
    expect(page.get_by_role("button", name=f"Resend invitation to {newcomer}")).to_be_visible()
    expect(page.get_by_text(f"Invitation sent to {newcomer}.")).to_be_visible()
    expect(add.get_by_label("E-mail address")).to_have_value("")
    assert page.evaluate("window.e2eSameDocument") is True
    screenshot(page, "members")

    assert not Membership.objects.filter(user__email=newcomer).exists()  # until they accept
    invitation = Invitation.objects.get(tenant=other_tenant, email=newcomer)
    assert invitation.role == Role.BILLING_ADMIN
    event = AuditEvent.objects.get(tenant=other_tenant, verb="invitation.create")
    assert event.actor_user == admin
    assert event.data == {"email": newcomer, "role": Role.BILLING_ADMIN}
    assert [m.to for m in mail.outbox] == [[newcomer]]  # the set-password e-mail

    csp = [e for e in console_errors if "Content Security Policy" in e or "Refused to" in e]
    assert csp == [], csp


def test_a_bad_email_shows_its_field_error_in_place(
    live_server, page, console_errors, screenshot, tenant, admin
):
    sign_in(page, live_server, admin, "/t/contoso/settings/members/")
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()

    page.evaluate("window.e2eSameDocument = true")
    add = page.locator("section").filter(has=page.get_by_role("heading", name="Invite a member"))
    add.get_by_label("E-mail address").fill("not-an-address")
    add.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(add.get_by_label("E-mail address")).to_have_value("not-an-address")
    assert page.evaluate("window.e2eSameDocument") is True
    assert Membership.objects.filter(tenant=tenant).count() == 1
    screenshot(page, "members_error")
    assert not [e for e in console_errors if "Refused to" in e]


def test_an_invited_person_accepts_from_the_switcher(
    live_server, page, screenshot, tenant, other_tenant, admin, other_admin
):
    MembershipFactory(tenant=tenant, role=Role.READER, user__email="ada@example.com")
    InvitationFactory(tenant=tenant, email="grace@example.com", role=Role.READER, invited_by=admin)
    InvitationFactory(tenant=tenant, email=other_admin.email, role=Role.READER, invited_by=admin)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        sign_in(page, live_server, admin, "/t/contoso/settings/members/")
        expect(
            page.get_by_role("button", name="Cancel invitation to grace@example.com")
        ).to_be_visible()
        screenshot(page, f"members_invited_{width}")
        page.context.clear_cookies()

        sign_in(page, live_server, other_admin)
        # One tenant of their own, but an invitation: the picker shows it.
        expect(page.get_by_role("heading", name="Choose a tenant")).to_be_visible()
        expect(page.get_by_role("button", name="Accept the invitation to Contoso")).to_be_visible()
        screenshot(page, f"picker_invited_{width}")
        page.goto(f"{live_server.url}/t/fabrikam/")
        page.locator("details.tenant-switcher summary").click()
        # The menu loads when opened.
        expect(page.get_by_role("button", name="Accept the invitation to Contoso")).to_be_visible()
        screenshot(page, f"switcher_invited_{width}")
        page.context.clear_cookies()

    sign_in(page, live_server, other_admin, "/t/fabrikam/")
    page.locator("details.tenant-switcher summary").click()
    page.get_by_role("button", name="Accept the invitation to Contoso").click()
    expect(page).to_have_url(f"{live_server.url}/t/contoso/")
    expect(page.get_by_text("You joined Contoso.")).to_be_visible()
    assert Membership.objects.get(tenant=tenant, user=other_admin).role == Role.READER


def test_an_admin_changes_a_role_in_its_row(live_server, page, screenshot, tenant, admin, reader):
    sign_in(page, live_server, admin, "/t/contoso/settings/members/")
    page.evaluate("window.e2eSameDocument = true")
    role = page.get_by_label(f"Role of {reader.email}", exact=True)
    role.select_option(label=Role.BILLING_ADMIN.label)
    with page.expect_response(re.compile(r"/role/$")) as saved:
        page.get_by_role("button", name=f"Save the role of {reader.email}").click()
    assert saved.value.status == 200

    expect(page.get_by_label(f"Role of {reader.email}", exact=True)).to_have_value(
        Role.BILLING_ADMIN
    )
    # The only admin's role can't change: no select, and the row says why.
    expect(page.get_by_label(f"Role of {admin.email}", exact=True)).to_have_count(0)
    own_row = page.get_by_role("row").filter(has_text=admin.email)
    expect(own_row).to_contain_text("Admin (make someone else admin first)")
    assert page.evaluate("window.e2eSameDocument") is True  # the row alone was swapped
    assert Membership.objects.get(tenant=tenant, user=reader).role == Role.BILLING_ADMIN
    screenshot(page, "members_role_changed")


def test_the_switcher_says_when_its_list_fails_and_asks_again(
    live_server, page, tenant, other_tenant, admin
):
    MembershipFactory(tenant=other_tenant, user=admin, role=Role.ADMIN)
    page.route("**/switcher/", lambda route: route.fulfill(status=503, body="down"))
    sign_in(page, live_server, admin, "/t/contoso/")
    page.wait_for_load_state("load")  # portal.js listens
    switcher = page.locator("details.tenant-switcher")
    with page.expect_response("**/switcher/") as failed:
        switcher.locator("summary").click()
    assert failed.value.status == 503
    expect(switcher).to_contain_text("Could not load the list.")
    switcher.locator("summary").click()  # closed
    page.unroute("**/switcher/")
    switcher.locator("summary").click()  # opened again: asked again
    expect(switcher.get_by_role("link", name="Fabrikam")).to_be_visible()
