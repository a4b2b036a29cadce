"""Who may do what, tenant-wide. Views and templates ask these same functions.

Each is `can_<action>(membership, obj=None)`; `membership` may be an effective one
(a partner's user, acting as billing admin).
"""

from .models import Membership, Role


def can_manage_members(membership: Membership, obj=None) -> bool:
    return membership.role == Role.ADMIN


def can_view_audit_log(membership: Membership, obj=None) -> bool:
    return membership.role in (Role.ADMIN, Role.READER)


def can_remove_member(membership: Membership, obj: Membership | None = None) -> bool:
    """Admins remove members, but never a tenant's only admin (the service refuses too)."""
    return can_manage_members(membership) and not (obj is not None and obj.is_sole_admin())


def can_change_role(membership: Membership, obj: Membership | None = None) -> bool:
    """Admins change roles, but a tenant's only admin stays admin (the service refuses too):
    the same rule as removing."""
    return can_remove_member(membership, obj)


# Grants an app above adds to an action of an app below it, which may not import it: the
# Marketplace (publishers) opens to members whom billing roles let buy (subscriptions).
_GRANTS: dict[str, list] = {}


def grants(action: str):
    """`@grants("browse_marketplace")` on `fn(membership) -> bool`: a further way in."""

    def register(function):
        _GRANTS.setdefault(action, []).append(function)
        return function

    return register


def granted(action: str, membership: Membership) -> bool:
    """Whether any grant registered for `action` lets the member in."""
    return any(grant(membership) for grant in _GRANTS.get(action, ()))
