"""Every page of the portal at phone width (390 px) and desktop width (1366 px): no
horizontal scroll, navigation behind a toggle, error summary focused after a failed submit."""

from datetime import date

import pytest
from playwright.sync_api import expect

from billing.models import ProfileRole
from portal.audit import Actor
from portal.models import Role
from subscriptions import services
from subscriptions.models import Proposal, ProposalLine

from ..billing.conftest import DECLINES_CHARGES, card_profile
from ..factories import (
    AppFactory,
    BillingProfileFactory,
    BillingProfileRoleFactory,
    MembershipFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
    billed,
)
from .conftest import sign_in

WIDTHS = (390, 1366)


def fits(page, width):
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def tenant_pages(tenant, admin, reader):
    """Paths of every tenant page that exists today, with objects to show on them."""
    app = AppFactory(name="Contoso Ledger with a rather long name for a phone")
    plan = PlanFactory(app=app, prices={"USD": 400})
    profile = BillingProfileFactory(tenant=tenant, name="Contoso Research", is_default=True)
    BillingProfileFactory(tenant=tenant, name="Contoso HQ")
    active = services.subscription_activate(
        subscription=SubscriptionFactory(billing_profile=profile, plan=plan),
        actor=Actor.system("publisher"),
    )
    disabled = SubscriptionFactory(billing_profile=profile, plan=plan, name="Old ledger")
    services.subscription_cancel(subscription=disabled, actor=Actor.system("admin"))
    a = f"/t/{tenant.slug}/billing/products/apps/{active.uuid}"
    proposal = Proposal.objects.create(
        tenant=tenant, title="Support tools at a negotiated price", expires_on=date(2099, 1, 1)
    )
    ProposalLine.objects.create(proposal=proposal, plan=plan, quantity=40, unit_amount=320)
    grant = BillingProfileRoleFactory(profile=profile, user=reader, role=ProfileRole.READER)
    member = UserFactory(email="ada.lovelace.long.address@contoso.example", full_name="Ada L")
    membership = MembershipFactory(tenant=tenant, user=member, role=Role.READER)
    card = card_profile(tenant, DECLINES_CHARGES, name="Contoso cards with a long name")
    billed(card, plan, 123456, 11)  # its charge declined: open, payable with Pay now
    invoice = card.invoices.get()
    t, p = f"/t/{tenant.slug}", f"/t/{tenant.slug}/billing/accounts/profiles/{profile.uuid}"
    return {
        "home": f"{t}/",
        "members": f"{t}/settings/members/",
        "member_remove": f"{t}/settings/members/{membership.uuid}/remove/",
        "audit_log": f"{t}/settings/audit-log/",
        "marketplace": f"{t}/marketplace/",
        "app_detail": f"{t}/marketplace/apps/{app.uuid}/",
        "profiles": f"{t}/billing/accounts/",
        "profile_new": f"{t}/billing/accounts/profiles/new/",
        "profile_detail": f"{p}/",
        "profile_payment": f"{p}/payment/",
        "profile_permissions": f"{p}/permissions/",
        "profile_delete": f"{p}/delete/",
        "role_revoke": f"{p}/permissions/{grant.uuid}/revoke/",
        "apps": f"{t}/billing/products/apps/",
        "app": f"{a}/",
        "app_bought": f"{a}/bought/",
        "app_quantity": f"{a}/quantity/?quantity=9",
        "app_billing_profile": f"{a}/billing-profile/",
        "app_rename": f"{a}/rename/",
        "app_cancel": f"{a}/cancel/",
        "app_disabled": f"/t/{tenant.slug}/billing/products/apps/{disabled.uuid}/",
        "buy": f"{t}/billing/products/buy/{plan.uuid}/?quantity=12",
        "renewals": f"{t}/billing/renewals/",
        "proposals": f"{t}/billing/proposals/",
        "proposal": f"{t}/billing/proposals/{proposal.uuid}/",
        "bills": f"{t}/billing/bills/",
        "invoice": f"{t}/billing/bills/invoices/{invoice.uuid}/",
        "invoice_pay": f"{t}/billing/bills/invoices/{invoice.uuid}/pay/",
        "not_found": f"{t}/billing/accounts/profiles/00000000-0000-0000-0000-000000000000/",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen(
    live_server,
    browser,
    screenshot,
    settings,
    tenant,
    other_tenant,
    admin,
    reader,
    tenant_pages,
    width,
):
    settings.DEBUG = False
    MembershipFactory(tenant=other_tenant, user=admin, role=Role.ADMIN)  # the tenant picker
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    wide = []
    for name, path in [
        ("login", "/accounts/login/"),
        ("password_reset", "/accounts/password-reset/"),
        ("password_reset_done", "/accounts/password-reset/sent/"),
        ("password_reset_complete", "/accounts/reset/done/"),
        ("password_reset_bad_link", "/accounts/reset/MQ/bad-token/"),
    ]:
        page.goto(live_server.url + path)
        screenshot(page, f"responsive_{width}_{name}")
        if not fits(page, width):
            wide.append(name)
    sign_in(page, live_server, admin)
    expect(page.get_by_role("heading", name="Choose a tenant")).to_be_visible()
    screenshot(page, f"responsive_{width}_tenant_picker")
    if not fits(page, width):
        wide.append("tenant_picker")
    for name, path in tenant_pages.items():
        page.goto(live_server.url + path)
        screenshot(page, f"responsive_{width}_{name}")
        if not fits(page, width):
            wide.append(name)
    # 403: a reader on the members page.
    page.context.clear_cookies()
    sign_in(page, live_server, reader, next_path=tenant_pages["members"])
    expect(page.get_by_role("heading", name="You can't do that here")).to_be_visible()
    screenshot(page, f"responsive_{width}_forbidden")
    if not fits(page, width):
        wide.append("forbidden")
    context.close()
    assert wide == []


def test_phone_navigation_is_a_toggle_and_the_email_is_in_the_menu(
    live_server, browser, screenshot, tenant, admin
):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, admin)
    nav = page.get_by_role("navigation", name="Main")
    toggle = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    screenshot(page, "responsive_390_nav_open")
    user_menu = page.locator("details.user-menu")
    expect(user_menu.locator(".user-email")).to_be_hidden()
    user_menu.locator("summary").click()
    expect(user_menu.locator(".menu-email")).to_have_text(admin.email)
    # The menus close each other, and Esc closes them.
    page.locator("details.tenant-switcher summary").click()
    expect(user_menu).not_to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(page.locator("details.menu[open]")).to_have_count(0)
    context.close()


def test_skip_link_is_the_first_stop_and_focus_lands_on_the_error_summary(
    live_server, page, screenshot, tenant, admin
):
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/t/{tenant.slug}/settings/members/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_role("button", name="Send invitation").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_email")
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "form_error_summary")
