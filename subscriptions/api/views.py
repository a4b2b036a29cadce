"""The Fulfillment API's endpoints. Each finds subscriptions only among the calling
publisher's (`own`): another publisher's id is 404, its marketplace token 400 at resolve."""

import uuid

from django.db import transaction
from django.http import HttpResponse, JsonResponse

from portal.audit import Actor
from portal.models import ActorType, Membership, Role

from .. import services
from ..lifecycle import Status
from ..models import BoughtVia, Subscription
from .base import ApiError, body_of, endpoint, not_found
from .schemas import ActivateIn, Identity, ResolveOut, SubscriptionOut, TermOut

STATUS = {
    Status.PENDING_ACTIVATION: "PendingFulfillmentStart",
    Status.ACTIVE: "Subscribed",
    Status.SUSPENDED: "Suspended",
    Status.DISABLED: "Unsubscribed",
}


def publisher_actor(publisher) -> Actor:
    return Actor(type=ActorType.PUBLISHER, label=publisher.name)


def own(request):
    """The calling publisher's subscriptions, with what the API shows of them."""
    return Subscription.objects.filter(plan__app__publisher=request.publisher).select_related(
        "plan__app__publisher", "tenant", "bought_by", "bought_by_partner"
    )


def find(request, subscription_id: str, subscriptions=None) -> Subscription:
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        raise not_found() from None
    found = (subscriptions if subscriptions is not None else own(request)).filter(uuid=key)
    if (subscription := found.first()) is None:
        raise not_found()
    return subscription


def subscription_out(subscription: Subscription) -> SubscriptionOut:
    plan, tenant = subscription.plan, subscription.tenant
    buyer = subscription.bought_by
    admin = (
        Membership.objects.filter(tenant=tenant, role=Role.ADMIN, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    customer = admin.user if admin else buyer
    by_partner = subscription.bought_via == BoughtVia.PARTNER
    buyer_tenant = subscription.bought_by_partner if by_partner else tenant
    moments = [subscription.created_at, subscription.activated_at, subscription.disabled_at]
    moments.append(subscription.term_started_at)
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


def json_of(model) -> JsonResponse:
    return JsonResponse(model.model_dump(mode="json", by_alias=True))


@endpoint("POST")
def resolve(request):
    """The subscription behind a landing page's token (URL-decoded, in a header)."""
    token = request.headers.get("x-ms-marketplace-token", "")
    if not token:
        raise ApiError(400, "BadRequest", "The x-ms-marketplace-token header is missing.")
    subscription = services.subscription_for_marketplace_token(token, publisher=request.publisher)
    if subscription is None:
        raise ApiError(
            400, "BadRequest", "The marketplace token is malformed, expired or not yours."
        )
    subscription = find(request, str(subscription.uuid))
    return json_of(
        ResolveOut(
            id=str(subscription.uuid),
            subscription_name=subscription.name,
            offer_id=subscription.plan.app.offer_id,
            plan_id=subscription.plan.plan_id,
            quantity=subscription.quantity,
            subscription=subscription_out(subscription),
        )
    )


@endpoint("POST")
def activate(request, subscription_id):
    """The publisher has set the app up: it becomes active and its first term is charged.
    The plan and quantity must be the purchase's."""
    body = body_of(request, ActivateIn)
    with transaction.atomic():
        locked = own(request).select_for_update(of=("self",))
        subscription = find(request, subscription_id, locked)
        if subscription.is_disabled:
            raise not_found()
        if not subscription.is_pending:
            raise ApiError(400, "BadRequest", "The subscription is not pending fulfillment start.")
        quantity = subscription.quantity if body.quantity is None else body.quantity
        if (body.plan_id, quantity) != (subscription.plan.plan_id, subscription.quantity):
            raise ApiError(
                400,
                "BadRequest",
                f"planId and quantity must be the purchase's: {subscription.plan.plan_id!r} "
                f"and {subscription.quantity}.",
            )
        services.subscription_activate(
            subscription=subscription, actor=publisher_actor(request.publisher)
        )
    return HttpResponse(status=200)


@endpoint("GET")
def subscription_detail(request, subscription_id):
    return json_of(subscription_out(find(request, subscription_id)))
