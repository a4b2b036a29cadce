"""/webhooks/stripe with events built and signed here (the local Stripe server sends none)."""

import time
import uuid

import pytest
from django.urls import reverse

from billing import stripe_gateway
from billing.models import PaymentMethod, StripeEvent
from portal.models import AuditEvent

from .conftest import confirm_card_in_browser, signed
from .test_cards import add_card, card_url


def event(kind: str, obj: dict) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def deliver(client, evt, **signing):
    body, signature = signed(evt, **signing)
    return client.post(
        reverse("stripe_webhook"),
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )


@pytest.fixture
def card_profile(login, billing_admin, profile):
    add_card(login(billing_admin), profile)
    profile.refresh_from_db()
    assert profile.has_card
    return profile


def test_a_detached_card_is_forgotten_once_and_a_replay_changes_nothing(client, card_profile):
    stripe_gateway.payment_method_detach(card_profile.stripe_payment_method_id)
    evt = event(
        "payment_method.detached",
        {"id": card_profile.stripe_payment_method_id, "object": "payment_method"},
    )
    first = deliver(client, evt)
    assert first.status_code == 200
    card_profile.refresh_from_db()
    assert card_profile.needs_card  # still pays by card, and asks for one
    assert AuditEvent.objects.filter(verb="billing_profile.card_removed").count() == 1
    replay = deliver(client, evt)
    assert replay.status_code == 200
    assert replay.content == b"replay: already handled"
    assert AuditEvent.objects.filter(verb="billing_profile.card_removed").count() == 1
    assert StripeEvent.objects.filter(event_id=evt["id"]).count() == 1


@pytest.mark.parametrize(
    "signing",
    [
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 3600},  # an old capture, replayed
        {"timestamp": int(time.time()) + 3600},  # made ahead, to be replayed later
    ],
)
def test_a_bad_signature_is_400_and_changes_nothing(client, card_profile, signing):
    evt = event(
        "payment_method.detached",
        {"id": card_profile.stripe_payment_method_id, "object": "payment_method"},
    )
    response = deliver(client, evt, **signing)
    assert response.status_code == 400
    card_profile.refresh_from_db()
    assert card_profile.has_card
    assert not StripeEvent.objects.exists()


DEEP = (
    '{"id": "evt_deep", "type": "customer.updated", "data": {"object": '
    + ("[" * 100_000 + "]" * 100_000)
    + "}}"
)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[1, 2]", b"The event is not a JSON object."),
        ('"evt"', b"The event is not a JSON object."),
        ("{not json", b"The body is not JSON the portal can read."),
        ('{"id": "evt_1", "type": 7, "data": {"object": {}}}', b"The event's type is not"),
        ('{"id": ["evt_1"], "type": "customer.updated", "data": {}}', b"The event's id is not"),
        ('{"id": "evt_1", "type": "customer.updated", "data": []}', b"data.object is not"),
        ('{"id": "evt_1", "type": "customer.updated", "data": {"object": "x"}}', b"data.object"),
        (
            '{"id": "evt_1", "type": "customer.updated", "data": {"object": {"id": {"a": 1}}}}',
            b"data.object.id is not a string",
        ),
        (DEEP, b"The body is not JSON the portal can read."),
    ],
    ids=["list", "string", "not-json", "type", "id", "data", "object", "object-id", "deep"],
)
def test_a_signed_body_that_is_not_an_event_is_400_and_changes_nothing(client, db, body, reason):
    response = deliver(client, body)
    assert response.status_code == 400
    assert reason in response.content
    assert not StripeEvent.objects.exists()


def test_an_unsigned_post_is_400(client):
    response = client.post(reverse("stripe_webhook"), "{}", content_type="application/json")
    assert response.status_code == 400


def test_the_profile_follows_a_default_card_changed_at_stripe(client, card_profile):
    """Someone set another card as the customer's default in Stripe's dashboard."""
    customer = card_profile.stripe_customer_id
    secret = stripe_gateway.setup_intent_create(
        customer_id=customer, idempotency_key=str(uuid.uuid4()), metadata={}
    )
    confirm_card_in_browser(secret, "5555555555554444")
    outcome = stripe_gateway.setup_intent_outcome(secret.split("_secret_")[0])
    stripe_gateway.payment_method_attach(outcome.card.payment_method_id, customer)
    stripe_gateway.customer_set_default_payment_method(customer, outcome.card.payment_method_id)
    # The event's body may be stale: the handler reads the customer back from Stripe.
    response = deliver(client, event("customer.updated", {"id": customer, "object": "customer"}))
    assert response.status_code == 200
    card_profile.refresh_from_db()
    assert card_profile.card_last4 == "4444"
    assert card_profile.stripe_payment_method_id == outcome.card.payment_method_id


