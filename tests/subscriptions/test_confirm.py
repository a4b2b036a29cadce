"""A customer's quantity change on an active app whose publisher takes webhooks waits for
the publisher's answer (services/confirm.py): its PATCH, its silence after a 2xx, or a
4xx answer to the webhook; the webhooks go over real HTTP to a receiver on loopback."""

import datetime
import json

import pytest
from django.db import transaction

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from portal.models import AuditEvent
from publishers import webhooks
from publishers.models import WebhookEvent, WebhookStatus
from subscriptions import services
from subscriptions.models import Operation, Subscription
from subscriptions.services import ChangeRefused, OperationRefused, sweep
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
    bearer,
)

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
ACTIVATED = datetime.datetime(2027, 6, 1, 12, tzinfo=UTC)  # a 30-day term: June 1 to July 1
LATER = ACTIVATED + datetime.timedelta(days=10)
PUBLISHER = Actor(type="publisher", label="the publisher")


@pytest.fixture
def publisher(receiver):
    return PublisherFactory(name="Tailspin Toys", webhook_url=receiver.url)


@pytest.fixture
def sub(tenant, admin, publisher):
    plan = PlanFactory(
        app=AppFactory(publisher=publisher), prices={"USD": 900}, min_quantity=1, max_quantity=50
    )
    made = SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant),
        plan=plan,
        unit_amount=900,
        quantity=5,
        bought_by=admin,
    )
    return services.subscription_activate(subscription=made, actor=PUBLISHER, now=ACTIVATED)


def person(user) -> Actor:
    return Actor(type="user", label=user.email, user=user)


def ask(sub, admin, quantity, now=LATER):
    _, quote = services.subscription_change_quantity(
        subscription=sub, quantity=quantity, actor=person(admin), now=now
    )
    return quote


def waiting(sub) -> Operation:
    return Operation.objects.get(subscription=sub, status="InProgress")


def fresh(sub) -> Subscription:
    return Subscription.objects.get(pk=sub.pk)


def added(sub):
    return Charge.objects.of_subscription(sub.uuid).filter(kind=ChargeKind.ADD_QUANTITY)


def verbs(sub) -> list[str]:
    events = AuditEvent.objects.filter(target_id=str(sub.uuid)).order_by("pk")
    return [verb for verb in events.values_list("verb", flat=True) if "quantity" in verb]


def deliver(operation) -> str:
    """The webhook of `operation`, delivered once over HTTP (as a worker would)."""
    event = WebhookEvent.objects.get(uuid=operation.uuid)
    return webhooks.deliver(event.pk)


def answer(operation, succeeded, now=LATER):
    with transaction.atomic():
        return services.operation_answer(
            operation=operation, succeeded=succeeded, actor=PUBLISHER, now=now
        )


def test_a_customer_change_waits_for_the_publisher_and_says_so(sub, admin, receiver):
    quote = ask(sub, admin, 6)
    assert "Tailspin Toys confirms the change first" in quote.explanation
    assert quote.done.startswith("Sent to Tailspin Toys to confirm. Once confirmed: 6 licenses")
    operation = waiting(sub)
    assert (operation.action, operation.source, operation.quantity) == (
        "ChangeQuantity",
        "Azure",
        6,
    )
    assert operation.requested_by == admin
    assert fresh(sub).quantity == 5 and not added(sub).exists()  # nothing yet
    assert verbs(sub) == ["subscription.change_quantity_requested"]

    assert deliver(operation) == WebhookStatus.DELIVERED
    ((headers, text),) = receiver.received
    sent = json.loads(text)
    assert headers["webhook-id"] == str(operation.uuid)
    assert (sent["action"], sent["status"], sent["quantity"]) == ("ChangeQuantity", "InProgress", 6)
    assert sent["operationRequestSource"] == "Azure"
    assert sent["subscription"]["quantity"] == 5  # as it is until the publisher says yes

    with pytest.raises(ChangeRefused) as refused:
        ask(sub, admin, 7)
    assert refused.value.code == "waiting"
    assert "Waiting for Tailspin Toys to confirm 6 licenses" in refused.value.messages[0]
    assert services.quantity_notice(fresh(sub)) == (
        "Waiting for Tailspin Toys to confirm 6 licenses.",
        "waiting",
    )


