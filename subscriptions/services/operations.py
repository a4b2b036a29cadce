"""Operations as the Fulfillment API reports them (models/operation.py)."""

from django.db.models import Q
from django.utils import timezone

from ..models import Operation, OperationSource, OperationStatus, Subscription


def operation_record(
    *,
    subscription: Subscription,
    action: str,
    source: str = OperationSource.PUBLISHER,
    status: str = OperationStatus.SUCCEEDED,
    now=None,
) -> Operation:
    """Record a change to the subscription, with its plan and quantity after it; called in
    the transaction that made the change."""
    now = now or timezone.now()
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


class OperationRefused(Exception):
    """The publisher's answer to an operation can't be taken: `conflict` when a newer
    operation of the subscription has already completed (409), else it is not waiting for an
    answer (400)."""

    def __init__(self, message: str, *, conflict: bool = False):
        super().__init__(message)
        self.conflict = conflict


def operation_answer(
    *, operation: Operation, succeeded: bool, plan_id=None, quantity=None, now=None
) -> Operation:
    """The publisher accepts (`succeeded`) or refuses an operation waiting InProgress for its
    answer (`plan_id` and `quantity`, when given, must be the operation's). Call it in a
    transaction, with the operation's subscription locked: the rows it reads are then its
    own until the commit.

    The reference's order of checks: a newer completed operation of the same subscription
    first (409), then the status, then what the answer names (400). What an accepted
    customer change then does (it takes effect; a refused one doesn't) belongs here, after
    the status moves: it comes with the "Webhooks and operations" issue, which makes those
    InProgress operations."""
    now = now or timezone.now()
    newer_done = (
        Operation.objects.filter(subscription_id=operation.subscription_id)
        .filter(
            Q(created_at__gt=operation.created_at)
            | Q(created_at=operation.created_at, pk__gt=operation.pk)
        )
        .exclude(status__in=(OperationStatus.NOT_STARTED, OperationStatus.IN_PROGRESS))
    )
    if newer_done.exists():
        raise OperationRefused(
            "A newer operation of this subscription has already completed.", conflict=True
        )
    if operation.status != OperationStatus.IN_PROGRESS:
        raise OperationRefused(f"The operation is {operation.status}, not InProgress.")
    given = (plan_id or operation.plan_id, quantity or operation.quantity)
    if given != (operation.plan_id, operation.quantity):
        raise OperationRefused(
            f"planId and quantity, when given, must be the operation's: "
            f"{operation.plan_id!r} and {operation.quantity}."
        )
    operation.status = OperationStatus.SUCCEEDED if succeeded else OperationStatus.FAILED
    operation.updated_at = now
    operation.save(update_fields=["status", "updated_at"])
    return operation
