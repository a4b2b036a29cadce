"""Roles on billing profiles."""

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import Actor
from portal.models import Membership, Role

from ..models import BillingProfile, BillingProfileRole, ProfileRole
from ._common import audit as _audit
from ._common import locked as _locked


def _member_of(profile: BillingProfile, user_id) -> Membership:
    membership = (
        Membership.objects.for_tenant(profile.tenant)
        .filter(user=user_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError("Roles go to members of the tenant only.")
    return membership


def billing_profile_role_grant(
    *, profile: BillingProfile, user_id, role: str, actor: Actor
) -> BillingProfileRole:
    """Give a member of the tenant a role on the profile (or change the one they hold)."""
    if role not in ProfileRole.values:
        raise ValidationError(f"Unknown role {role!r}.")
    membership = _member_of(profile, user_id)
    if membership.role in (Role.ADMIN, Role.BILLING_ADMIN):
        raise ValidationError(
            f"{membership.user.email} is a tenant {membership.get_role_display().lower()} "
            "and already owns every billing profile."
        )
    with transaction.atomic():
        profile = _locked(profile)
        grant, created = BillingProfileRole.objects.select_for_update().get_or_create(
            profile=profile,
            user=membership.user,
            defaults={"role": role, "tenant_id": profile.tenant_id},
        )
        old = None if created else grant.role
        if old == role:
            return grant
        if not created:
            grant.role = role
            grant.save(update_fields=["role"])
        _audit(
            profile,
            actor,
            "billing_profile.role_grant",
            {"email": membership.user.email, "role": role, "from": old},
        )
    return grant


def billing_profile_role_revoke(*, grant: BillingProfileRole, actor: Actor) -> None:
    with transaction.atomic():
        profile = _locked(grant.profile)
        grant = BillingProfileRole.objects.select_for_update().filter(pk=grant.pk).first()
        if grant is None:
            return
        _audit(
            profile,
            actor,
            "billing_profile.role_revoke",
            {"email": grant.user.email, "role": grant.role},
        )
        grant.delete()


def billing_profile_roles_of_departed_member(
    *, membership: Membership, actor: Actor | None = None
) -> int:
    """A person who leaves a tenant keeps no role on its profiles (each removal audited, as
    done by `actor`, who removed them; the system when a row went without the service)."""
    grants = (
        BillingProfileRole.objects.for_tenant(membership.tenant_id)
        .filter(user=membership.user_id)
        .select_related("profile__tenant", "user")
    )
    actor = actor or Actor.system("member removed")
    removed = 0
    for grant in grants:
        _audit(
            grant.profile,
            actor,
            "billing_profile.role_revoke",
            {"email": grant.user.email, "role": grant.role, "reason": "left the tenant"},
        )
        grant.delete()
        removed += 1
    return removed
