"""Who may do what with the catalog. Views and templates ask these same functions."""

from portal.models import Membership, Role


def can_browse_marketplace(membership: Membership, obj=None) -> bool:
    """Tenant admins, billing admins and readers; members once billing roles grant it."""
    return membership.role in (Role.ADMIN, Role.BILLING_ADMIN, Role.READER)
