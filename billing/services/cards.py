"""Payment methods: check/wire, and cards saved through Stripe SetupIntents."""

import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import Actor

from .. import stripe_gateway
from ..models import BillingProfile, PaymentMethod
from ..stripe_gateway import StripeObjectMissing
from ._common import audit as _audit
from ._common import locked as _locked

log = logging.getLogger(__name__)

CARD_FIELDS = (
    "stripe_payment_method_id",
    "card_brand",
    "card_last4",
    "card_exp_month",
    "card_exp_year",
)


class CardSetupError(Exception):
    """A card could not be saved; the text says why, for the person who tried."""


def billing_profile_set_payment_method(
    *, profile: BillingProfile, method: str, actor: Actor
) -> BillingProfile:
    """Pay by check/wire, or by the card on file. A card is added with the card form."""
    if method not in PaymentMethod.values:
        raise ValidationError("Choose card or check/wire transfer.")
    with transaction.atomic():
        profile = _locked(profile)
        if profile.payment_method == method:
            return profile
        if method == PaymentMethod.CARD and not profile.has_card:
            raise ValidationError("There is no card on file: add a card first.")
        old = profile.payment_method
        profile.payment_method = method
        profile.save(update_fields=["payment_method", "updated_at"])
        _audit(profile, actor, "billing_profile.payment_method", {"from": old, "to": method})
    return profile


def _ensure_stripe_customer(profile: BillingProfile, actor: Actor) -> str:
    """The profile's Stripe customer id, creating the customer when Stripe has none."""
    stale = profile.stripe_customer_id
    if stale and stripe_gateway.customer_exists(stale):
        return stale
    if stale:
        billing_profile_stripe_forget(profile=profile, actor=actor)
    customer_id = stripe_gateway.customer_create(
        # One key per attempt: Stripe replays a retried request (network retries reuse it),
        # while a new attempt after a forgotten customer really makes a new one.
        idempotency_key=f"customer-{profile.uuid}-{uuid.uuid4()}",
        name=profile.name,
        email=profile.email,
        phone=profile.phone,
        address={
            "line1": profile.address_line1,
            "line2": profile.address_line2,
            "city": profile.city,
            "state": profile.state,
            "postal_code": profile.postal_code,
            "country": profile.country,
        },
        metadata={"tenant": profile.tenant.slug, "billing_profile": str(profile.uuid)},
    )
    with transaction.atomic():
        locked = _locked(profile)
        if locked.stripe_customer_id:
            # Another request saved one meanwhile; the customer made here stays unused.
            profile.stripe_customer_id = locked.stripe_customer_id
            return locked.stripe_customer_id
        locked.stripe_customer_id = customer_id
        locked.save(update_fields=["stripe_customer_id", "updated_at"])
        _audit(locked, actor, "billing_profile.stripe_customer", {"customer": customer_id})
    profile.stripe_customer_id = customer_id
    return customer_id


@dataclass(frozen=True)
class CardSetup:
    client_secret: str


def billing_profile_card_setup(*, profile: BillingProfile, actor: Actor) -> CardSetup:
    """Start saving a card: a SetupIntent for the profile's Stripe customer. The browser
    confirms it with Stripe.js; `billing_profile_card_confirm` then reads the outcome."""
    customer_id = _ensure_stripe_customer(profile, actor)
    secret = stripe_gateway.setup_intent_create(
        customer_id=customer_id,
        idempotency_key=f"setup-{profile.uuid}-{uuid.uuid4()}",
        metadata={"tenant": profile.tenant.slug, "billing_profile": str(profile.uuid)},
    )
    return CardSetup(client_secret=secret)


def store_card(profile: BillingProfile, card, actor: Actor, *, pay_by_card: bool):
    """Keep the card's display data (and pay by card, if asked); nothing when that is already
    so."""
    with transaction.atomic():
        profile = _locked(profile)
        same_card = profile.stripe_payment_method_id == card.payment_method_id
        if same_card and (profile.pays_by_card or not pay_by_card):
            return profile
        replaced = profile.card_label
        profile.stripe_payment_method_id = card.payment_method_id
        profile.card_brand = card.brand
        profile.card_last4 = card.last4
        profile.card_exp_month = card.exp_month
        profile.card_exp_year = card.exp_year
        if pay_by_card:
            profile.payment_method = PaymentMethod.CARD
        profile.save(update_fields=[*CARD_FIELDS, "payment_method", "updated_at"])
        _audit(
            profile,
            actor,
            "billing_profile.card_set",
            {"card": profile.card_label, "expires": profile.card_expiry, "replaced": replaced},
        )
    return profile


def billing_profile_card_confirm(
    *, profile: BillingProfile, setup_intent_id: str, actor: Actor
) -> BillingProfile:
    """Save the card of a SetupIntent the browser confirmed, after reading it back from
    Stripe: it must be this profile's and have succeeded. The card becomes the customer's
    default at Stripe and the profile's payment method; a card it replaces is detached."""
    card = _confirmed_card(profile, setup_intent_id)
    stripe_gateway.customer_set_default_payment_method(
        profile.stripe_customer_id, card.payment_method_id
    )
    old = profile.stripe_payment_method_id
    profile = store_card(profile, card, actor, pay_by_card=True)
    if old and old != card.payment_method_id:
        _detach_quietly(old)
    return profile


