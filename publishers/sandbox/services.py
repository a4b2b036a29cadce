"""What the sandbox publisher does on its side: its receiver's handling of a webhook whose
signature the view checked, and the switch saying how it answers the changes the
marketplace asks it about. Like its pages, it answers through the Fulfillment API over
HTTP, as a real publisher would (`client.Fulfillment`), knowing nothing of the portal's code.

A change waits for the publisher when it comes as ChangeQuantity or ChangePlan, InProgress,
asked for by the customer (`operationRequestSource` Azure). The switch (`Answer`) says what
the receiver does then, on receipt, inside the webhook's request:
- accept: PATCH the operation Success;
- decline: PATCH it Failure;
- silent: answer 200 and nothing else (the marketplace accepts after 10 s of silence);
- refuse: answer 400 (the marketplace takes a 4xx as declined).
A PATCH that fails is recorded as such; to decline anyway, the receiver then answers 400.
Every other webhook is recorded and answered 200. A webhook-id received before is answered
200 and nothing is done again (the marketplace delivers at least once).
"""

from django.conf import settings
from django.db import IntegrityError, transaction

from .client import ApiFailure, Fulfillment
from .models import Answer, SandboxPublisher, SandboxReceived

ASKING = {"ChangeQuantity", "ChangePlan"}  # the actions that may wait for the publisher


def sandbox_landing_url(slug: str) -> str:
    """The sandbox's landing page for the publisher `slug`, on this portal."""
    return f"{settings.PORTAL_BASE_URL}/sandbox-publisher/{slug}/"


def sandbox_webhook_url(slug: str) -> str:
    """The sandbox's webhook receiver for the publisher `slug`, on this portal."""
    return f"{settings.PORTAL_BASE_URL}/sandbox-publisher/{slug}/webhook/"


def client_of(publisher: SandboxPublisher) -> Fulfillment:
    return Fulfillment(
        f"{settings.PORTAL_BASE_URL}/api", publisher.client_id, publisher.client_secret
    )


def _text(payload: dict, key: str, length: int) -> str:
    value = payload.get(key)
    return str(value)[:length] if value is not None else ""


def received_record(
    *, publisher: SandboxPublisher, webhook_id: str, body: str, payload: dict
) -> SandboxReceived | None:
    """Record a webhook, once per webhook-id; None when that id was received before."""
    try:
        with transaction.atomic():
            return SandboxReceived.objects.create(
                publisher=publisher,
                webhook_id=webhook_id,
                action=_text(payload, "action", 40),
                status=_text(payload, "status", 40),
                subscription_id=_text(payload, "subscriptionId", 100),
                operation_id=_text(payload, "id", 100),
                request_source=_text(payload, "operationRequestSource", 40),
                body=body,
            )
    except IntegrityError:  # the same webhook-id, received already (or right now)
        return None


def waits_for_answer(received: SandboxReceived) -> bool:
    """Whether the webhook asks the publisher to accept or decline a customer's change."""
    return (
        received.action in ASKING
        and received.status == "InProgress"
        and received.request_source == "Azure"
    )


def webhook_receive(
    *, publisher: SandboxPublisher, webhook_id: str, body: str, payload: dict
) -> tuple[int, str]:
    """Take a webhook signed with the publisher's secret: record it and answer it as the
    publisher's switch says. The HTTP status to answer with and what was done, in words."""
    received = received_record(
        publisher=publisher, webhook_id=webhook_id, body=body, payload=payload
    )
    again = received is None
    if again:  # sent again: its first answer may not have arrived, or the PATCH failed
        received = SandboxReceived.objects.get(publisher=publisher, webhook_id=webhook_id)
        if not waits_for_answer(received):
            return 200, "received before: nothing done again"
    status, outcome = 200, "noted"
    if waits_for_answer(received):
        status, outcome = _answer(publisher, received, payload, again=again)
    if again:
        outcome = f"received again: {outcome}"
    received.outcome = outcome[:500]
    received.save(update_fields=["outcome"])
    return status, outcome


def _answer(publisher: SandboxPublisher, received: SandboxReceived, payload: dict, again=False):
    """(HTTP status, outcome) of answering the change the webhook asks about: the operation
    is read first and, if it still waits, PATCHed, over HTTP, outside any transaction (the
    record is committed already). Refusing or keeping silent reads nothing, but for a
    webhook received again, whose change may have been answered since."""
    answer = publisher.answer
    if answer in (Answer.SILENT, Answer.REFUSE) and not again:
        return (200, "said nothing") if answer == Answer.SILENT else (400, "refused 400")
    plan_id = payload.get("planId")
    quantity = payload.get("quantity")
    client = client_of(publisher)
    try:
        # The webhook may be late or delivered again: answer only what still waits.
        now = client.operation(received.subscription_id, received.operation_id)["status"]
        if now != "InProgress":
            return 200, f"already {now}: nothing to answer"
        if answer == Answer.SILENT:
            return 200, "said nothing"
        if answer == Answer.REFUSE:
            return 400, "refused 400"
        client.update_operation(
            received.subscription_id,
            received.operation_id,
            success=answer == Answer.ACCEPT,
            plan_id=plan_id if isinstance(plan_id, str) else None,
            quantity=quantity if type(quantity) is int else None,
        )
    except ApiFailure as failure:
        said = f"({failure.status}) " if failure.status else "(no answer) "
        if answer == Answer.DECLINE:
            return 400, f"PATCH failed: {said}{failure.message}; answered 400 to decline"
        return 200, f"PATCH failed: {said}{failure.message}"
    return 200, "accepted" if answer == Answer.ACCEPT else "declined"


def sandbox_answer_set(*, publisher: SandboxPublisher, answer: str) -> SandboxPublisher:
    """Set how the publisher's receiver answers the changes it is asked about."""
    publisher.answer = Answer(answer)
    publisher.save(update_fields=["answer"])
    return publisher
