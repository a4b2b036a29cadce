"""The Fulfillment API's objects as the wire shows them, built from our rows: what the
endpoints answer and what the webhooks carry (one shape for both)."""

from portal.models import Membership, Role

from ..lifecycle import Status
from ..models import BoughtVia, Subscription
from .schemas import Identity, OperationOut, SubscriptionOut, TermOut

STATUS = {
    Status.PENDING_ACTIVATION: "PendingFulfillmentStart",
    Status.ACTIVE: "Subscribed",
    Status.SUSPENDED: "Suspended",
    Status.DISABLED: "Unsubscribed",
}


def customers_of(tenant_ids) -> dict:
    """Each tenant's beneficiary contact (its first active admin), in one query."""
    admins = (
        Membership.objects.filter(tenant_id__in=set(tenant_ids), role=Role.ADMIN)
        .filter(user__is_active=True)
        .select_related("user")
        .only("tenant_id", "user__email", "user__uuid")
        .order_by("-created_at", "-pk")
    )
    # Newest first, so the earliest admin is written last and kept.
    return {membership.tenant_id: membership.user for membership in admins}


def subscription_out(subscription: Subscription, customers: dict | None = None) -> SubscriptionOut:
    plan, tenant = subscription.plan, subscription.tenant
    buyer = subscription.bought_by
    if customers is None:
        customers = customers_of([tenant.pk])
    customer = customers.get(tenant.pk) or buyer
    by_partner = subscription.bought_via == BoughtVia.PARTNER
    buyer_tenant = subscription.bought_by_partner if by_partner else tenant
    moments = [subscription.created_at, subscription.activated_at, subscription.disabled_at]
    moments += [subscription.term_started_at, getattr(subscription, "last_operation_at", None)]
    return SubscriptionOut(
        id=str(subscription.uuid),
        name=subscription.name,
        publisher_id=plan.app.publisher.slug,
        offer_id=plan.app.offer_id,
        plan_id=plan.plan_id,
        quantity=subscription.quantity,
        beneficiary=Identity(
            email_id=customer.email if customer else "",
            object_id=str(customer.uuid) if customer else "",
            tenant_id=str(tenant.uuid),
        ),
        purchaser=Identity(
            email_id=buyer.email if buyer else "",
            object_id=str(buyer.uuid) if buyer else "",
            tenant_id=str(buyer_tenant.uuid),
        ),
        term=TermOut(
            start_date=subscription.term_start,
            end_date=subscription.last_day,
            term_unit=subscription.term,
        ),
        auto_renew=subscription.auto_renew,
        allowed_customer_operations=["Read"] if by_partner else ["Read", "Update", "Delete"],
        saas_subscription_status=STATUS[subscription.status],
        created=subscription.created_at,
        last_modified=max(moment for moment in moments if moment is not None),
    )


def operation_out(operation) -> OperationOut:
    subscription = operation.subscription
    return OperationOut(
        id=str(operation.uuid),
        activity_id=str(operation.activity_id),
        subscription_id=str(subscription.uuid),
        offer_id=subscription.plan.app.offer_id,
        publisher_id=subscription.plan.app.publisher.slug,
        plan_id=operation.plan_id,
        quantity=operation.quantity,
        action=operation.action,
        time_stamp=operation.updated_at,
        status=operation.status,
        error_status_code=operation.error_status_code,
        error_message=operation.error_message,
    )
