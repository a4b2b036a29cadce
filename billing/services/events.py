"""Stripe webhook events that can change a profile's payment method."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.audit import Actor

from .. import stripe_gateway
from ..models import BillingProfile, StripeEvent
from .cards import (
    CardSetupError,
    billing_profile_card_confirm,
    billing_profile_card_forget,
    store_card,
)

HANDLED_EVENTS = ("setup_intent.succeeded", "payment_method.detached", "customer.updated")
STRIPE = Actor.system("stripe")


def stripe_event_handle(*, event: dict) -> str:
    """Act on a verified Stripe event once; what happened, in words. Each handler reads
    the current state back from Stripe, so events out of order do no harm, and is safe to
    run twice, so an event recorded only after its handler ran cannot be half-applied."""
    event_id, kind = event.get("id", ""), event.get("type", "")
    if not event_id:
        raise ValidationError("The event has no id.")
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return "replay: already handled"
    obj = (event.get("data") or {}).get("object") or {}
    if kind == "setup_intent.succeeded":
        outcome = _on_setup_intent_succeeded(obj)
    elif kind == "payment_method.detached":
        outcome = _on_payment_method_detached(obj)
    elif kind == "customer.updated":
        outcome = _on_customer_updated(obj)
    else:
        outcome = "ignored: not an event the portal acts on"
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event_id, type=kind, outcome=outcome[:255])
    except IntegrityError:
        return "replay: already handled"
    return outcome


def _profile_of_customer(customer_id) -> BillingProfile | None:
    if not customer_id:
        return None
    return BillingProfile.objects.filter(stripe_customer_id=customer_id).first()


def _on_setup_intent_succeeded(intent: dict) -> str:
    """The browser never came back (a closed tab): save the card as if it had."""
    profile = _profile_of_customer(intent.get("customer"))
    if profile is None:
        return "ignored: no profile has this customer"
    if profile.has_card:
        return "ignored: the profile already has its card"
    try:
        billing_profile_card_confirm(profile=profile, setup_intent_id=intent["id"], actor=STRIPE)
    except CardSetupError as error:
        return f"ignored: {error}"
    return f"card saved on {profile.uuid}"


def _on_payment_method_detached(payment_method: dict) -> str:
    payment_method_id = payment_method.get("id", "")
    profiles = BillingProfile.objects.filter(stripe_payment_method_id=payment_method_id)
    forgotten = [
        billing_profile_card_forget(
            profile=profile,
            actor=STRIPE,
            reason="the card was removed at Stripe",
            payment_method_id=payment_method_id,
        )
        for profile in profiles
    ]
    return f"card forgotten on {len(forgotten)} profile(s)"


def _on_customer_updated(customer: dict) -> str:
    """The customer's default card changed at Stripe: the profile follows it."""
    profile = _profile_of_customer(customer.get("id"))
    if profile is None:
        return "ignored: no profile has this customer"
    default = stripe_gateway.customer_default_payment_method(profile.stripe_customer_id)
    if default == (profile.stripe_payment_method_id or None):
        return "ignored: the card on file is the default"
    if default is None:
        billing_profile_card_forget(
            profile=profile, actor=STRIPE, reason="the default card was removed at Stripe"
        )
        return f"card forgotten on {profile.uuid}"
    store_card(profile, stripe_gateway.payment_method_card(default), STRIPE, pay_by_card=False)
    return f"card updated on {profile.uuid}"
