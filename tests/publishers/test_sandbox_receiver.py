"""The sandbox publisher's webhook receiver, over real HTTP on the live server: it takes only
webhooks signed with its publisher's secret (401 otherwise, nothing kept), each webhook-id
once, and answers a change the customer asked for as its switch says, by PATCHing the
operation through the Fulfillment API (accept, decline), by silence, or with a 400; its page
lists what it received and sets the switch; the demo wires it to the catalog's publishers."""

import datetime
import json
import uuid

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from standardwebhooks import Webhook

from portal.audit import Actor
from publishers import services, transport, webhooks
from publishers.models import PublisherSecret, WebhookEvent, WebhookStatus
from publishers.sandbox.models import Answer, SandboxPublisher, SandboxReceived
from subscriptions.models import Operation, OperationAction, OperationSource, OperationStatus
from tests.factories import (
    PublisherFactory,
)
from tests.sandbox import RECEIVER, sandbox_of, switch

pytestmark = pytest.mark.django_db

PAGE = "/sandbox-publisher/quillfeather/webhooks/"


def waiting_change(sub, quantity=8, **fields) -> Operation:
    """The customer's change to `quantity` licenses, waiting InProgress for the publisher."""
    values = {
        "action": OperationAction.CHANGE_QUANTITY,
        "status": OperationStatus.IN_PROGRESS,
        "source": OperationSource.CUSTOMER,
        "plan_id": sub.plan.plan_id,
        "quantity": quantity,
        **fields,
    }
    return Operation.objects.create(subscription=sub, **values)


def body_of(operation: Operation) -> str:
    """The webhook body of `operation`, as the reference shapes it (the operation object,
    operationRequestSource, the subscription and purchaseToken)."""
    sub = operation.subscription
    return json.dumps(
        {
            "id": str(operation.uuid),
            "activityId": str(operation.activity_id),
            "subscriptionId": str(sub.uuid),
            "offerId": sub.plan.app.offer_id,
            "publisherId": sub.plan.app.publisher.slug,
            "planId": operation.plan_id,
            "quantity": operation.quantity,
            "action": operation.action,
            "timeStamp": operation.updated_at.isoformat(),
            "status": operation.status,
            "errorStatusCode": "",
            "errorMessage": "",
            "operationRequestSource": operation.source,
            "subscription": {"id": str(sub.uuid), "name": sub.name, "planId": sub.plan.plan_id},
            "purchaseToken": None,
            "aFieldFromLater": "receivers tolerate unknown fields",
        }
    )


def deliver(operation=None, *, body=None, webhook_id=None, secret=None, at=None, headers=None):
    """POST a webhook to the receiver over HTTP, signed per Standard Webhooks with the
    publisher's secret (or `secret`); its webhook-id is the operation's id."""
    body = body if body is not None else body_of(operation)
    webhook_id = webhook_id or str(operation.uuid)
    at = at or datetime.datetime.now(datetime.UTC)
    secret = secret or SandboxPublisher.objects.get(slug="quillfeather").webhook_secret
    signed = {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }
    url = f"{settings.PORTAL_BASE_URL}{RECEIVER}"
    return httpx.post(url, content=body.encode(), headers={**signed, **(headers or {})})


def status_of(operation) -> str:
    operation.refresh_from_db()
    return operation.status


def test_a_signed_webhook_is_recorded_and_answered_200(ledger):
    renewal = waiting_change(
        ledger,
        quantity=5,
        action=OperationAction.RENEW,
        status=OperationStatus.SUCCEEDED,
        source=OperationSource.CUSTOMER,
    )
    answer = deliver(renewal)
    assert answer.status_code == 200
    assert answer.json() == {"received": str(renewal.uuid), "outcome": "noted"}
    [received] = SandboxReceived.objects.all()
    assert received.publisher.slug == "quillfeather"
    assert (received.webhook_id, received.operation_id) == (str(renewal.uuid), str(renewal.uuid))
    assert (received.action, received.status) == ("Renew", "Succeeded")
    assert received.subscription_id == str(ledger.uuid)
    assert received.request_source == "Azure"
    assert received.body == body_of(renewal) and received.outcome == "noted"


