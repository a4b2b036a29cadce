"""The permission matrix: every tenant role and every profile role against every action,
asked of the permission functions and of the pages that enforce them."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing import permissions
from billing.models import BillingProfile, ProfileRole
from portal.models import Membership, Role
from tests.factories import BillingProfileRoleFactory, MembershipFactory, UserFactory

ACTIONS = [
    "view_billing_profiles",
    "create_billing_profile",
    "make_default_billing_profile",
    "view_billing_profile",
    "edit_billing_profile",
    "manage_payment_method",
    "delete_billing_profile",
    "manage_profile_roles",
    "view_invoices",
    "pay_invoices",
]
EVERYTHING = set(ACTIONS)
READS = {"view_billing_profiles", "view_billing_profile", "view_invoices"}

# who: (tenant role, role granted on the profile) -> the actions allowed on that profile.
MATRIX = {
    "admin": (Role.ADMIN, None, EVERYTHING),
    "billing admin": (Role.BILLING_ADMIN, None, EVERYTHING),
    "reader": (Role.READER, None, READS),
    "reader + invoice manager": (
        Role.READER,
        ProfileRole.INVOICE_MANAGER,
        READS | {"pay_invoices"},
    ),
    "member without a role": (Role.MEMBER, None, set()),
    "member, profile owner": (
        Role.MEMBER,
        ProfileRole.OWNER,
        EVERYTHING - {"create_billing_profile", "make_default_billing_profile"},
    ),
    "member, profile contributor": (
        Role.MEMBER,
        ProfileRole.CONTRIBUTOR,
        EVERYTHING
        - {"create_billing_profile", "make_default_billing_profile", "manage_profile_roles"},
    ),
    "member, invoice manager": (
        Role.MEMBER,
        ProfileRole.INVOICE_MANAGER,
        READS | {"pay_invoices"},
    ),
    "member, profile reader": (Role.MEMBER, ProfileRole.READER, READS),
}


def membership_of(tenant, profile, tenant_role, profile_role):
    membership = MembershipFactory(tenant=tenant, role=tenant_role, user=UserFactory())
    if profile_role:
        BillingProfileRoleFactory(profile=profile, user=membership.user, role=profile_role)
    return Membership.objects.get(pk=membership.pk)  # fresh: nothing cached on it


@pytest.fixture
def other_profile(tenant, profile):
    """A profile that is not the default: each role's every action applies to it."""
    from tests.factories import BillingProfileFactory

    return BillingProfileFactory(tenant=tenant, name="Contoso Research", is_default=False)


@pytest.mark.parametrize("who", MATRIX)
def test_permission_matrix(tenant, other_profile, who):
    profile = other_profile
    tenant_role, profile_role, allowed = MATRIX[who]
    membership = membership_of(tenant, profile, tenant_role, profile_role)
    granted = {
        action for action in ACTIONS if getattr(permissions, f"can_{action}")(membership, profile)
    }
    assert granted == allowed


@pytest.mark.parametrize("who", MATRIX)
def test_the_same_matrix_holds_for_profiles_read_through_visible_to(tenant, other_profile, who):
    """The list annotates each profile with the caller's role; the answer must not change."""
    profile = other_profile
    tenant_role, profile_role, allowed = MATRIX[who]
    membership = membership_of(tenant, profile, tenant_role, profile_role)
    visible = BillingProfile.objects.visible_to(membership).filter(pk=profile.pk).first()
    if visible is None:
        assert "view_billing_profile" not in allowed
        return
    granted = {a for a in ACTIONS if getattr(permissions, f"can_{a}")(membership, visible)}
    assert granted == allowed


def test_a_partner_acts_as_owner_of_every_profile(login, tenant, partner_user, profile):
    membership = Membership.objects.of_user_in(partner_user, tenant.slug)
    assert permissions.profile_role(membership, profile) == ProfileRole.OWNER
    page = login(partner_user).get(reverse("billing:roles", args=[tenant.slug, profile.uuid]))
    assert page.status_code == 200
    assert b"Grant a role" in page.content


def test_a_role_on_one_profile_shows_nothing_of_another(tenant, profile, invoice_manager):
    from tests.factories import BillingProfileFactory

    other = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    membership = Membership.objects.get(user=invoice_manager, tenant=tenant)
    assert permissions.can_view_billing_profile(membership, profile)
    assert not permissions.can_view_billing_profile(membership, other)
    assert list(BillingProfile.objects.visible_to(membership)) == [profile]


# Pages: who gets what. 200 shown, 403 refused with the reason, 404 hidden.
def pages(tenant, profile):
    args = [tenant.slug, profile.uuid]
    return {
        "list": ("get", reverse("billing:profile_list", args=[tenant.slug])),
        "create": ("get", reverse("billing:profile_create", args=[tenant.slug])),
        "overview": ("get", reverse("billing:profile_detail", args=args)),
        "edit": ("get", reverse("billing:profile_edit", args=args)),
        "payment": ("get", reverse("billing:payment", args=args)),
        "permissions": ("get", reverse("billing:roles", args=args)),
        "grant": ("post", reverse("billing:roles", args=args)),
        "delete": ("get", reverse("billing:profile_delete", args=args)),
        "check/wire": ("post", reverse("billing:payment_method", args=args)),
    }


PAGES = {
    # who -> page -> status
    "reader": {
        "list": 200,
        "create": 403,
        "overview": 200,
        "edit": 403,
        "payment": 200,
        "permissions": 200,
        "grant": 403,
        "delete": 403,
        "check/wire": 403,
    },
    "member without a role": {
        "list": 403,
        "create": 403,
        "overview": 404,
        "edit": 404,
        "payment": 404,
        "permissions": 404,
        "grant": 404,
        "delete": 404,
        "check/wire": 404,
    },
    "member, invoice manager": {
        "list": 200,
        "create": 403,
        "overview": 200,
        "edit": 403,
        "payment": 200,
        "permissions": 200,
        "grant": 403,
        "delete": 403,
        "check/wire": 403,
    },
    "member, profile contributor": {
        "list": 200,
        "create": 403,
        "overview": 200,
        "edit": 200,
        "payment": 200,
        "permissions": 200,
        "grant": 403,
        "delete": 200,
        "check/wire": 302,
    },
    "member, profile owner": {
        "list": 200,
        "create": 403,
        "overview": 200,
        "edit": 200,
        "payment": 200,
        "permissions": 200,
        "grant": 422,
        "delete": 200,
        "check/wire": 302,
    },
    "billing admin": {
        "list": 200,
        "create": 200,
        "overview": 200,
        "edit": 200,
        "payment": 200,
        "permissions": 200,
        "grant": 422,
        "delete": 200,
        "check/wire": 302,
    },
}


@pytest.mark.parametrize("who", PAGES)
def test_pages_enforce_the_matrix_and_explain_refusals(login, tenant, profile, who):
    tenant_role, profile_role, _ = MATRIX[who]
    membership = membership_of(tenant, profile, tenant_role, profile_role)
    client = login(membership.user)
    for page, (method, url) in pages(tenant, profile).items():
        response = getattr(client, method)(url, {"method": "check_wire"})
        assert response.status_code == PAGES[who][page], (who, page)
        if response.status_code == 403:
            reason = response.context["exception"]  # the view's own words, shown on the page
            assert reason and escape(reason).encode() in response.content, (who, page)