def test_the_publishers_success_applies_it_once_charged(sub, admin, receiver):
    ask(sub, admin, 6)
    operation = answer(waiting(sub), succeeded=True)
    assert operation.status == "Succeeded"
    sub = fresh(sub)
    assert sub.quantity == 6
    (charge,) = added(sub)
    assert (charge.quantity, charge.amount) == (1, 900 * 20 // 30)  # 20 of the 30 days left
    assert verbs(sub) == [
        "subscription.change_quantity_requested",
        "subscription.change_quantity",
    ]
    # The publisher decided it: no second webhook, and a second answer is refused.
    assert WebhookEvent.objects.filter(subscription=sub).count() == 1
    with pytest.raises(OperationRefused), transaction.atomic():
        answer(Operation.objects.get(pk=operation.pk), succeeded=True)
    assert services.quantity_notice(sub) == ("", "")


def test_the_publishers_failure_declines_it_with_nothing_charged(sub, admin, receiver):
    ask(sub, admin, 6)
    operation = answer(waiting(sub), succeeded=False)
    assert operation.status == "Failed"
    sub = fresh(sub)
    assert sub.quantity == 5 and not added(sub).exists()
    assert verbs(sub)[-1] == "subscription.change_quantity_declined"
    words, state = services.quantity_notice(sub)
    assert state == "declined" and "The publisher declined the change" in words
    ask(sub, admin, 6)  # and the customer may ask again
    assert waiting(sub).quantity == 6


def test_a_4xx_answer_to_the_webhook_declines_it(sub, admin, receiver):
    receiver.answers = [400]
    ask(sub, admin, 6)
    operation = waiting(sub)
    assert deliver(operation) == WebhookStatus.DECLINED
    operation.refresh_from_db()
    assert operation.status == "Failed"
    assert fresh(sub).quantity == 5 and not added(sub).exists()
    assert verbs(sub)[-1] == "subscription.change_quantity_declined"


def test_silence_after_a_2xx_accepts_it_after_10_seconds(sub, admin, receiver):
    ask(sub, admin, 6)
    operation = waiting(sub)
    assert deliver(operation) == WebhookStatus.DELIVERED
    delivered = WebhookEvent.objects.get(uuid=operation.uuid).first_success_at
    soon = delivered + datetime.timedelta(seconds=9)
    assert services.changes_confirm_silent(now=soon) == 0
    assert fresh(sub).quantity == 5
    assert services.changes_confirm_silent(now=delivered + datetime.timedelta(seconds=10)) == 1
    assert fresh(sub).quantity == 6
    operation.refresh_from_db()
    assert operation.status == "Succeeded"
    data = AuditEvent.objects.filter(verb="subscription.change_quantity").get().data
    assert data["confirmed"] == "by its silence"


def test_no_silence_counts_before_an_attempt_got_a_2xx(sub, admin, receiver):
    receiver.answers = [503]
    ask(sub, admin, 6)
    operation = waiting(sub)
    assert deliver(operation) == WebhookStatus.PENDING  # tried again later
    assert services.changes_confirm_silent(now=LATER + datetime.timedelta(hours=1)) == 0
    event = WebhookEvent.objects.get(uuid=operation.uuid)
    event.give_up_at = event.created_at  # its retries have run out: the next try is the last
    event.next_attempt_at = event.created_at
    event.save()
    receiver.answers = [503]
    assert deliver(operation) == WebhookStatus.FAILED
    operation.refresh_from_db()
    assert operation.status == "Failed" and "never received" in operation.error_message
    assert fresh(sub).quantity == 5


def test_reading_the_app_page_applies_a_silent_acceptance(client, sub, admin, tenant, receiver):
    ask(sub, admin, 6)
    operation = waiting(sub)
    deliver(operation)
    WebhookEvent.objects.filter(uuid=operation.uuid).update(
        first_success_at=datetime.datetime.now(UTC) - datetime.timedelta(seconds=11)
    )
    client.force_login(admin)
    page = client.get(f"/t/{tenant.slug}/billing/products/apps/{sub.uuid}/")
    assert page.status_code == 200
    assert fresh(sub).quantity == 6
    assert "Waiting for" not in page.content.decode()


def test_the_app_page_shows_the_wait_and_the_decline(client, sub, admin, tenant, receiver):
    client.force_login(admin)
    url = f"/t/{tenant.slug}/billing/products/apps/{sub.uuid}/"
    ask(sub, admin, 12)
    assert "Waiting for Tailspin Toys to confirm 12 licenses." in client.get(url).content.decode()
    answer(waiting(sub), succeeded=False)
    page = client.get(url).content.decode()
    assert "The change to 12 licenses didn&#x27;t apply: The publisher declined the change." in page
    assert "The publisher declined the change" in page  # the timeline's words too


def test_a_publishers_own_change_overtakes_a_waiting_one(client, sub, admin, publisher):
    ask(sub, admin, 6)
    operation = waiting(sub)
    response = client.patch(
        f"/api/saas/subscriptions/{sub.uuid}?api-version=2018-08-31",
        {"quantity": 8},
        content_type="application/json",
        headers=bearer(publisher),
    )
    assert response.status_code == 202
    operation.refresh_from_db()
    assert operation.status == "Conflict"
    assert fresh(sub).quantity == 8
    assert "subscription.change_quantity_dropped" in verbs(sub)
    late = client.patch(
        f"/api/saas/subscriptions/{sub.uuid}/operations/{operation.uuid}?api-version=2018-08-31",
        {"status": "Success"},
        content_type="application/json",
        headers=bearer(publisher),
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "Conflict"
    assert fresh(sub).quantity == 8


def test_a_cancel_overtakes_a_waiting_change(sub, admin):
    ask(sub, admin, 6)
    operation = waiting(sub)
    services.subscription_cancel(subscription=fresh(sub), actor=person(admin))
    operation.refresh_from_db()
    assert operation.status == "Conflict"
    assert not added(sub).exists()


def test_the_sweeps_renewal_overtakes_a_waiting_change(sub, admin):
    ask(sub, admin, 6)
    operation = waiting(sub)
    renewed_at = datetime.datetime(2027, 7, 1, 0, 15, tzinfo=UTC)
    sweep.sweep_chunk(datetime.date(2027, 7, 1), sub.pk, sub.pk, now=renewed_at)
    operation.refresh_from_db()
    assert operation.status == "Conflict"
    assert fresh(sub).quantity == 5
    dropped = AuditEvent.objects.get(verb="subscription.change_quantity_dropped")
    assert dropped.data == {"name": sub.name, "to": 6, "why": "The app renewed first."}


def test_a_decrease_for_the_renewal_is_asked_at_once_and_scheduled_when_accepted(
    sub, admin, receiver
):
    quote = ask(sub, admin, 3)
    assert quote.when == "renewal"
    operation = waiting(sub)
    assert deliver(operation) == WebhookStatus.DELIVERED  # its webhook goes now
    assert fresh(sub).scheduled_quantity is None
    answer(operation, succeeded=True)
    assert (fresh(sub).quantity, fresh(sub).scheduled_quantity) == (5, 3)


def test_a_publisher_without_webhooks_gets_the_change_at_once(sub, admin, publisher):
    publisher.webhook_url = ""
    publisher.save()
    quote = ask(sub, admin, 6)
    assert not quote.publisher
    assert fresh(sub).quantity == 6 and added(sub).count() == 1
    assert not Operation.objects.filter(status="InProgress").exists()
