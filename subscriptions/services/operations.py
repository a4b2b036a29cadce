"""Operations as the Fulfillment API reports them (models/operation.py)."""

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
