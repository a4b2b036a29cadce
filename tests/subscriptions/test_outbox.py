"""What the publisher hears of each change: an operation and, when it takes webhooks, its
webhook in the outbox, written in the change's transaction, with the reference file's body;
the sweep's batches write the same as the services do."""

import datetime
import json
import uuid

import pytest
from django.db import transaction

from portal.audit import Actor
from publishers.models import WebhookEvent
from publishers.webhooks import webhooks_due
from subscriptions import services
from subscriptions.models import Operation
from subscriptions.services import sweep
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
SYSTEM = Actor.system("test")


@pytest.fixture
def publisher():
    return PublisherFactory(webhook_url="http://127.0.0.1:9/hooks")


@pytest.fixture
def plan(publisher):
    return PlanFactory(app=AppFactory(publisher=publisher), plan_id="team")


@pytest.fixture
def sub(tenant, admin, plan):
    made = SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant), plan=plan, bought_by=admin
    )
    return services.subscription_activate(subscription=made, actor=SYSTEM)


def person(user) -> Actor:
    return Actor(type="user", label=user.email, user=user)


def body(event) -> dict:
    return json.loads(event.body)


def test_a_cancel_in_the_portal_tells_the_publisher(sub, admin):
    assert not WebhookEvent.objects.exists()  # activation: the publisher did it
    services.subscription_cancel(subscription=sub, actor=person(admin))
    operation = Operation.objects.get()
    event = WebhookEvent.objects.get()
    assert event.uuid == operation.uuid and event.action == "Unsubscribe"
    sent = body(event)
    assert (sent["id"], sent["action"], sent["status"]) == (
        str(operation.uuid),
        "Unsubscribe",
        "Succeeded",
    )
    assert sent["operationRequestSource"] == "Azure" and sent["purchaseToken"] is None
    assert sent["subscriptionId"] == str(sub.uuid) and sent["planId"] == "team"
    assert sent["subscription"]["saasSubscriptionStatus"] == "Unsubscribed"
    assert sent["subscription"]["lastModified"] == sent["timeStamp"]  # this change
    assert sent["subscription"]["purchaser"]["emailId"] == admin.email


def test_a_rolled_back_change_tells_nobody(sub, admin):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.subscription_suspend(subscription=sub, actor=SYSTEM)
        raise RuntimeError("the change failed")
    assert not Operation.objects.exists() and not WebhookEvent.objects.exists()


def test_an_auto_provisioning_publisher_hears_of_each_purchase_with_a_token(
    tenant, admin, publisher, plan
):
    profile = BillingProfileFactory(tenant=tenant)
    services.subscription_buy(
        tenant=tenant,
        plan=plan,
        quantity=3,
        profile=profile,
        purchase_key=uuid.uuid4(),
        actor=person(admin),
    )
    assert not WebhookEvent.objects.exists()  # not auto-provisioning: the hand-off only
    publisher.auto_provisioning = True
    publisher.save()
    bought, _ = services.subscription_buy(
        tenant=tenant,
        plan=plan,
        quantity=4,
        profile=profile,
        purchase_key=uuid.uuid4(),
        actor=person(admin),
    )
    sent = body(WebhookEvent.objects.get(action="Subscribe"))
    assert sent["quantity"] == 4 and sent["operationRequestSource"] == "Azure"
    assert sent["subscription"]["saasSubscriptionStatus"] == "PendingFulfillmentStart"
    found = services.subscription_for_marketplace_token(sent["purchaseToken"], publisher=publisher)
    assert found == bought  # the publisher can resolve it and activate, with no one clicking


def test_a_publisher_without_a_webhook_url_gets_operations_only(sub, publisher):
    publisher.webhook_url = ""
    publisher.save()
    services.subscription_suspend(subscription=sub, actor=SYSTEM)
    assert Operation.objects.get().action == "Suspend" and not WebhookEvent.objects.exists()


