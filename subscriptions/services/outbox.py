"""How the publisher hears of a change: in the transaction that made it, an `Operation`
(what the Fulfillment API's operations endpoints show) and, when the publisher takes
webhooks, its webhook in the outbox (`publishers.webhooks`), the operation's id as its
`webhook-id`. The body is the operation object plus `operationRequestSource`, the whole
`subscription` and `purchaseToken` (../shared/reference/fulfillment-api.md).

`tell_publisher` is for one subscription (the services); `tell_publishers` is its
set-based twin for the sweep's batches: a few statements however many rows, and no task
sent per event (the webhook sweep picks them up, a batch at a time).
"""

from django.utils import timezone

from portal.audit import Actor
from portal.models import ActorType
from publishers.webhooks import webhook_enqueue, webhooks_enqueue_many

from ..api.shapes import customers_of, operation_out, subscription_out
from ..lifecycle import Transition
from ..models import Operation, OperationAction, OperationSource, OperationStatus, Subscription
from .handoff import marketplace_token_create
from .operations import operation_record

ACTIONS = {
    "buy": OperationAction.SUBSCRIBE,  # to publishers with auto-provisioning only
    Transition.RENEW: OperationAction.RENEW,
    Transition.SUSPEND: OperationAction.SUSPEND,
    Transition.REINSTATE: OperationAction.REINSTATE,
    Transition.CANCEL: OperationAction.UNSUBSCRIBE,
    Transition.EXPIRE: OperationAction.UNSUBSCRIBE,
    Transition.DISABLE_FOR_NON_PAYMENT: OperationAction.UNSUBSCRIBE,
    "change_quantity": OperationAction.CHANGE_QUANTITY,
    "change_plan": OperationAction.CHANGE_PLAN,
}  # activate: the publisher did it, nothing to tell


def source_of(actor: Actor | None) -> str:
    if actor is not None and actor.type == ActorType.PUBLISHER:
        return OperationSource.PUBLISHER
    return OperationSource.CUSTOMER


def webhook_payload(operation: Operation, subscription: Subscription, customers=None, token=None):
    operation.subscription = subscription
    subscription.last_operation_at = operation.updated_at  # its lastModified: this change
    return {
        **operation_out(operation).model_dump(mode="json", by_alias=True),
        "operationRequestSource": operation.source,
        "subscription": subscription_out(subscription, customers).model_dump(
            mode="json", by_alias=True
        ),
        "purchaseToken": token,
    }


def tell_publisher(
    subscription: Subscription, transition: str, actor: Actor | None = None, now=None
) -> Operation | None:
    """Record the change `transition` made to the subscription as a Succeeded operation and
    queue its webhook; call it in the change's transaction, after the change. The operation
    (None for a change the publisher isn't told of)."""
    action = ACTIONS.get(transition)
    publisher = subscription.plan.app.publisher
    if action is None or (action == OperationAction.SUBSCRIBE and not publisher.auto_provisioning):
        return None
    now = now or timezone.now()
    operation = operation_record(
        subscription=subscription, action=action, source=source_of(actor), now=now
    )
    if publisher.webhook_url:
        token = None
        if action == OperationAction.SUBSCRIBE:  # so it can resolve and activate unasked
            token = marketplace_token_create(subscription=subscription, now=now)
        webhook_enqueue(
            publisher=publisher,
            subscription=subscription,
            action=action,
            payload=webhook_payload(operation, subscription, token=token),
            webhook_id=operation.uuid,
        )
    return operation


def tell_publishers(rows: list[dict], transition: str, now=None) -> None:
    """`tell_publisher` for a batch the sweep moved (each row has the subscription's `pk`):
    one query for the subscriptions as they are now, one for their customers, one insert
    of the operations and one of the webhooks."""
    action = ACTIONS[transition]
    now = now or timezone.now()
    subscriptions = list(
        Subscription.objects.filter(pk__in=[row["pk"] for row in rows])
        .select_related("plan__app__publisher", "tenant", "bought_by", "bought_by_partner")
        .order_by("pk")
    )
    operations = Operation.objects.bulk_create(
        [
            Operation(
                subscription=subscription,
                action=action,
                status=OperationStatus.SUCCEEDED,
                source=OperationSource.CUSTOMER,
                plan_id=subscription.plan.plan_id,
                quantity=subscription.quantity,
                created_at=now,
                updated_at=now,
            )
            for subscription in subscriptions
        ],
        batch_size=1000,
    )
    customers = customers_of(subscription.tenant_id for subscription in subscriptions)
    webhooks_enqueue_many(
        [
            {
                "publisher": subscription.plan.app.publisher,
                "subscription": subscription,
                "action": action,
                "payload": webhook_payload(operation, subscription, customers),
                "webhook_id": operation.uuid,
            }
            for operation, subscription in zip(operations, subscriptions, strict=True)
            if subscription.plan.app.publisher.webhook_url
        ],
        now=now,
    )
