"""The Fulfillment API's endpoints. Each finds subscriptions only among the calling
publisher's (`own`): another publisher's id is 404, its marketplace token 400 at resolve."""

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, JsonResponse

from portal.audit import Actor
from portal.models import ActorType
from publishers.models import Plan, PricingModel

from .. import services
from ..lifecycle import Status
from ..models import Operation, OperationStatus, Subscription
from .base import API_VERSION, ApiError, body_of, endpoint, not_found
from .schemas import (
    ActivateIn,
    OperationPatchIn,
    OperationsOut,
    PatchIn,
    PlanOut,
    PlansOut,
    ResolveOut,
)
from .shapes import customers_of, operation_out, subscription_out


def publisher_actor(publisher) -> Actor:
    return Actor(type=ActorType.PUBLISHER, label=publisher.name)


def shown(subscriptions):
    """`subscriptions` with what the API shows of them (and when an operation last changed
    each, for its lastModified)."""
    last_operation = Operation.objects.filter(subscription=OuterRef("pk")).order_by("-updated_at")
    return subscriptions.select_related(
        "plan__app__publisher", "tenant", "bought_by", "bought_by_partner"
    ).annotate(last_operation_at=Subquery(last_operation.values("updated_at")[:1]))


def own(request):
    """The calling publisher's subscriptions, as the API shows them."""
    return shown(Subscription.objects.filter(plan__app__publisher=request.publisher))


def find(request, subscription_id: str, subscriptions=None) -> Subscription:
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        raise not_found() from None
    found = (subscriptions if subscriptions is not None else own(request)).filter(uuid=key)
    if (subscription := found.first()) is None:
        raise not_found()
    return subscription


def read(request, subscription_id: str) -> Subscription:
    """`find` for a read: a change the publisher let pass in silence applies first (its
    10 seconds may have run out since the periodic task last looked)."""
    subscription = find(request, subscription_id)
    if services.changes_confirm_silent(subscription=subscription):
        subscription = find(request, subscription_id)
    return subscription


def json_of(model) -> JsonResponse:
    return JsonResponse(model.model_dump(mode="json", by_alias=True))


@endpoint("POST")
def resolve(request):
    """The subscription behind a landing page's token (URL-decoded, in a header)."""
    token = request.headers.get("x-ms-marketplace-token", "")
    if not token:
        raise ApiError(400, "BadRequest", "The x-ms-marketplace-token header is missing.")
    refused = ApiError(
        400, "BadRequest", "The marketplace token is malformed, expired or not yours."
    )
    subscription = services.subscription_for_marketplace_token(token, publisher=request.publisher)
    if subscription is None:
        raise refused
    try:  # among the caller's own: not when the app has moved to another publisher since
        subscription = find(request, str(subscription.uuid))
    except ApiError:
        raise refused from None
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


@endpoint("GET", "PATCH", "DELETE")
def subscription_detail(request, subscription_id):
    """GET: the subscription. PATCH: the publisher changes its plan or quantity. DELETE: the
    publisher cancels it: it becomes Unsubscribed at once (disabled, canceled, with the
    credit a cancel gives). A change answers 202 with its operation's Operation-Location."""
    if request.method == "PATCH":
        return _patch(request, subscription_id)
    if request.method != "DELETE":
        return json_of(subscription_out(read(request, subscription_id)))
    with transaction.atomic():
        subscription = find(request, subscription_id, own(request).select_for_update(of=("self",)))
        if subscription.is_disabled:
            raise ApiError(400, "BadRequest", "The subscription is already Unsubscribed.")
        try:
            subscription = services.subscription_cancel(
                subscription=subscription, actor=publisher_actor(request.publisher)
            )
        except ValidationError as error:
            raise ApiError(400, "BadRequest", " ".join(error.messages)) from None
        operation = subscription.operations.first()  # the one the cancel recorded
    return _accepted(operation)


def _accepted(operation) -> HttpResponse:
    response = HttpResponse(status=202)
    response["Operation-Location"] = operation_url(operation)
    return response


def _patch(request, subscription_id):
    """A new plan or quantity applies at once, through the same services as the portal's:
    the prorated difference charged or credited."""
    body = body_of(request, PatchIn)
    with transaction.atomic():
        subscription = find(request, subscription_id, own(request).select_for_update(of=("self",)))
        if subscription.status != Status.ACTIVE:
            raise ApiError(400, "BadRequest", "Only a Subscribed subscription can change.")
        actor = publisher_actor(request.publisher)
        try:
            if body.plan_id is not None:
                plan = Plan.objects.filter(
                    app=subscription.plan.app_id, plan_id=body.plan_id
                ).first()
                if plan is None:
                    raise ApiError(400, "BadRequest", f"The app has no plan {body.plan_id!r}.")
                subscription = services.subscription_change_plan(
                    subscription=subscription, plan=plan, actor=actor
                )
            else:
                subscription, _ = services.subscription_change_quantity(
                    subscription=subscription,
                    quantity=body.quantity,
                    actor=actor,
                    by_publisher=True,
                )
        except ValidationError as error:
            raise ApiError(400, "BadRequest", " ".join(error.messages)) from None
        operation = subscription.operations.first()  # the one the change recorded
    return _accepted(operation)


def operation_url(operation) -> str:
    path = f"subscriptions/{operation.subscription.uuid}/operations/{operation.uuid}"
    return f"{settings.PORTAL_BASE_URL}/api/saas/{path}?api-version={API_VERSION}"


@endpoint("GET")
def operation_list(request, subscription_id):
    """The subscription's operations waiting for the publisher's answer (InProgress)."""
    subscription = read(request, subscription_id)
    operations = []
    for operation in subscription.operations.filter(status=OperationStatus.IN_PROGRESS):
        operation.subscription = subscription  # with its plan, app and publisher already
        operations.append(operation_out(operation))
    return json_of(OperationsOut(operations=operations))


