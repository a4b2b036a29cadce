"""Stripe, and the only module that imports it.

The key, the API base (the local Stripe server in the demo and tests) and a timeout come
from settings. Every create call carries an idempotency key. Stripe's errors come out as
`StripeFailure` and its kinds, whose text a person can read on the page.
"""

import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import stripe
from django.conf import settings

log = logging.getLogger(__name__)


class StripeFailure(Exception):
    """Stripe refused or failed; `str(error)` says so in words for the user."""


class StripeUnavailable(StripeFailure):
    """Stripe could not be reached, did not answer in time, or is not set up."""


class StripeObjectMissing(StripeFailure):
    """Stripe does not know the id (deleted, or from another Stripe account or state)."""


class CardRefused(StripeFailure):
    """The card was declined or is invalid; the text is Stripe's."""


class WebhookSignatureInvalid(Exception):
    pass


class WebhookPayloadInvalid(ValueError):
    """A correctly signed body that is not an event the portal can read."""


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    customer_id: str | None  # None until attached to a customer
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class SetupOutcome:
    id: str
    status: str  # "succeeded", or what stopped it
    customer_id: str | None
    card: Card | None
    error: str  # Stripe's message when the setup failed


UNREACHABLE = (
    "Stripe, our card processor, could not be reached, so nothing was changed. "
    "Try again in a few minutes."
)


@cache
def _client(api_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=1,
    )


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise StripeUnavailable("Card payments are not set up on this portal yet.")
    return _client(
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS
    )


@contextmanager
def _translated() -> Iterator[None]:
    """Stripe's exceptions as ours, each with a message for people."""
    try:
        yield
    except stripe.CardError as error:
        raise CardRefused(error.user_message or "The card was declined.") from error
    except stripe.APIConnectionError as error:
        log.warning("Stripe unreachable: %s", error)
        raise StripeUnavailable(UNREACHABLE) from error
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        log.error("Stripe refused the portal's key: %s", error)
        raise StripeUnavailable(
            "Card payments are unavailable: Stripe refused the portal's credentials. "
            "Nothing was changed; the operator has been told."
        ) from error
    except stripe.RateLimitError as error:
        raise StripeUnavailable("Stripe is busy; nothing was changed. Try again.") from error
    except stripe.InvalidRequestError as error:
        if error.http_status == 404 or error.code == "resource_missing":
            raise StripeObjectMissing("Stripe no longer knows this card or customer.") from error
        log.error("Stripe refused a request: %s", error)
        raise StripeFailure(error.user_message or "Stripe refused the request.") from error
    except stripe.StripeError as error:
        log.error("Stripe error: %s", error)
        raise StripeFailure(error.user_message or "Stripe failed; nothing was changed.") from error


def _card(payment_method) -> Card:
    details = payment_method.card
    customer = payment_method.customer
    return Card(
        payment_method_id=payment_method.id,
        customer_id=customer if isinstance(customer, str) or customer is None else customer.id,
        brand=details.brand,
        last4=details.last4,
        exp_month=int(details.exp_month),
        exp_year=int(details.exp_year),
    )


def customer_create(
    *, idempotency_key: str, name: str, email: str, phone: str, address: dict, metadata: dict
) -> str:
    """A new Stripe customer; its id."""
    params = {
        "name": name,
        "email": email,
        "phone": phone,
        "address": {key: value for key, value in address.items() if value},
        "metadata": metadata,
    }
    with _translated():
        customer = client().v1.customers.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    return customer.id


def customer_exists(customer_id: str) -> bool:
    try:
        with _translated():
            customer = client().v1.customers.retrieve(customer_id)
    except StripeObjectMissing:
        return False
    return not getattr(customer, "deleted", False)


def customer_default_payment_method(customer_id: str) -> str | None:
    """The id of the customer's default payment method at Stripe, None if it has none."""
    with _translated():
        customer = client().v1.customers.retrieve(customer_id)
    if getattr(customer, "deleted", False):
        raise StripeObjectMissing("Stripe no longer knows this customer.")
    settings_ = customer.invoice_settings
    default = settings_.default_payment_method if settings_ else None
    return default if isinstance(default, str) or default is None else default.id


def customer_set_default_payment_method(customer_id: str, payment_method_id: str) -> None:
    with _translated():
        client().v1.customers.update(
            customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
        )


