"""A customer's license change waits for the publisher, end to end over real HTTP: the admin
asks in Chromium on the live server, the portal's outbox sends the webhook to the sandbox
publisher's receiver, which answers through the Fulfillment API as its switch says (PATCH
Success or Failure, silence, a 400); the publisher's own PATCH overtakes a waiting change.
Each webhook is checked again here by the standardwebhooks library against the headers it
came over the wire with."""

import datetime

import pytest
from django.core.signals import request_started
from django.db.models import F
from playwright.sync_api import expect
from standardwebhooks import Webhook

from billing.models import Charge, ChargeKind
from publishers.models import WebhookEvent, WebhookStatus
from publishers.sandbox.client import ApiFailure
from publishers.sandbox.models import Answer, SandboxPublisher, SandboxReceived
from publishers.sandbox.services import client_of
from subscriptions.models import (
    Operation,
    OperationAction,
    OperationSource,
    OperationStatus,
    Subscription,
)

from ..sandbox import RECEIVER, switch
from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "user-agent")


@pytest.fixture
def wire():
    """The headers of each request that reached the sandbox's receiver, as sent (the WSGI
    environ of the live server's request), by webhook-id."""
    seen = {}

    def keep(sender, environ, **kwargs):
        if environ.get("PATH_INFO") == RECEIVER:
            headers = {
                name: environ.get("HTTP_" + name.upper().replace("-", "_"), "")
                for name in SIGNATURE_HEADERS
            }
            seen[headers["webhook-id"]] = headers

    request_started.connect(keep, dispatch_uid="customer-changes-wire")
    yield seen
    request_started.disconnect(dispatch_uid="customer-changes-wire")