def test_a_webhook_without_the_publishers_signature_is_401_and_not_recorded(ledger):
    change = waiting_change(ledger)
    body = body_of(change)
    now = datetime.datetime.now(datetime.UTC)
    signed = Webhook(ledger.plan.app.publisher.webhook_secret).sign(str(change.uuid), now, body)
    refused = [
        deliver(change, secret=PublisherFactory().webhook_secret),  # another publisher's
        deliver(change, at=now - datetime.timedelta(minutes=10)),  # an old one, replayed
        deliver(change, headers={"webhook-signature": "v1,bm90IGl0"}),
        deliver(change, headers={"webhook-signature": "garbage"}),
        deliver(change, headers={"webhook-id": str(uuid.uuid4())}),  # not the id it signed
        deliver(
            change,
            body=body.replace('"quantity": 8', '"quantity": 80'),
            headers={"webhook-signature": signed},
        ),  # the body altered
        httpx.post(ledger.plan.app.publisher.webhook_url, content=body),  # no headers at all
    ]
    for answer in refused:
        assert answer.status_code == 401
        assert answer.json() == {"error": "The webhook's signature is missing or wrong."}
    assert not SandboxReceived.objects.exists()
    assert status_of(change) == OperationStatus.IN_PROGRESS  # nothing was answered


def test_a_webhook_is_refused_until_the_sandbox_has_a_secret(ledger):
    SandboxPublisher.objects.filter(slug="quillfeather").update(webhook_secret="")
    change = waiting_change(ledger)
    answer = deliver(change, secret=ledger.plan.app.publisher.webhook_secret)
    assert answer.status_code == 401
    assert not SandboxReceived.objects.exists() and status_of(change) == "InProgress"
    assert "No webhook secret is set" in Client().get(PAGE).content.decode()


def test_a_webhook_received_twice_is_recorded_and_answered_once(ledger):
    change = waiting_change(ledger)
    first, again = deliver(change), deliver(change)
    assert first.status_code == again.status_code == 200
    assert first.json()["outcome"] == "accepted"
    assert again.json()["outcome"] == "received again: already Succeeded: nothing to answer"
    assert SandboxReceived.objects.count() == 1
    assert status_of(change) == OperationStatus.SUCCEEDED  # PATCHed once: no 409 after
    notice = body_of(change).replace("InProgress", "Succeeded")  # one that asks nothing
    deliver(body=notice, webhook_id="n")
    again = deliver(body=notice, webhook_id="n").json()["outcome"]
    assert again == "received before: nothing done again"


def test_a_refusal_sent_again_is_refused_again(ledger):
    """Its first 400 may never have reached the marketplace: the retry must not read as a
    yes (a 200, then silence, would accept the change)."""
    switch(Answer.REFUSE)
    change = waiting_change(ledger)
    assert deliver(change).status_code == deliver(change).status_code == 400
    assert status_of(change) == OperationStatus.IN_PROGRESS


def test_a_change_accepted_then_sent_again_is_not_refused_after(ledger):
    """Its 200 was lost; meanwhile the switch was turned to refuse: the retry finds the
    change settled and says so, rather than a 400 that would read as a no."""
    change = waiting_change(ledger)
    assert deliver(change).json()["outcome"] == "accepted"
    switch(Answer.REFUSE)
    again = deliver(change)
    assert again.status_code == 200 and "already Succeeded" in again.json()["outcome"]


def test_accept_makes_the_waiting_change_succeed_through_the_api(ledger):
    change = waiting_change(ledger)
    answer = deliver(change)
    assert answer.status_code == 200 and answer.json()["outcome"] == "accepted"
    assert status_of(change) == OperationStatus.SUCCEEDED
    assert SandboxReceived.objects.get().outcome == "accepted"


def test_decline_makes_the_waiting_change_fail_through_the_api(ledger):
    switch(Answer.DECLINE)
    change = waiting_change(ledger)
    answer = deliver(change)
    assert answer.status_code == 200 and answer.json()["outcome"] == "declined"
    assert status_of(change) == OperationStatus.FAILED
    assert SandboxReceived.objects.get().outcome == "declined"


