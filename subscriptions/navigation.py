from portal.navigation import NavItem

from . import permissions

ITEMS = [
    NavItem(
        "Billing",
        "Your products",
        "subscriptions:list",
        permissions.can_view_subscriptions,
        10,
        section="subscriptions",
    ),
    NavItem(
        "Billing",
        "Renewals",
        "renewals:list",
        permissions.can_view_subscriptions,
        15,
        section="renewals",
    ),
    NavItem(
        "Billing",
        "Proposals",
        "proposals:list",
        permissions.can_view_proposals,
        20,
        section="proposals",
    ),
]