def customer_delete(customer_id: str) -> None:
    """Delete the customer (and so detach its cards); a customer already gone is fine."""
    try:
        with _translated():
            client().v1.customers.delete(customer_id)
    except StripeObjectMissing:
        pass


def setup_intent_create(*, customer_id: str, idempotency_key: str, metadata: dict) -> str:
    """A SetupIntent to save a card for later, off-session charges; its client secret."""
    with _translated():
        intent = client().v1.setup_intents.create(
            params={
                "customer": customer_id,
                "usage": "off_session",
                "payment_method_types": ["card"],
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    return intent.client_secret


def setup_intent_outcome(setup_intent_id: str) -> SetupOutcome:
    """What became of a SetupIntent, read back from Stripe (never from the browser)."""
    with _translated():
        intent = client().v1.setup_intents.retrieve(
            setup_intent_id, params={"expand": ["payment_method"]}
        )
    values = intent.to_dict()
    payment_method = intent.payment_method if values.get("payment_method") else None
    error = values.get("last_setup_error") or {}
    customer = values.get("customer")
    return SetupOutcome(
        id=intent.id,
        status=values.get("status", ""),
        customer_id=customer if isinstance(customer, str) or customer is None else customer["id"],
        card=_card(payment_method) if payment_method is not None and payment_method.card else None,
        error=error.get("message", ""),
    )


def payment_method_card(payment_method_id: str) -> Card:
    with _translated():
        payment_method = client().v1.payment_methods.retrieve(payment_method_id)
    if payment_method.type != "card":
        raise StripeFailure("That payment method is not a card.")
    return _card(payment_method)


def payment_method_attach(payment_method_id: str, customer_id: str) -> None:
    with _translated():
        client().v1.payment_methods.attach(payment_method_id, params={"customer": customer_id})


def payment_method_detach(payment_method_id: str) -> None:
    """Detach a card from its customer; one Stripe no longer knows is fine."""
    try:
        with _translated():
            client().v1.payment_methods.detach(payment_method_id)
    except StripeObjectMissing:
        pass


@dataclass(frozen=True)
class PaymentOutcome:
    id: str  # the PaymentIntent's ("" when Stripe refused before making one)
    status: str  # Stripe's: "succeeded", "processing", "requires_action", ...
    error: str  # Stripe's message when the card was declined or needs its holder
    client_secret: str = ""  # for Stripe.js, when its holder must confirm in the page

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def pending(self) -> bool:
        """Stripe has not decided yet: a webhook, or reading it again, will tell."""
        return self.status == "processing"


AUTHENTICATION_NEEDED = (
    "The card's bank asks its holder to confirm this payment; it can't be charged "
    "automatically. Pay it with Pay now."
)


def _outcome(intent: dict, *, on_session: bool = False) -> PaymentOutcome:
    status = intent.get("status", "")
    error = (intent.get("last_payment_error") or {}).get("message", "")
    if status == "requires_action":
        error = "" if on_session else AUTHENTICATION_NEEDED
    elif status not in ("succeeded", "processing") and not error:
        error = "The card was declined."
    return PaymentOutcome(
        id=intent.get("id", ""),
        status=status,
        error=error,
        client_secret=intent.get("client_secret", "") if on_session else "",
    )


def payment_intent_charge(
    *,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    idempotency_key: str,
    metadata: dict,
) -> PaymentOutcome:
    """Charge the saved card now, off-session (no one is there to confirm). A declined
    card, or one whose bank wants its holder, is an outcome, not an error; Stripe being
    unreachable is StripeUnavailable (the same key asked again is the same charge)."""
    return _payment_intent_create(
        {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
            "metadata": metadata,
        },
        idempotency_key,
        on_session=False,
    )


def payment_intent_pay(
    *,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    idempotency_key: str,
    metadata: dict,
) -> PaymentOutcome:
    """Charge a card of the customer's now, its holder in the page (Pay now): where the
    bank asks for 3-D Secure, the outcome is `requires_action` with the client secret
    Stripe.js confirms it with."""
    return _payment_intent_create(
        {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "metadata": metadata,
        },
        idempotency_key,
        on_session=True,
    )


def _payment_intent_create(params: dict, idempotency_key: str, *, on_session: bool):
    try:
        with _translated():
            intent = client().v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
    except CardRefused as refused:
        error = refused.__cause__
        intent = getattr(getattr(error, "error", None), "payment_intent", None)
        if intent is None:  # Stripe made none, or didn't say which
            return PaymentOutcome(id="", status="requires_payment_method", error=str(refused))
        outcome = _outcome(intent.to_dict() if hasattr(intent, "to_dict") else dict(intent))
        return PaymentOutcome(id=outcome.id, status=outcome.status, error=str(refused))
    return _outcome(intent.to_dict(), on_session=on_session)


def payment_intent_outcome(payment_intent_id: str) -> tuple[PaymentOutcome, dict]:
    """A PaymentIntent as Stripe has it now (never as a browser or an event body says):
    its outcome, and its amount, currency, amount received and metadata."""
    with _translated():
        intent = client().v1.payment_intents.retrieve(payment_intent_id)
    values = intent.to_dict()
    facts = {
        "amount": int(values.get("amount") or 0),
        "amount_received": int(values.get("amount_received") or 0),
        "currency": (values.get("currency") or "").upper(),
        "metadata": dict(values.get("metadata") or {}),
    }
    return _outcome(values), facts


@dataclass(frozen=True)
class RefundOutcome:
    id: str
    status: str  # Stripe's: "succeeded", "pending", "failed", "canceled"
    amount: int
    metadata: dict
    error: str = ""


def _refund(refund: dict) -> RefundOutcome:
    return RefundOutcome(
        id=refund.get("id", ""),
        status=refund.get("status", ""),
        amount=int(refund.get("amount") or 0),
        metadata=dict(refund.get("metadata") or {}),
        error=refund.get("failure_reason") or "",
    )


def refund_create(
    *, payment_intent_id: str, amount: int, idempotency_key: str, metadata: dict
) -> RefundOutcome:
    """Give `amount` of a succeeded PaymentIntent back to its card. Refused by Stripe (the
    charge already refunded, say): an outcome with status "failed" and Stripe's words."""
    try:
        with _translated():
            refund = client().v1.refunds.create(
                params={
                    "payment_intent": payment_intent_id,
                    "amount": amount,
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
    except StripeUnavailable:
        raise
    except StripeFailure as refused:
        return RefundOutcome(
            id="", status="failed", amount=amount, metadata=metadata, error=str(refused)
        )
    return _refund(refund.to_dict())


def refunds_of_charge(charge_id: str) -> list[RefundOutcome]:
    """The refunds of a charge, as Stripe has them now."""
    with _translated():
        refunds = client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
    return [_refund(refund.to_dict()) for refund in refunds.data]


def demo_card_setup(*, customer_id: str, idempotency_key: str) -> str:
    """Save Stripe's test Visa (4242) on the customer, as a person would through the card
    form; the SetupIntent's id. For demo data only: test-mode Stripe knows `pm_card_visa`."""
    with _translated():
        intent = client().v1.setup_intents.create(
            params={"customer": customer_id, "usage": "off_session"},
            options={"idempotency_key": idempotency_key},
        )
        intent = client().v1.setup_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa"}
        )
    return intent.id


# How far a signature's timestamp may be from now, either way (Stripe's default tolerance).
WEBHOOK_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"(?:^|,)t=(\d+)(?:,|$)")


def webhook_event(payload: bytes, signature: str) -> dict:
    """The event Stripe signed, as a dict.

    WebhookSignatureInvalid when the `Stripe-Signature` header does not match
    STRIPE_WEBHOOK_SECRET, or was made more than 5 minutes ago or ahead of now;
    WebhookPayloadInvalid when the signed body is not an event: not a JSON object, nested
    past what the parser takes, or with an `id`, `type`, `data` or `data.object` of the
    wrong type.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureInvalid("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise WebhookSignatureInvalid(str(error)) from error
    stamp = _TIMESTAMP.search(signature)
    if stamp is None or int(stamp.group(1)) > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookSignatureInvalid("The signature's timestamp is in the future.")
    return _checked_event(payload)


def _checked_event(payload: bytes) -> dict:
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        raise WebhookPayloadInvalid("The body is not JSON the portal can read.") from None
    if not isinstance(event, dict):
        raise WebhookPayloadInvalid("The event is not a JSON object.")
    for key in ("id", "type"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise WebhookPayloadInvalid(f"The event's {key} is not a string.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise WebhookPayloadInvalid("The event's data.object is not an object.")
    obj = data["object"]
    for key in ("id", "customer"):  # what the handlers look objects up by
        if not isinstance(obj.get(key, ""), str | None):
            raise WebhookPayloadInvalid(f"The event's data.object.{key} is not a string.")
    return event