def test_refuse_answers_400_and_patches_nothing(ledger):
    switch(Answer.REFUSE)
    change = waiting_change(ledger)
    answer = deliver(change)
    assert answer.status_code == 400
    assert answer.json()["outcome"] == "refused 400"
    assert status_of(change) == OperationStatus.IN_PROGRESS  # the 4xx is the answer
    assert SandboxReceived.objects.get().outcome == "refused 400"


def test_silent_answers_200_and_patches_nothing(ledger):
    switch(Answer.SILENT)
    change = waiting_change(ledger)
    answer = deliver(change)
    assert answer.status_code == 200 and answer.json()["outcome"] == "said nothing"
    assert status_of(change) == OperationStatus.IN_PROGRESS  # the marketplace's 10 s decide
    assert SandboxReceived.objects.get().outcome == "said nothing"


def test_only_a_change_the_customer_asked_for_that_waits_is_answered(ledger):
    switch(Answer.REFUSE)
    by_publisher = waiting_change(ledger, source=OperationSource.PUBLISHER)
    done = waiting_change(ledger, quantity=9, status=OperationStatus.SUCCEEDED)
    for operation in (by_publisher, done):
        answer = deliver(operation)
        assert answer.status_code == 200 and answer.json()["outcome"] == "noted"
    assert status_of(by_publisher) == OperationStatus.IN_PROGRESS  # no PATCH was made
    assert list(SandboxReceived.objects.values_list("outcome", flat=True)) == ["noted"] * 2


def test_a_change_settled_since_its_webhook_was_written_is_left_alone(ledger):
    over = waiting_change(ledger)
    over.status = OperationStatus.CONFLICT  # overtaken since the webhook was written
    over.save(update_fields=["status"])
    body = body_of(over).replace('"status": "Conflict"', '"status": "InProgress"')
    for answer in (Answer.ACCEPT, Answer.DECLINE):
        switch(answer)
        late = deliver(over, body=body, webhook_id=str(uuid.uuid4()))
        assert late.status_code == 200
        assert late.json()["outcome"] == "already Conflict: nothing to answer"
    assert status_of(over) == OperationStatus.CONFLICT


def test_a_patch_the_api_refuses_is_recorded_and_a_decline_still_declines(ledger):
    change = waiting_change(ledger)
    body = body_of(change).replace('"quantity": 8', '"quantity": 9')  # not what it asks
    accepted = deliver(change, body=body)
    assert accepted.status_code == 200  # silence would accept it: the publisher's intent
    outcome = SandboxReceived.objects.get().outcome
    assert outcome.startswith("PATCH failed: (400) ")
    switch(Answer.DECLINE)
    declined = deliver(change, body=body, webhook_id=str(uuid.uuid4()))
    assert declined.status_code == 400  # the marketplace takes the 4xx as declined
    assert declined.json()["outcome"].endswith("; answered 400 to decline")
    assert status_of(change) == OperationStatus.IN_PROGRESS


@pytest.fixture
def outbox_sender():
    """The outbox's pooled connection, closed after the test: the live server's thread
    serving it would otherwise keep its database connection past the test."""
    yield
    transport.close_pooled_clients()


def test_the_marketplaces_own_delivery_is_verified_and_answered(ledger, quill, outbox_sender):
    """The portal's outbox, signing with the publisher's secret, reaches the receiver, which
    accepts the change through the API inside the delivery; the webhook is delivered."""
    change = waiting_change(ledger)
    with transaction.atomic():  # its delivery task goes out when this commits (eager)
        event_id = webhooks.webhook_enqueue(
            publisher=quill,
            subscription=ledger,
            action=change.action,
            payload=json.loads(body_of(change)),
            webhook_id=change.uuid,
        )
    event = WebhookEvent.objects.get(pk=event_id)
    assert event.status == WebhookStatus.DELIVERED
    assert '"outcome":"accepted"' in event.attempts.get().response_excerpt.replace(" ", "")
    assert status_of(change) == OperationStatus.SUCCEEDED
    assert SandboxReceived.objects.get().webhook_id == str(change.uuid)


# The page of what was received, and the switch.


