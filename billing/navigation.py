from portal.navigation import NavItem

from . import permissions

ITEMS = [
    NavItem(
        "Billing",
        "Billing accounts",
        "billing:profile_list",
        permissions.can_view_billing_accounts,
        70,
    ),
]
