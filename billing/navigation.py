from portal.navigation import NavItem

from . import permissions

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