def test_the_page_lists_what_was_received_newest_first(
    client, ledger, django_assert_max_num_queries
):
    renewal = waiting_change(
        ledger, quantity=5, action=OperationAction.RENEW, status=OperationStatus.SUCCEEDED
    )
    deliver(renewal)
    change = waiting_change(ledger, quantity=12)
    deliver(change)
    landing = client.get("/sandbox-publisher/quillfeather/").content.decode()
    assert f'href="{PAGE}"' in landing
    listing = client.get("/sandbox-publisher/quillfeather/subscriptions/").content.decode()
    assert f'href="{PAGE}"' in listing
    with django_assert_max_num_queries(3):
        page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Webhooks</h1>" in html
    assert f"{ledger.plan.app.publisher.webhook_url}</code>" in html
    assert html.index("ChangeQuantity") < html.index("Renew")  # the newest first
    assert "to 12 licenses" in html and str(ledger.uuid) in html and ledger.name in html
    assert '<td data-label="What the receiver did">accepted</td>' in html
    assert '<td data-label="What the receiver did">noted</td>' in html


def test_the_switch_sets_how_the_receiver_answers(client, ledger):
    page = client.get(PAGE).content.decode()
    for label in ("Accept", "Decline", "Say nothing", "Refuse (400)"):
        assert f"<strong>{label}</strong>" in page
    assert 'value="accept" checked' in page
    response = client.post(PAGE, {"answer": "decline"})
    assert response.status_code == 302 and response["Location"] == PAGE
    page = client.get(PAGE).content.decode()
    assert "The receiver&#x27;s answer to a change is now: Decline." in page
    assert 'value="decline" checked' in page and 'value="accept" checked' not in page
    change = waiting_change(ledger)
    deliver(change)
    assert status_of(change) == OperationStatus.FAILED  # the switch is what it does
    unknown = client.post(PAGE, {"answer": "maybe"})
    assert unknown.status_code == 400 and "Nothing changed." in unknown.content.decode()
    assert SandboxPublisher.objects.get(slug="quillfeather").answer == Answer.DECLINE


def test_the_switch_takes_posts_only_with_its_csrf_token(ledger):
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(PAGE, {"answer": "refuse"}).status_code == 403
    assert SandboxPublisher.objects.get(slug="quillfeather").answer == Answer.ACCEPT


def test_each_publisher_sees_only_what_it_received_and_nothing_when_disabled(
    client, ledger, settings
):
    other = PublisherFactory(name="Bramblecrest", slug="bramblecrest")
    sandbox_of(other)
    deliver(waiting_change(ledger))
    assert str(ledger.uuid) in client.get(PAGE).content.decode()
    theirs = client.get("/sandbox-publisher/bramblecrest/webhooks/").content.decode()
    assert "None yet" in theirs and str(ledger.uuid) not in theirs
    assert client.get("/sandbox-publisher/nobody/webhooks/").status_code == 404
    nobody = httpx.post(f"{settings.PORTAL_BASE_URL}/sandbox-publisher/nobody/webhook/")
    assert nobody.status_code == 404 and nobody.json() == {"error": "No such publisher here."}
    assert client.get(RECEIVER).status_code == 405  # POST only

    settings.SANDBOX_PUBLISHER_ENABLED = False
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"answer": "refuse"}).status_code == 404
    change = waiting_change(ledger, quantity=9)
    assert deliver(change).status_code == 404
    assert SandboxReceived.objects.count() == 1 and status_of(change) == "InProgress"
    assert SandboxPublisher.objects.get(slug="quillfeather").answer == Answer.ACCEPT


# The demo's wiring.


def test_seeding_gives_each_sandbox_its_publishers_webhook_secret_again_when_rotated():
    quill = PublisherFactory(slug="quillfeather")
    call_command("seed_sandbox_publishers", "--force")
    assert SandboxPublisher.objects.get(slug="quillfeather").webhook_secret == quill.webhook_secret
    quill = services.publisher_rotate_webhook_secret(publisher=quill, actor=Actor.system())
    call_command("seed_sandbox_publishers", "--force")
    assert SandboxPublisher.objects.get(slug="quillfeather").webhook_secret == quill.webhook_secret
    assert PublisherSecret.objects.count() == 1  # its API secret still works: no new one
