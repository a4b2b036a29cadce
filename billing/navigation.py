from portal.models import Role
from portal.navigation import NavItem

from . import permissions
from .models import BillingProfileRole, ProfileRole

ITEMS = [
    NavItem(
        "Billing",
        "Bills & payments",
        "bills:list",
        permissions.can_view_billing_profiles,
        30,
        section="bills",
    ),
    NavItem(
        "Billing",
        "Billing profiles",
        "billing:profile_list",
        permissions.can_view_billing_profiles,
        70,
        section="billing",
    ),
]


def landing(membership) -> str | None:
    """Finance staff (members whose roles on profiles only read and pay invoices) land on
    Bills & payments."""
    if membership.role != Role.MEMBER or membership.is_effective:
        return None
    roles = set(
        BillingProfileRole.objects.filter(
            profile__tenant=membership.tenant, user=membership.user_id
        ).values_list("role", flat=True)
    )
    finance = {ProfileRole.INVOICE_MANAGER, ProfileRole.READER}
    return "bills:list" if roles and roles <= finance else None
