"""Who did something, and the append-only record of it.

Every service takes an `Actor` and calls `audit_record` inside its transaction, so the
record commits or rolls back with the change it describes.
"""

from dataclasses import dataclass

from .client_ip import client_ip
from .models import ActorType, AuditEvent, Tenant, User


@dataclass(frozen=True)
class Actor:
    type: str
    label: str
    user: User | None = None
    partner: Tenant | None = None  # the partner tenant the user acted for
    ip: str | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        membership = getattr(request, "membership", None)
        return cls(
            type=ActorType.USER,
            label=request.user.email,
            user=request.user,
            partner=membership.via_partner if membership is not None else None,
            ip=client_ip(request),
        )

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(type=ActorType.SYSTEM, label=label)


def audit_record(
    *, tenant: Tenant, actor: Actor, verb: str, target=None, data: dict | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        tenant=tenant,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        actor_partner=actor.partner,
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(getattr(target, "uuid", None) or getattr(target, "pk", "")) if target else "",
        data=data or {},
        ip=actor.ip,
    )