@pytest.fixture
def app_page(browser, marketplace, admin, ledger, wire):
    """Chromium signed in as Contoso's admin, on Ledger Pro's app page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, marketplace, admin, f"/t/contoso/billing/products/apps/{ledger.uuid}/")
    expect(page.get_by_role("heading", name="Ledger Pro")).to_be_visible()
    yield page
    context.close()


def ask(page, quantity: int) -> None:
    """Change license quantity, review, confirm: back on the app page."""
    page.get_by_role("link", name="Change license quantity").click()
    page.get_by_label("Licenses").fill(str(quantity))
    page.get_by_role("button", name=f"Change to {quantity} licenses").click()
    expect(page.get_by_role("heading", name="Settings & actions")).to_be_visible()


def licenses_shown(page):
    return page.locator("dl.facts dt:text-is('Licenses') + dd")


def verified(wire, publisher) -> list[dict]:
    """Every webhook the receiver kept (it keeps one only once its own check passed), its
    body verified again against the headers it came with: the payloads, oldest first."""
    payloads = []
    for received in SandboxReceived.objects.order_by("pk"):
        headers = wire[received.webhook_id]
        assert headers["user-agent"] == "Marketplace-Webhooks/1.0"  # the portal's outbox
        payloads.append(Webhook(publisher.webhook_secret).verify(received.body, headers))
    return payloads


def the_change(sub) -> Operation:
    return Operation.objects.get(
        subscription=sub,
        action=OperationAction.CHANGE_QUANTITY,
        source=OperationSource.CUSTOMER,
    )


def fresh(sub) -> Subscription:
    return Subscription.objects.get(pk=sub.pk)


def added(sub):
    return Charge.objects.of_subscription(sub.uuid).filter(kind=ChargeKind.ADD_QUANTITY)


def outcomes() -> list[str]:
    return list(SandboxReceived.objects.order_by("pk").values_list("outcome", flat=True))


DECLINED = "The change to 8 licenses didn't apply: The publisher declined the change."


def test_a_change_the_publisher_accepts_by_patch_applies_once_charged(
    app_page, ledger, quill, wire
):
    ask(app_page, 8)
    expect(licenses_shown(app_page)).to_have_text("8")
    expect(app_page.get_by_text("Waiting for")).to_have_count(0)
    expect(app_page.get_by_text("Added: ", exact=False)).to_have_count(1)  # the charge
    change = the_change(ledger)
    assert change.status == OperationStatus.SUCCEEDED
    assert fresh(ledger).quantity == 8 and added(ledger).count() == 1
    ((sent),) = verified(wire, quill)
    assert (sent["id"], sent["action"], sent["status"]) == (
        str(change.uuid),
        "ChangeQuantity",
        "InProgress",
    )
    assert sent["quantity"] == 8 and sent["operationRequestSource"] == "Azure"
    assert sent["subscription"]["quantity"] == 5  # as it was while the publisher decided
    assert outcomes() == ["accepted"]  # PATCHed Success through the API, over HTTP
    assert WebhookEvent.objects.get(uuid=change.uuid).status == WebhookStatus.DELIVERED


def test_a_change_the_publisher_lets_pass_in_silence_applies_10_seconds_after(
    app_page, ledger, quill, wire
):
    switch(Answer.SILENT)
    ask(app_page, 8)
    waiting = "Waiting for Quillfeather Labs to confirm 8 licenses."
    expect(app_page.get_by_text(waiting, exact=True)).to_be_visible()
    expect(licenses_shown(app_page)).to_have_text("5")
    change = the_change(ledger)
    assert change.status == OperationStatus.IN_PROGRESS and not added(ledger).exists()
    assert outcomes() == ["said nothing"]

    # A second change is not offered while the first waits, and refused if asked for.
    expect(app_page.get_by_role("link", name="Change license quantity")).to_have_count(0)
    app_page.goto(app_page.url.rstrip("/") + "/quantity/")
    app_page.get_by_label("Licenses").fill("9")
    expect(
        app_page.get_by_text(
            "Waiting for Quillfeather Labs to confirm 8 licenses: you can change the quantity "
            "again once it has answered."
        )
    ).to_be_visible()
    expect(app_page.get_by_role("button", name="Change to 9 licenses")).to_have_count(0)
    app_page.go_back()
    app_page.reload()
    expect(app_page.get_by_text(waiting, exact=True)).to_be_visible()  # not 10 s yet

    # 10 s since the webhook's first 2xx, without sleeping; reading the page applies it.
    event = WebhookEvent.objects.filter(uuid=change.uuid, status=WebhookStatus.DELIVERED)
    assert event.update(first_success_at=F("first_success_at") - datetime.timedelta(seconds=10))
    app_page.reload()
    expect(licenses_shown(app_page)).to_have_text("8")
    expect(app_page.get_by_text("Waiting for")).to_have_count(0)
    expect(app_page.get_by_text("Confirmed: by its silence", exact=False)).to_be_visible()
    change.refresh_from_db()
    assert change.status == OperationStatus.SUCCEEDED
    assert fresh(ledger).quantity == 8 and added(ledger).count() == 1
    assert Operation.objects.filter(subscription=ledger).count() == 1  # no second one
    ((sent),) = verified(wire, quill)
    assert sent["quantity"] == 8


def test_a_change_the_publisher_declines_by_patch_changes_nothing(app_page, ledger, quill, wire):
    switch(Answer.DECLINE)
    ask(app_page, 8)
    expect(app_page.get_by_text(DECLINED, exact=True)).to_be_visible()
    expect(licenses_shown(app_page)).to_have_text("5")
    change = the_change(ledger)
    assert change.status == OperationStatus.FAILED
    assert fresh(ledger).quantity == 5 and not added(ledger).exists()
    charges = Charge.objects.of_subscription(ledger.uuid)
    assert not charges.exclude(kind=ChargeKind.PURCHASE).exists()
    assert outcomes() == ["declined"]  # PATCHed Failure through the API, over HTTP
    ((sent),) = verified(wire, quill)
    assert sent["id"] == str(change.uuid)
    assert WebhookEvent.objects.get(uuid=change.uuid).status == WebhookStatus.DELIVERED


def test_a_change_whose_webhook_is_answered_400_is_declined(app_page, ledger, quill, wire):
    switch(Answer.REFUSE)
    ask(app_page, 8)
    expect(app_page.get_by_text(DECLINED, exact=True)).to_be_visible()
    expect(licenses_shown(app_page)).to_have_text("5")
    change = the_change(ledger)
    assert change.status == OperationStatus.FAILED
    event = WebhookEvent.objects.get(uuid=change.uuid)
    assert event.status == WebhookStatus.DECLINED
    assert event.attempts.get().status_code == 400
    assert fresh(ledger).quantity == 5 and not added(ledger).exists()
    assert outcomes() == ["refused 400"]
    ((sent),) = verified(wire, quill)
    assert sent["id"] == str(change.uuid)


def test_the_publishers_own_change_overtakes_a_waiting_one_whose_answer_is_then_409(
    app_page, ledger, quill, wire
):
    switch(Answer.SILENT)
    ask(app_page, 8)
    change = the_change(ledger)
    assert change.status == OperationStatus.IN_PROGRESS

    api = client_of(SandboxPublisher.objects.get(slug="quillfeather"))
    location = api.change_quantity(str(ledger.uuid), 10)
    assert api.operation(location)["status"] == "Succeeded"
    assert fresh(ledger).quantity == 10
    change.refresh_from_db()
    assert change.status == OperationStatus.CONFLICT
    own = Operation.objects.exclude(pk=change.pk).get(subscription=ledger)
    assert (own.source, own.quantity) == (OperationSource.PUBLISHER, 10)

    with pytest.raises(ApiFailure) as late:
        api.update_operation(str(ledger.uuid), str(change.uuid), success=True, quantity=8)
    assert late.value.status == 409
    change.refresh_from_db()
    assert change.status == OperationStatus.CONFLICT
    assert fresh(ledger).quantity == 10 and added(ledger).count() == 1  # the publisher's +5

    app_page.reload()
    expect(licenses_shown(app_page)).to_have_text("10")
    expect(app_page.get_by_text("Waiting for")).to_have_count(0)
    expect(app_page.get_by_text("License quantity change overtaken")).to_be_visible()
    asked, told = verified(wire, quill)
    assert (asked["id"], asked["status"], asked["operationRequestSource"]) == (
        str(change.uuid),
        "InProgress",
        "Azure",
    )
    assert (told["id"], told["status"], told["operationRequestSource"]) == (
        str(own.uuid),
        "Succeeded",
        "Partner",
    )
    assert outcomes() == ["said nothing", "noted"]