def _confirmed_card(profile: BillingProfile, setup_intent_id: str):
    """The card of a SetupIntent the browser confirmed, read back from Stripe: it must be
    this profile's customer's and have succeeded; attached to the customer."""
    if not setup_intent_id.startswith("seti_"):
        raise CardSetupError("The card form sent no card setup; nothing was changed.")
    try:
        outcome = stripe_gateway.setup_intent_outcome(setup_intent_id)
    except StripeObjectMissing:
        raise CardSetupError("Stripe does not know that card setup; nothing was changed.") from None
    if not profile.stripe_customer_id or outcome.customer_id != profile.stripe_customer_id:
        raise CardSetupError("That card setup is not for this billing profile.")
    if outcome.status != "succeeded" or outcome.card is None:
        reason = outcome.error or "the card was declined or not confirmed"
        raise CardSetupError(f"The card was not saved: {reason.rstrip('.')}. Nothing changed.")
    card = outcome.card
    if card.customer_id is None:
        stripe_gateway.payment_method_attach(card.payment_method_id, profile.stripe_customer_id)
    return card


def billing_profile_pay_now_card(
    *, profile: BillingProfile, setup_intent_id: str, save: bool, actor: Actor
) -> str:
    """The payment method id of a card given for Pay now through a SetupIntent the page
    confirmed; with `save`, also the profile's card from now on (as the card form saves)."""
    if save:
        return billing_profile_card_confirm(
            profile=profile, setup_intent_id=setup_intent_id, actor=actor
        ).stripe_payment_method_id
    return _confirmed_card(profile, setup_intent_id).payment_method_id


def _detach_quietly(payment_method_id: str) -> None:
    """A replaced card is no longer used; failing to detach it changes nothing of ours."""
    try:
        stripe_gateway.payment_method_detach(payment_method_id)
    except stripe_gateway.StripeFailure as error:
        log.warning("Could not detach replaced card %s: %s", payment_method_id, error)


def billing_profile_card_forget(
    *, profile: BillingProfile, actor: Actor, reason: str, payment_method_id: str = ""
) -> BillingProfile:
    """Drop the card on file (only if it is still `payment_method_id`, when given). A profile
    that paid by card still does, and asks for a card."""
    with transaction.atomic():
        profile = _locked(profile)
        if not profile.has_card:
            return profile
        if payment_method_id and profile.stripe_payment_method_id != payment_method_id:
            return profile
        label = profile.card_label
        _clear_card(profile)
        profile.save(update_fields=[*CARD_FIELDS, "updated_at"])
        _audit(profile, actor, "billing_profile.card_removed", {"card": label, "reason": reason})
    return profile


def _clear_card(profile: BillingProfile) -> None:
    profile.stripe_payment_method_id = profile.card_brand = profile.card_last4 = ""
    profile.card_exp_month = profile.card_exp_year = None


def billing_profile_stripe_forget(*, profile: BillingProfile, actor: Actor) -> BillingProfile:
    """Stripe no longer knows the profile's customer: drop it and its card, so the next card
    form makes a new customer."""
    with transaction.atomic():
        profile = _locked(profile)
        if not profile.stripe_customer_id:
            return profile
        label = profile.card_label
        profile.stripe_customer_id = ""
        _clear_card(profile)
        profile.save(update_fields=["stripe_customer_id", *CARD_FIELDS, "updated_at"])
        _audit(
            profile,
            actor,
            "billing_profile.card_removed",
            {"card": label, "reason": "Stripe no longer knows the customer"},
        )
    return profile


def billing_profile_card_known(*, profile: BillingProfile) -> bool:
    """Whether Stripe still knows the card on file, attached to the profile's customer
    (the local Stripe server's state can be erased under us). Reads only: the next card
    saved replaces what Stripe forgot. StripeUnavailable passes through."""
    if not profile.has_card:
        return True
    if not stripe_gateway.customer_exists(profile.stripe_customer_id):
        return False
    try:
        card = stripe_gateway.payment_method_card(profile.stripe_payment_method_id)
    except StripeObjectMissing:
        return False
    return card.customer_id == profile.stripe_customer_id


def billing_profile_demo_card(*, profile: BillingProfile, actor: Actor) -> BillingProfile:
    """Demo data only: save Stripe's test Visa 4242 on the profile, through the same
    SetupIntent path as the card form (test-mode Stripe and the local Stripe server only)."""
    customer_id = _ensure_stripe_customer(profile, actor)
    setup_intent_id = stripe_gateway.demo_card_setup(
        customer_id=customer_id, idempotency_key=f"demo-card-{profile.uuid}-{uuid.uuid4()}"
    )
    return billing_profile_card_confirm(
        profile=profile, setup_intent_id=setup_intent_id, actor=actor
    )
