"""Who may do what with the catalog. Views and templates ask these same functions."""

from portal.models import Membership, Role
from portal.permissions import granted


def can_browse_marketplace(membership: Membership, obj=None) -> bool:
    """Tenant admins, billing admins and readers; members whom a billing role lets buy (the
    grant the subscriptions app registers)."""
    if membership.role in (Role.ADMIN, Role.BILLING_ADMIN, Role.READER):
        return True
    return granted("browse_marketplace", membership)
