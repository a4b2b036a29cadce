"""The tenant area's left navigation.

Each app lists its own entries in a `navigation.py` module (`ITEMS`); an entry shows only to
those its permission function lets through, so a section appears once it exists. A module
may also have a `landing`: a function of the membership giving the URL name of the page the
tenant's home sends that member to (finance staff to Bills & payments), or None.
"""

from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.apps import apps

from . import permissions
from .links import tenant_url

GROUPS = ("", "Billing", "Settings")  # display order; "" is the top level (Home)


@dataclass(frozen=True)
class NavItem:
    group: str
    label: str
    url_name: str
    allowed: object = None  # can_<action>(membership); None: every member
    order: int = 0
    section: str = ""  # a URL namespace whose every page marks this entry current


ITEMS = [
    NavItem("", "Home", "portal:home"),
    NavItem("Settings", "Members", "portal:members", permissions.can_manage_members, 10),
    NavItem("Settings", "Audit log", "portal:audit_log", permissions.can_view_audit_log, 20),
]


@cache
def _modules() -> tuple:
    """Every app's `navigation` module."""
    found = []
    for config in apps.get_app_configs():
        try:
            found.append(import_module(f"{config.name}.navigation"))
        except ModuleNotFoundError:
            continue
    return tuple(found)


def all_items() -> tuple[NavItem, ...]:
    return tuple(item for module in _modules() for item in getattr(module, "ITEMS", []))


def _landings() -> tuple:
    return tuple(module.landing for module in _modules() if hasattr(module, "landing"))


def landing_for(membership) -> str | None:
    """The URL name of the page the member's tenant home sends them to, if an app has one."""
    for landing in _landings():
        if name := landing(membership):
            return name
    return None


def navigation_for(request) -> list[dict]:
    """Groups of links for the caller, in display order, empty groups left out."""
    membership, slug = request.membership, request.tenant.slug
    current = request.resolver_match.view_name if request.resolver_match else ""
    groups = []
    for group in GROUPS:
        links = [
            {
                "label": item.label,
                "url": tenant_url(item.url_name, slug),
                "active": current == item.url_name
                or bool(item.section and current.startswith(f"{item.section}:")),
            }
            for item in sorted(all_items(), key=lambda i: i.order)
            if item.group == group and (item.allowed is None or item.allowed(membership))
        ]
        if links:
            groups.append({"name": group, "links": links})
    return groups
