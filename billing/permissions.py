"""Who may do what with billing profiles. Views and templates ask these same functions.

A person's role on a profile is the strongest of what their tenant role amounts to (admins
and billing admins own every profile, readers read them all) and the role granted to them
on that profile. Owners manage everything, permissions included; contributors everything
but permissions; invoice managers read and pay invoices; readers read.
"""

from dataclasses import dataclass

from portal.models import Membership, Role, User

from .models import TENANT_ROLE_ON_PROFILES, BillingProfile, BillingProfileRole, ProfileRole

_MISSING = object()


def profile_role(membership: Membership, profile: BillingProfile) -> str | None:
    """The member's role on the profile, or None when they have none (the profile is then
    hidden from them). Uses `held_role` when the profile came from `visible_to`."""
    tenant_wide = TENANT_ROLE_ON_PROFILES.get(membership.role)
    if tenant_wide == ProfileRole.OWNER or membership.is_effective:
        return tenant_wide
    held = getattr(profile, "held_role", _MISSING)
    if held is _MISSING:
        held = (
            BillingProfileRole.objects.filter(profile=profile, user=membership.user_id)
            .values_list("role", flat=True)
            .first()
        )
    return ProfileRole.strongest(tenant_wide, held)


def _has_role(membership, profile, *roles) -> bool:
    return profile is not None and profile_role(membership, profile) in roles


def can_view_billing_profiles(membership: Membership, obj=None) -> bool:
    """The Billing profiles pages: everyone with a role on at least one profile."""
    if membership.role in TENANT_ROLE_ON_PROFILES:
        return True
    if membership.role != Role.MEMBER or membership.is_effective:
        return False
    if not hasattr(membership, "_holds_profile_roles"):  # asked by the navigation on each page
        membership._holds_profile_roles = (
            BillingProfileRole.objects.for_tenant(membership.tenant_id)
            .filter(user=membership.user_id)
            .exists()
        )
    return membership._holds_profile_roles


def can_create_billing_profile(membership: Membership, obj=None) -> bool:
    return membership.role in (Role.ADMIN, Role.BILLING_ADMIN)


ROLE_REFUSAL = "Your role on this billing profile does not allow that. Its owners can change roles."


def make_default_refusal(membership: Membership, profile: BillingProfile) -> str:
    """Why the member can't make the profile the default ("" when they can). Which profile
    new purchases use is a tenant-wide choice: admins and billing admins; and only a profile
    that can pay (not the default already, not a card profile without a card)."""
    if not can_create_billing_profile(membership):
        return ROLE_REFUSAL
    return profile.default_refusal()


def can_make_default_billing_profile(membership: Membership, obj=None) -> bool:
    if obj is None:
        return can_create_billing_profile(membership)
    return not make_default_refusal(membership, obj)


def can_view_billing_profile(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return profile_role(membership, obj) is not None if obj is not None else False


def can_edit_billing_profile(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return _has_role(membership, obj, ProfileRole.OWNER, ProfileRole.CONTRIBUTOR)


def can_manage_payment_method(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return _has_role(membership, obj, ProfileRole.OWNER, ProfileRole.CONTRIBUTOR)


def delete_refusal(membership: Membership, profile: BillingProfile) -> str:
    """Why the member can't delete the profile ("" when they may try: the service still
    refuses a profile that subscriptions, charges or invoices use)."""
    if not _has_role(membership, profile, ProfileRole.OWNER, ProfileRole.CONTRIBUTOR):
        return ROLE_REFUSAL
    return profile.delete_refusal()


def can_delete_billing_profile(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return obj is not None and not delete_refusal(membership, obj)


def can_manage_profile_roles(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return _has_role(membership, obj, ProfileRole.OWNER)


def can_view_invoices(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return can_view_billing_profile(membership, obj)


def can_pay_invoices(membership: Membership, obj: BillingProfile | None = None) -> bool:
    return _has_role(
        membership, obj, ProfileRole.OWNER, ProfileRole.CONTRIBUTOR, ProfileRole.INVOICE_MANAGER
    )


@dataclass(frozen=True)
class ProfileAccess:
    """One person's access to a profile, as the Permissions tab lists it."""

    user: User
    role: str  # the strongest role they have on the profile (a ProfileRole value)
    grant: BillingProfileRole | None  # the role granted on the profile, the one to revoke
    through: str  # how they inherit a role ("Through tenant role: Admin"), "" when they don't

    @property
    def role_label(self) -> str:
        return ProfileRole(self.role).label


def people_with_access(profile: BillingProfile, *, inherited=True) -> list[ProfileAccess]:
    """Everyone with a role on the profile, by e-mail: those granted one on it, and (unless
    `inherited` is false) those who inherit one from their tenant role (admins and billing
    admins own it, readers read it) or act for the tenant through a partner (as billing
    admins). Two queries."""
    grants = {
        grant.user_id: grant
        for grant in BillingProfileRole.objects.for_tenant(profile.tenant_id)
        .filter(profile=profile)
        .select_related("user")
    }
    own = Membership.objects.for_tenant(profile.tenant_id).filter(
        role__in=list(TENANT_ROLE_ON_PROFILES)
    )
    partners = Membership.objects.acting_for_partners_in(profile.tenant_id)
    inheriting = (own | partners).select_related("user", "tenant")
    by_user = {}
    for membership in inheriting if inherited else ():
        if membership.tenant_id == profile.tenant_id:
            role = TENANT_ROLE_ON_PROFILES[membership.role]
            through = f"Through tenant role: {membership.get_role_display()}"
        else:
            acts_as = Role(Membership.PARTNER_ACTS_AS)
            role = TENANT_ROLE_ON_PROFILES[acts_as]
            through = f"Through partner {membership.tenant.name}: {acts_as.label}"
        by_user.setdefault(membership.user_id, (membership.user, role, through))
    people = []
    for user_id in grants.keys() | by_user.keys():
        grant = grants.get(user_id)
        user, role, through = by_user.get(user_id, (None, None, ""))
        people.append(
            ProfileAccess(
                user=grant.user if grant else user,
                role=ProfileRole.strongest(grant and grant.role, role),
                grant=grant,
                through=through,
            )
        )
    return sorted(people, key=lambda access: access.user.email)
