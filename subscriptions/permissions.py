"""Who may do what with subscriptions. Views and templates ask these same functions.

Buying: tenant admins and billing admins (a partner's people act as billing admins) with any
of the tenant's profiles; a `member` who owns or contributes to a profile, with that one.
Tenant readers never buy, whatever role a profile grants them. Seeing: tenant admins,
billing admins and readers see every subscription; a member those paid by a profile they
hold a role on. Managing: whoever may pay with the subscription's profile; a subscription a
partner bought is managed by that partner's people only while the partnership lasts, and a
disabled one by no one (it can only be bought again).
"""

from billing.models import TENANT_ROLE_ON_PROFILES, BillingProfile, ProfileRole
from billing.permissions import can_view_billing_profiles, profile_role
from portal.models import Membership, PartnerRelationship, Role
from portal.permissions import grants

from .models import Subscription

BUYER_ROLES = (ProfileRole.OWNER, ProfileRole.CONTRIBUTOR)
BUY_REFUSAL = (
    "Buying takes the owner or contributor role on a billing profile, or the tenant admin "
    "or billing admin role."
)


def can_view_subscriptions(membership: Membership, obj=None) -> bool:
    """Billing > Your products: everyone who sees the tenant's subscriptions, or some."""
    return membership.role in TENANT_ROLE_ON_PROFILES or can_view_billing_profiles(membership)


def may_pay_with(membership: Membership, profile: BillingProfile) -> bool:
    """Whether the member may buy, or change what is bought, paid by `profile`: the one rule
    buying, managing and the profile choices ask."""
    if membership.role in (Role.ADMIN, Role.BILLING_ADMIN) or membership.is_effective:
        return True
    return membership.role == Role.MEMBER and profile_role(membership, profile) in BUYER_ROLES


def can_buy(membership: Membership, obj: BillingProfile | None = None) -> bool:
    """Buying at all (no profile given), or paid by the profile `obj`."""
    if obj is None:
        if membership.role in (Role.ADMIN, Role.BILLING_ADMIN) or membership.is_effective:
            return True
        return membership.role == Role.MEMBER and _holds_buyer_role(membership)
    return may_pay_with(membership, obj)


@grants("browse_marketplace")
def _member_who_may_buy(membership: Membership) -> bool:
    return membership.role == Role.MEMBER and _holds_buyer_role(membership)


def _holds_buyer_role(membership: Membership) -> bool:
    if not hasattr(membership, "_holds_buyer_role"):  # asked on every Marketplace page
        membership._holds_buyer_role = (
            BillingProfile.objects.visible_to(membership).filter(held_role__in=BUYER_ROLES)
        ).exists()
    return membership._holds_buyer_role


def managing_partner(subscription: Subscription):
    """The partner tenant that manages the subscription (it bought it and still acts for the
    tenant), or None: once the partnership ends, the tenant's own people manage it."""
    partner = subscription.bought_by_partner
    if partner is None:
        return None
    if not hasattr(subscription, "_partner_acts"):  # asked by several buttons on one page
        subscription._partner_acts = (
            PartnerRelationship.objects.active()
            .filter(partner=partner, customer_id=subscription.tenant_id)
            .exists()
        )
    return partner if subscription._partner_acts else None


def manage_refusal(membership: Membership, subscription: Subscription) -> str:
    """Why the member can't change the subscription ("" when they can)."""
    partner = managing_partner(subscription)
    if partner is not None and membership.via_partner != partner:
        return f"{partner.name} bought this app for you and manages it: ask them to change it."
    if subscription.is_disabled:
        return "A disabled app can't be changed. Buy it again to keep using it."
    if not may_pay_with(membership, subscription.billing_profile):
        return (
            "Changing this app takes the owner or contributor role on its billing profile, "
            "or the tenant admin or billing admin role."
        )
    return ""


def can_manage_subscription(membership: Membership, obj: Subscription | None = None) -> bool:
    return obj is not None and not manage_refusal(membership, obj)


def quantity_refusal(membership: Membership, subscription: Subscription) -> str:
    if refusal := manage_refusal(membership, subscription):
        return refusal
    if not subscription.is_per_seat:
        return "This app has a flat rate with unlimited licenses: there is no quantity to change."
    if subscription.is_suspended:
        return "A suspended app's licenses can't change until its overdue invoice is paid."
    return ""


def can_change_quantity(membership: Membership, obj: Subscription | None = None) -> bool:
    return obj is not None and not quantity_refusal(membership, obj)


def can_view_proposals(membership: Membership, obj=None) -> bool:
    """Billing > Proposals: the tenant's own admins and billing admins (a proposal is made
    to the tenant; a partner buys for it in the Marketplace)."""
    return membership.role in (Role.ADMIN, Role.BILLING_ADMIN) and not membership.is_effective


def can_answer_proposal(membership: Membership, obj=None) -> bool:
    return can_view_proposals(membership) and obj is not None and not obj.answer_refusal()