def test_a_setup_finished_after_the_tab_closed_still_saves_the_card(
    client, login, billing_admin, profile
):
    page = login(billing_admin).get(card_url(profile))
    secret = page.context["setup"].client_secret
    confirm_card_in_browser(secret)  # ...and the browser never posts back
    profile.refresh_from_db()
    setup_intent = {
        "id": secret.split("_secret_")[0],
        "object": "setup_intent",
        "customer": profile.stripe_customer_id,
    }
    response = deliver(client, event("setup_intent.succeeded", setup_intent))
    assert response.status_code == 200
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CARD and profile.card_last4 == "4242"
    assert AuditEvent.objects.get(verb="billing_profile.card_set").actor_label == "stripe"


def test_events_the_portal_does_not_act_on_are_recorded_and_ignored(client, card_profile):
    response = deliver(client, event("invoice.created", {"id": "in_1", "object": "invoice"}))
    assert response.status_code == 200
    assert response.content.startswith(b"ignored")
    assert StripeEvent.objects.get().type == "invoice.created"


def test_a_default_card_removed_at_stripe_is_forgotten(client, card_profile):
    customer = card_profile.stripe_customer_id
    stripe_gateway.client().v1.customers.update(
        customer, params={"invoice_settings": {"default_payment_method": ""}}
    )
    deliver(client, event("customer.updated", {"id": customer, "object": "customer"}))
    card_profile.refresh_from_db()
    assert card_profile.needs_card


def test_a_deleted_customer_is_forgotten_whichever_event_says_so(client, card_profile):
    customer = card_profile.stripe_customer_id
    stripe_gateway.customer_delete(customer)
    updated = deliver(client, event("customer.updated", {"id": customer, "object": "customer"}))
    assert updated.status_code == 200  # not a 5xx Stripe would retry for days
    card_profile.refresh_from_db()
    assert not card_profile.stripe_customer_id and card_profile.needs_card
    deleted = deliver(client, event("customer.deleted", {"id": customer, "object": "customer"}))
    assert deleted.content.startswith(b"ignored")  # no profile has that customer any more


def test_customer_deleted_is_checked_with_stripe_first(client, card_profile):
    customer = card_profile.stripe_customer_id
    response = deliver(client, event("customer.deleted", {"id": customer, "object": "customer"}))
    assert response.content == b"ignored: Stripe still knows the customer"
    card_profile.refresh_from_db()
    assert card_profile.has_card


def test_a_late_setup_intent_does_not_replace_the_card_on_file(client, login, card_profile):
    card = card_profile.stripe_payment_method_id
    setup_intent = {"id": "seti_late", "object": "setup_intent"}
    setup_intent["customer"] = card_profile.stripe_customer_id
    response = deliver(client, event("setup_intent.succeeded", setup_intent))
    assert response.content == b"ignored: the profile already has its card"
    card_profile.refresh_from_db()
    assert card_profile.stripe_payment_method_id == card


def test_a_handler_that_fails_leaves_the_event_for_stripes_retry(client, card_profile, settings):
    customer = card_profile.stripe_customer_id
    evt = event("customer.updated", {"id": customer, "object": "customer"})
    reachable, settings.STRIPE_API_BASE = settings.STRIPE_API_BASE, "http://127.0.0.1:9"
    assert deliver(client, evt).status_code == 503  # Stripe unreachable: retry later
    assert not StripeEvent.objects.exists()
    settings.STRIPE_API_BASE = reachable
    retried = deliver(client, evt)
    assert retried.content == b"ignored: the card on file is the default"
    assert StripeEvent.objects.get().event_id == evt["id"]


def test_a_detach_event_for_a_card_still_attached_changes_nothing(client, card_profile):
    """A stale or forged-in-order event: Stripe says the card is still the customer's."""
    evt = event(
        "payment_method.detached",
        {"id": card_profile.stripe_payment_method_id, "object": "payment_method"},
    )
    assert deliver(client, evt).content == b"card forgotten on 0 profile(s)"
    card_profile.refresh_from_db()
    assert card_profile.has_card
