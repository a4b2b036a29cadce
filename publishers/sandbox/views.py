"""The sandbox publisher's pages: the landing page the marketplace sends admins to (resolve
the token, show the purchase, Activate), its list of subscriptions (change the plan or
the quantity, cancel), all through the Fulfillment API over HTTP, and its webhook receiver
with the page of what it received and the switch saying how it answers."""

import datetime
import functools
import json
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

from . import services
from .client import ApiFailure, Fulfillment
from .forms import AnswerForm, ChangeForm
from .models import Answer, SandboxPublisher
from .services import client_of, sandbox_webhook_url


def sandbox_only(view):
    """Not there unless SANDBOX_PUBLISHER_ENABLED (the demo and the tests)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.SANDBOX_PUBLISHER_ENABLED:
            raise Http404("No sandbox publisher here.")
        return view(request, *args, **kwargs)

    return wrapped


@sandbox_only
@require_http_methods(["GET", "POST"])
def landing(request, slug):
    publisher = get_object_or_404(SandboxPublisher, slug=slug)
    context = {"publisher": publisher, "portal": settings.PORTAL_BASE_URL}
    api = client_of(publisher)
    if request.method == "POST":
        subscription_id = request.POST.get("subscription", "")
        quantity = request.POST.get("quantity") or None
        try:
            api.activate(
                subscription_id,
                request.POST.get("plan", ""),
                int(quantity) if quantity and quantity.isascii() and quantity.isdecimal() else None,
            )
        except ApiFailure as failure:
            context["failure"] = failure
            return render(request, "sandbox/landing.html", context, status=400)
        return redirect(f"{request.path}?activated={subscription_id}")
    try:
        if activated := request.GET.get("activated"):
            context["subscription"] = api.subscription(activated)
            context["activated"] = True
        elif token := request.GET.get("token"):
            context["purchase"] = api.resolve(token)
            context["subscription"] = context["purchase"]["subscription"]
    except ApiFailure as failure:
        context["failure"] = failure
        return render(request, "sandbox/landing.html", context, status=400)
    return render(request, "sandbox/landing.html", context)


STATUS_WORDS = {
    "PendingFulfillmentStart": "Waiting for set-up",
    "Subscribed": "Active",
    "Suspended": "Suspended",
    "Unsubscribed": "Ended",
}
TERM_WORDS = {"P1M": "monthly", "P1Y": "yearly"}
PLAN_CALLS = 8  # listAvailablePlans calls in flight at once for one page


@sandbox_only
@require_http_methods(["GET", "POST"])
def subscription_list(request, slug):
    """The publisher's subscriptions, 100 a page (`?next=` carries the API's
    continuationToken, which only the API checks). A POST makes one change through the API,
    then comes back here with what the API answered; a refusal shows its message (400)."""
    publisher = get_object_or_404(SandboxPublisher, slug=slug)
    api = client_of(publisher)
    if request.method == "GET":
        return _subscription_page(request, publisher, api)
    form = ChangeForm(request.POST)
    if not form.is_valid():
        refusal = f"{form.refusal()} Nothing changed."
        return _subscription_page(request, publisher, api, refusal=refusal)
    try:
        location = _change(api, form.cleaned_data)
    except ApiFailure as failure:
        return _subscription_page(request, publisher, api, refusal=_answered(failure))
    messages.success(request, _operation_words(api, location))
    return redirect(request.get_full_path())


def _change(api: Fulfillment, data: dict) -> str:
    """The Operation-Location of the change the form asks for."""
    subscription = str(data["subscription"])
    if data["action"] == "plan":
        return api.change_plan(subscription, data["plan"])
    if data["action"] == "quantity":
        return api.change_quantity(subscription, data["quantity"])
    return api.unsubscribe(subscription)


def _answered(failure: ApiFailure) -> str:
    message = str(failure.message)
    message = message if message.endswith(".") else f"{message}."
    if not failure.status:  # no answer: the change may have been made or not
        return f"{message} Look at the list below to see whether it was made."
    return f"The marketplace refused it ({failure.status}): {message} Nothing changed."


def _operation_words(api: Fulfillment, location: str) -> str:
    """What the marketplace says of the change, read from its Operation-Location."""
    try:
        operation = api.operation(location)
    except ApiFailure as failure:
        return f"The marketplace took the change, but its operation can't be read: {failure}"
    done = {
        "ChangePlan": f"Plan changed to {operation.get('planId')}",
        "ChangeQuantity": f"Quantity changed to {operation.get('quantity')}",
        "Unsubscribe": "Subscription canceled",
    }.get(operation.get("action"), operation.get("action"))
    return f"{done}: operation {operation.get('id')} {operation.get('status')}"


def _subscription_page(request, publisher, api, *, refusal=""):
    context = {"publisher": publisher, "refusal": refusal}
    continuation = request.GET.get("next") or None
    try:
        subscriptions, context["next"] = api.subscription_page(continuation)
        context["rows"] = _rows(api, subscriptions)
    except ApiFailure as failure:
        context["failure"] = failure
    context["later_page"] = continuation is not None
    status = 400 if refusal or "failure" in context else 200
    return render(request, "sandbox/subscription_list.html", context, status=status)


def _rows(api: Fulfillment, subscriptions: list) -> list[dict]:
    """Each subscription with what the page shows of it, and for an active one the plans it
    may move to. The plans are asked once per app and customer (a customer sees the same
    plans for all its subscriptions of an app), a few calls at a time, and name the plans
    of the others too."""
    wanted = {}
    for subscription in subscriptions:
        if subscription.get("saasSubscriptionStatus") == "Subscribed":
            wanted.setdefault(_plans_key(subscription), subscription["id"])
    plans_of = {}
    if wanted:
        api.token()  # once, before the calls share it

        def plans_or_failure(subscription_id):
            try:
                return api.available_plans(subscription_id)
            except ApiFailure as failure:
                return failure

        with ThreadPoolExecutor(max_workers=min(PLAN_CALLS, len(wanted))) as pool:
            plans_of = dict(zip(wanted, pool.map(plans_or_failure, wanted.values()), strict=True))
    rows = []
    for subscription in subscriptions:
        status = subscription.get("saasSubscriptionStatus")
        term = subscription.get("term") or {}
        offered = plans_of.get(_plans_key(subscription), [])
        failure = offered if isinstance(offered, ApiFailure) else None
        offered = [] if failure else offered
        current_id = subscription.get("planId")
        current = next((plan for plan in offered if plan.get("planId") == current_id), {})
        rows.append(
            {
                "subscription": subscription,
                "status": STATUS_WORDS.get(status, status),
                "start": _day(term.get("startDate")),
                "end": _day(term.get("endDate")),
                "term_unit": TERM_WORDS.get(term.get("termUnit"), term.get("termUnit")),
                "changeable": status == "Subscribed",
                "plan_name": current.get("displayName") or current_id,
                "current_plan": current,
                "other_plans": [
                    plan
                    for plan in offered
                    if plan.get("planId") != current_id and not plan.get("isStopSell")
                ],
                "plans_failure": failure,
            }
        )
    return rows


def _plans_key(subscription: dict) -> tuple:
    return subscription.get("offerId"), (subscription.get("beneficiary") or {}).get("tenantId")


def _day(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value[:10]) if value else None
    except (TypeError, ValueError):
        return None


# The webhook receiver: the marketplace's webhooks to the publisher, checked by their
# Standard Webhooks signature with the secret the marketplace gave it.

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
WEBHOOK_ID_LENGTH = 200
SHOWN = 100  # webhooks on the page, the newest

ANSWER_WORDS = {
    Answer.ACCEPT: "PATCH the operation Success as the webhook arrives: the change applies.",
    Answer.DECLINE: "PATCH the operation Failure: nothing changes.",
    Answer.SILENT: "Answer 200 and nothing else: the marketplace accepts after 10 seconds.",
    Answer.REFUSE: "Answer the webhook 400: the marketplace takes it as declined.",
}


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _verified(publisher: SandboxPublisher, request) -> tuple[str, str, dict]:
    """(webhook-id, body, payload) of a webhook signed with the publisher's secret."""
    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    try:
        Webhook(publisher.webhook_secret).verify(request.body, headers, json_parse=False)
    except (WebhookVerificationError, EmptyWebhookSecretError, ValueError):
        # ValueError: a body that isn't UTF-8, a signature or secret that isn't base64
        raise _Refused(401, "The webhook's signature is missing or wrong.") from None
    body = request.body.decode()
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise _Refused(400, "The webhook's body is not a JSON object.")
    if len(headers["webhook-id"]) > WEBHOOK_ID_LENGTH:
        raise _Refused(400, "The webhook-id is too long.")
    return headers["webhook-id"], body, payload


