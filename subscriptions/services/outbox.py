"""How the publisher hears of a change: in the transaction that made it, an `Operation`
(what the Fulfillment API's operations endpoints show) and, when the publisher takes
webhooks, its webhook in the outbox (`publishers.webhooks`), the operation's id as its
`webhook-id`. The body is the operation object plus `operationRequestSource`, the whole
`subscription` and `purchaseToken` (../shared/reference/fulfillment-api.md).

`tell_publisher` is for one subscription (the services); `tell_publishers` is its
set-based twin for the sweep's batches: a few statements however many rows, and no task
sent per event (the webhook sweep picks them up, a batch at a time).
"""

from django.db import connection
from django.utils import timezone

from portal.audit import Actor
from portal.models import ActorType
from publishers.models import App, Plan, Publisher
from publishers.webhooks import webhook_enqueue, webhooks_enqueue_many

from ..api.shapes import customers_of, operation_out, subscription_out
from ..lifecycle import Status, Transition
from ..models import Operation, OperationAction, OperationSource, OperationStatus, Subscription
from .handoff import marketplace_token_create
from .operations import WHY, operation_record, overtake

BATCH = Actor.system("lifecycle sweep")

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
        subscription=subscription, action=action, source=source_of(actor), actor=actor, now=now
    )
    token = None
    if action == OperationAction.SUBSCRIBE and publisher.webhook_url:  # so it can activate
        token = marketplace_token_create(subscription=subscription, now=now)
    _send(operation, subscription, token)
    return operation


def awaits_publisher(subscription: Subscription, actor: Actor) -> bool:
    """Whether a quantity change the customer asks for waits for the publisher's answer:
    on an active subscription whose publisher takes webhooks (one without applies at once:
    it would never hear of the question)."""
    return (
        subscription.status == Status.ACTIVE
        and source_of(actor) == OperationSource.CUSTOMER
        and bool(subscription.plan.app.publisher.webhook_url)
    )


def ask_publisher(subscription: Subscription, quantity: int, actor: Actor, now) -> Operation:
    """Record the customer's change to `quantity` licenses as an InProgress operation and
    queue its webhook: the publisher answers it (services/confirm.py). In the change's
    transaction, with the subscription locked."""
    operation = Operation.objects.create(
        subscription=subscription,
        action=OperationAction.CHANGE_QUANTITY,
        status=OperationStatus.IN_PROGRESS,
        source=OperationSource.CUSTOMER,
        plan_id=subscription.plan.plan_id,
        quantity=quantity,
        requested_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    _send(operation, subscription)
    return operation


def _send(operation: Operation, subscription: Subscription, token=None) -> None:
    publisher = subscription.plan.app.publisher
    if publisher.webhook_url:
        webhook_enqueue(
            publisher=publisher,
            subscription=subscription,
            action=operation.action,
            payload=webhook_payload(operation, subscription, token=token),
            webhook_id=operation.uuid,
        )


def tell_publishers(rows: list[dict], transition: str, now=None) -> None:
    """`tell_publisher` for a batch the sweep moved (each row has the subscription's `pk`):
    one statement records the operations (the plan and quantity each subscription has
    now), one writes the webhooks of those whose publisher takes them, bodies still empty:
    `render_bodies` renders them when the webhook sweep first sends them."""
    action = ACTIONS[transition]
    now = now or timezone.now()
    pks = [row["pk"] for row in rows]
    operations = Operation.objects.filter(subscription_id__in=pks)
    overtake(operations, now, actor=BATCH, why=WHY[action])
    if connection.vendor == "postgresql":
        events = _operations_insert(pks, action, now)
    else:
        subscriptions = list(
            Subscription.objects.filter(pk__in=pks)
            .select_related("plan__app__publisher")
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
        events = [
            (operation.uuid, subscription.plan.app.publisher_id, subscription.pk)
            for operation, subscription in zip(operations, subscriptions, strict=True)
            if subscription.plan.app.publisher.webhook_url
        ]
    webhooks_enqueue_many(events, action=action, now=now)


def _operations_insert(pks: list[int], action: str, now) -> list[tuple]:
    """PostgreSQL: the batch's operations in one INSERT ... SELECT (no row through Python);
    (operation uuid, publisher id, subscription id) of those whose publisher takes webhooks."""
    operation = Operation._meta.db_table
    subscription = Subscription._meta.db_table
    plan = Plan._meta.db_table
    app = App._meta.db_table
    publisher = Publisher._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH made AS ("
            f" INSERT INTO {operation} (uuid, activity_id, subscription_id, action, status,"
            f" source, plan_id, quantity, error_status_code, error_message, created_at,"
            f" updated_at)"
            f" SELECT gen_random_uuid(), gen_random_uuid(), s.id, %s, %s, %s, p.plan_id,"
            f" s.quantity, '', '', %s, %s"
            f" FROM {subscription} s JOIN {plan} p ON p.id = s.plan_id"
            f" WHERE s.id = ANY(%s) ORDER BY s.id"
            f" RETURNING uuid, subscription_id)"
            f" SELECT made.uuid, a.publisher_id, made.subscription_id FROM made"
            f" JOIN {subscription} s ON s.id = made.subscription_id"
            f" JOIN {plan} p ON p.id = s.plan_id JOIN {app} a ON a.id = p.app_id"
            f" JOIN {publisher} pub ON pub.id = a.publisher_id"
            f" WHERE pub.webhook_url <> '' ORDER BY made.subscription_id",
            [action, OperationStatus.SUCCEEDED, OperationSource.CUSTOMER, now, now, pks],
        )
        return cursor.fetchall()


def render_bodies(events) -> dict:
    """The bodies of webhooks `tell_publishers` wrote without one ({event pk: payload}), in
    three queries however many: their operations with their subscriptions, and the
    customers."""
    operations = {
        operation.uuid: operation
        for operation in Operation.objects.filter(
            uuid__in=[event.uuid for event in events]
        ).select_related(
            "subscription__plan__app__publisher",
            "subscription__tenant",
            "subscription__bought_by",
            "subscription__bought_by_partner",
        )
    }
    customers = customers_of(operation.subscription.tenant_id for operation in operations.values())
    payloads = {}
    for event in events:
        operation = operations[event.uuid]
        payloads[event.pk] = webhook_payload(operation, operation.subscription, customers)
    return payloads