def find_operation(subscription, operation_id: str):
    try:
        key = uuid.UUID(operation_id)
    except ValueError:
        raise ApiError(404, "NotFound", "No such operation.") from None
    operation = subscription.operations.filter(uuid=key).first()
    if operation is None:
        raise ApiError(404, "NotFound", "No such operation.")
    operation.subscription = subscription
    return operation


@endpoint("GET", "PATCH")
def operation_detail(request, subscription_id, operation_id):
    """GET: the operation. PATCH: the publisher's answer to one waiting InProgress: Success
    or Failure; 409 when a newer operation has completed, 400 when it waits for none."""
    if request.method != "PATCH":
        return json_of(operation_out(find_operation(read(request, subscription_id), operation_id)))
    body = body_of(request, OperationPatchIn)
    with transaction.atomic():
        subscription = find(request, subscription_id, own(request).select_for_update(of=("self",)))
        operation = find_operation(subscription, operation_id)
        try:
            services.operation_answer(
                operation=operation,
                actor=publisher_actor(request.publisher),
                succeeded=body.status == "Success",
                plan_id=body.plan_id,
                quantity=body.quantity,
            )
        except services.OperationRefused as refused:
            status, code = (409, "Conflict") if refused.conflict else (400, "BadRequest")
            raise ApiError(status, code, str(refused)) from None
    return HttpResponse(status=200)


PAGE_SIZE = 100
# What `subscription_out` reads: a page loads these columns only (a hundred full rows and
# their joins were most of a page's time).
WIRE_FIELDS = (
    *("uuid", "name", "quantity", "term", "term_start", "term_end", "auto_renew", "status"),
    *("bought_via", "created_at", "activated_at", "disabled_at", "term_started_at"),
    *("tenant__uuid", "bought_by__email", "bought_by__uuid", "bought_by_partner__uuid"),
    *("plan__plan_id", "plan__app__offer_id", "plan__app__publisher__slug"),
)
_LIST_SALT = "subscriptions.api.list"


def page_ids(publisher, after: int, size: int) -> list[int]:
    """The ids of the publisher's first `size` subscriptions after id `after`, in id order:
    one keyset seek per plan of its apps (index plan, id), in one query, so a page costs
    the same on the first page and the last, however many subscriptions there are."""
    mine = Subscription.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite: the demo's
        return list(mine.filter(plan__app__publisher=publisher)[:size])
    plans = Plan.objects.filter(app__publisher=publisher).values_list("pk", flat=True)
    seeks = [mine.filter(plan_id=plan)[:size] for plan in plans]
    if not seeks:
        return []
    found = seeks[0].union(*seeks[1:], all=True).order_by() if len(seeks) > 1 else seeks[0]
    return sorted(found)[:size]


@endpoint("GET")
def subscription_list(request):
    """Every status, 100 a page in a stable order; `@nextLink` carries the next page's
    continuationToken (opaque and signed: the caller and the last id seen), absent on the
    last page."""
    after = 0
    if token := request.GET.get("continuationToken"):
        try:  # the caller's own: another publisher's token is no token
            publisher_pk, after = signing.loads(token, salt=_LIST_SALT)
        except (signing.BadSignature, TypeError, ValueError):
            publisher_pk = None
        if publisher_pk != request.publisher.pk or not isinstance(after, int):
            raise ApiError(400, "BadRequest", "The continuationToken is not valid.")
    ids = page_ids(request.publisher, after, PAGE_SIZE + 1)
    more, ids = len(ids) > PAGE_SIZE, ids[:PAGE_SIZE]
    # By id alone: the ids are the caller's (page_ids), and a publisher filter here made
    # PostgreSQL walk every one of the publisher's rows by plan.
    rows = shown(Subscription.objects.filter(pk__in=ids)).only(*WIRE_FIELDS).order_by("pk")
    page = list(rows) if ids else []
    customers = customers_of(sub.tenant_id for sub in page)
    body = {
        "subscriptions": [
            subscription_out(sub, customers).model_dump(mode="json", by_alias=True) for sub in page
        ]
    }
    if more:
        query = urlencode(
            {
                "api-version": API_VERSION,
                "continuationToken": signing.dumps(
                    [request.publisher.pk, page[-1].pk], salt=_LIST_SALT, compress=True
                ),
            }
        )
        body["@nextLink"] = f"{settings.PORTAL_BASE_URL}/api/saas/subscriptions?{query}"
    return JsonResponse(body)


@endpoint("GET")
def available_plans(request, subscription_id):
    """The plans the subscription could be on: its app's, of its term, that its customer can
    see and that are priced in its currency (its own plan among them); stop-sell ones
    marked."""
    subscription = find(request, subscription_id)
    tenant = subscription.tenant
    plans = (
        Plan.objects.visible_to(tenant)
        .filter(app=subscription.plan.app, term=subscription.term)
        .filter(prices__currency=subscription.currency)
        .order_by("pk")
        .distinct()
    )
    return json_of(
        PlansOut(
            plans=[
                PlanOut(
                    plan_id=plan.plan_id,
                    display_name=plan.name,
                    is_private=plan.is_private,
                    description=plan.description,
                    min_quantity=plan.min_quantity,
                    max_quantity=plan.max_quantity,
                    has_free_trials=False,
                    is_price_per_seat=plan.pricing_model == PricingModel.PER_SEAT,
                    is_stop_sell=plan.is_stop_sell,
                    market=tenant.country,
                )
                for plan in plans
            ]
        )
    )