@csrf_exempt
@sandbox_only
@require_http_methods(["POST"])
def webhook(request, slug):
    """POST: a webhook from the marketplace. 401 unless signed with the publisher's secret
    (nothing recorded); otherwise recorded once per webhook-id and answered as the switch
    on the webhooks page says (`services.webhook_receive`)."""
    publisher = SandboxPublisher.objects.filter(slug=slug).first()
    if publisher is None:
        return JsonResponse({"error": "No such publisher here."}, status=404)
    try:
        webhook_id, body, payload = _verified(publisher, request)
    except _Refused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    status, outcome = services.webhook_receive(
        publisher=publisher, webhook_id=webhook_id, body=body, payload=payload
    )
    if status >= 400:
        refusal = f"{publisher.name} refuses the change."
        return JsonResponse({"error": refusal, "outcome": outcome}, status=status)
    return JsonResponse({"received": webhook_id, "outcome": outcome})


@sandbox_only
@require_http_methods(["GET", "POST"])
def webhook_list(request, slug):
    """The webhooks the receiver took, the newest first, and the switch saying how it answers
    the changes it is asked about (POST sets it, then back here)."""
    publisher = get_object_or_404(SandboxPublisher, slug=slug)
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            services.sandbox_answer_set(publisher=publisher, answer=form.cleaned_data["answer"])
            said = publisher.get_answer_display()
            messages.success(request, f"The receiver's answer to a change is now: {said}.")
            return redirect(request.path)
    else:
        form = AnswerForm(initial={"answer": publisher.answer})
    context = {
        "publisher": publisher,
        "form": form,
        "options": [
            {
                "value": value,
                "label": label,
                "words": ANSWER_WORDS[value],
                "checked": value == form["answer"].value(),
            }
            for value, label in Answer.choices
        ],
        "receiver_url": sandbox_webhook_url(publisher.slug),
        "received": publisher.received.all()[:SHOWN],
        "shown": SHOWN,
    }
    return render(request, "sandbox/webhook_list.html", context, status=400 if form.errors else 200)