def test_the_publishers_own_change_comes_back_as_partners(client, sub, publisher):
    response = client.patch(
        f"/api/saas/subscriptions/{sub.uuid}?api-version=2018-08-31",
        {"quantity": 7},
        content_type="application/json",
        headers=bearer(publisher),
    )
    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert response["Operation-Location"].split("/operations/")[1].startswith(str(event.uuid))
    sent = body(event)
    assert (sent["action"], sent["quantity"], sent["operationRequestSource"]) == (
        "ChangeQuantity",
        7,
        "Partner",
    )


def test_the_sweep_tells_publishers_as_the_services_do(tenant, plan, publisher):
    profile = BillingProfileFactory(tenant=tenant)
    began = datetime.datetime(2027, 1, 10, 9, tzinfo=UTC)
    by_service, by_sweep, quiet = (
        services.subscription_activate(
            subscription=SubscriptionFactory(billing_profile=profile, plan=p),
            actor=SYSTEM,
            now=began,
        )
        for p in (plan, plan, PlanFactory(app=AppFactory(publisher=PublisherFactory())))
    )
    renewed_at = datetime.datetime(2027, 2, 10, 0, 15, tzinfo=UTC)
    services.subscription_renew(subscription=by_service, actor=SYSTEM, now=renewed_at)
    for one in (by_sweep, quiet):
        sweep.sweep_chunk(datetime.date(2027, 2, 10), one.pk, one.pk, now=renewed_at)

    def sent(sub):
        event = WebhookEvent.objects.get(subscription=sub)
        ids = {str(sub.uuid), str(event.uuid), str(event.subscription.tenant.uuid)}
        text = event.body
        for value in ids | {sub.name, str(Operation.objects.get(subscription=sub).activity_id)}:
            text = text.replace(value, "X")
        shown = json.loads(text)
        del shown["subscription"]["created"]  # bought a moment apart
        return event.action, shown

    # The batch's events wait for the webhook sweep (no task each), which renders their
    # bodies as it first sends them; the service's went at once.
    assert WebhookEvent.objects.get(subscription=by_sweep).body == ""
    due = {pk for pk, _ in webhooks_due(now=renewed_at + datetime.timedelta(hours=1))}
    assert WebhookEvent.objects.get(subscription=by_sweep).pk in due
    assert sent(by_service) == sent(by_sweep)
    assert sent(by_sweep)[0] == "Renew"
    assert Operation.objects.filter(subscription=quiet, action="Renew").exists()
    assert not WebhookEvent.objects.filter(subscription=quiet).exists()  # no webhook URL


def test_a_batch_webhook_waiting_in_line_gets_its_body_at_the_next_sweep(tenant, plan):
    """Its subscription as it was seconds after the change: a renewal notice sent hours
    later, once an earlier event is done at last, doesn't describe a later cancel."""
    began = datetime.datetime(2027, 1, 10, 9, tzinfo=UTC)
    sub = services.subscription_activate(
        subscription=SubscriptionFactory(
            billing_profile=BillingProfileFactory(tenant=tenant), plan=plan
        ),
        actor=SYSTEM,
        now=began,
    )
    services.subscription_suspend(subscription=sub, actor=SYSTEM, now=began)  # undelivered
    later = began + datetime.timedelta(days=1)
    services.subscription_reinstate(subscription=sub, actor=SYSTEM, now=later)
    renewed_at = datetime.datetime(2027, 2, 10, 0, 15, tzinfo=UTC)
    sweep.sweep_chunk(datetime.date(2027, 2, 10), sub.pk, sub.pk, now=renewed_at)
    renew = WebhookEvent.objects.get(subscription=sub, action="Renew")
    assert renew.body == ""
    due = {pk for pk, _ in webhooks_due(now=renewed_at)}
    assert renew.pk not in due  # in line behind the Suspend
    renew.refresh_from_db()
    assert body(renew)["subscription"]["saasSubscriptionStatus"] == "Subscribed"
    services.subscription_cancel(subscription=sub, actor=SYSTEM, now=renewed_at)
    webhooks_due(now=renewed_at)
    renew.refresh_from_db()
    assert body(renew)["subscription"]["saasSubscriptionStatus"] == "Subscribed"  # kept
