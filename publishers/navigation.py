from portal.navigation import NavItem

from . import permissions

ITEMS = [
    NavItem(
        "Billing",
        "Marketplace",
        "marketplace:app_list",
        permissions.can_browse_marketplace,
        50,
        section="marketplace",
    ),
]
