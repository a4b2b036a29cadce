"""Operations as the Fulfillment API reports them (models/operation.py)."""

from django.utils import timezone

from portal.audit import Actor, audit_event, audit_record_many

from ..models import Operation, OperationAction, OperationSource, OperationStatus, Subscription


def operation_record(
    *,
    subscription: Subscription,
    action: str,
    source: str = OperationSource.PUBLISHER,
    status: str = OperationStatus.SUCCEEDED,
    actor: Actor | None = None,
    now=None,
) -> Operation:
    """Record a change to the subscription, with its plan and quantity after it; called in
    the transaction that made the change."""
    now = now or timezone.now()
    overtake(subscription.operations.all(), now, actor=actor or SYSTEM, why=_why(action))
    return Operation.objects.create(
        subscription=subscription,
        action=action,
        status=status,
        source=source,
        plan_id=subscription.plan.plan_id,
        quantity=subscription.quantity,
        created_at=now,
        updated_at=now,
    )


def overtake(operations, now, *, actor: Actor, why: str) -> int:
    """A change that took effect (`why`, in words) ends the operations of its subscriptions
    still waiting for the publisher's answer: `Conflict` (a later answer to one is a 409),
    each with an audit event for the app's timeline. How many."""
    waiting = list(
        operations.filter(status=OperationStatus.IN_PROGRESS).values(
            "pk", "quantity", "subscription__uuid", "subscription__tenant_id", "subscription__name"
        )
    )
    if not waiting:
        return 0
    Operation.objects.filter(pk__in=[row["pk"] for row in waiting]).update(
        status=OperationStatus.CONFLICT, updated_at=now
    )
    audit_record_many(
        [
            audit_event(
                tenant_id=row["subscription__tenant_id"],
                actor=actor,
                verb="subscription.change_quantity_dropped",
                target_type=Subscription._meta.label_lower,
                target_id=str(row["subscription__uuid"]),
                at=now,
                data={"name": row["subscription__name"], "to": row["quantity"], "why": why},
            )
            for row in waiting
        ]
    )
    return len(waiting)


def _why(action: str) -> str:
    return WHY.get(action, "Another change came first.")


SYSTEM = Actor.system()
WHY = {
    OperationAction.CHANGE_QUANTITY: "The publisher changed the license quantity first.",
    OperationAction.CHANGE_PLAN: "The plan changed first.",
    OperationAction.RENEW: "The app renewed first.",
    OperationAction.SUSPEND: "The app was suspended first.",
    OperationAction.UNSUBSCRIBE: "The app was disabled first.",
}
