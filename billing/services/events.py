"""Stripe webhook events that can change a profile's payment method, or pay an invoice."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.audit import Actor

from .. import stripe_gateway
from ..models import BillingProfile, CardChargeAttempt, Invoice, StripeEvent
from .card_charges import card_charge_settle, card_payment_record
from .cards import (
    CardSetupError,
    billing_profile_card_confirm,
    billing_profile_card_forget,
    billing_profile_stripe_forget,
    store_card,
)
from .refunds import refunds_reconcile

STRIPE = Actor.system("stripe")


def stripe_event_handle(*, event: dict) -> str:
    """Act on a verified Stripe event once; what happened, in words.

    The event's row is written first, in the transaction that handles it: a second delivery
    of the same id waits on it and then finds it (a replay changes nothing), and a handler
    that fails rolls it back so Stripe's retry is handled afresh. Each handler reads the
    current state back from Stripe, so events arriving out of order do no harm.
    """
    event_id, kind = event.get("id", ""), event.get("type", "")
    if not event_id:
        raise ValidationError("The event has no id.")
    handler = HANDLERS.get(kind)
    obj = (event.get("data") or {}).get("object") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, type=kind)
        except IntegrityError:
            return "replay: already handled"
        outcome = handler(obj) if handler else "ignored: not an event the portal acts on"
        StripeEvent.objects.filter(event_id=event_id).update(outcome=outcome[:255])
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
    """A card was removed at Stripe: profiles that kept it forget it, unless Stripe says it
    is attached to their customer again."""
    payment_method_id = payment_method.get("id", "")
    profiles = list(BillingProfile.objects.filter(stripe_payment_method_id=payment_method_id))
    if not profiles:
        return "ignored: no profile has this card"
    try:
        attached_to = stripe_gateway.payment_method_card(payment_method_id).customer_id
    except stripe_gateway.StripeObjectMissing:
        attached_to = None
    forgotten = 0
    for profile in profiles:
        if attached_to and attached_to == profile.stripe_customer_id:
            continue
        billing_profile_card_forget(
            profile=profile,
            actor=STRIPE,
            reason="the card was removed at Stripe",
            payment_method_id=payment_method_id,
        )
        forgotten += 1
    return f"card forgotten on {forgotten} profile(s)"


def _on_customer_updated(customer: dict) -> str:
    """The customer's default card changed at Stripe: the profile follows it."""
    profile = _profile_of_customer(customer.get("id"))
    if profile is None:
        return "ignored: no profile has this customer"
    try:
        default = stripe_gateway.customer_default_payment_method(profile.stripe_customer_id)
    except stripe_gateway.StripeObjectMissing:
        billing_profile_stripe_forget(profile=profile, actor=STRIPE)
        return f"customer gone; card forgotten on {profile.uuid}"
    if default == (profile.stripe_payment_method_id or None):
        return "ignored: the card on file is the default"
    if default is None:
        billing_profile_card_forget(
            profile=profile, actor=STRIPE, reason="the default card was removed at Stripe"
        )
        return f"card forgotten on {profile.uuid}"
    store_card(profile, stripe_gateway.payment_method_card(default), STRIPE, pay_by_card=False)
    return f"card updated on {profile.uuid}"


def _on_customer_deleted(customer: dict) -> str:
    """The customer was deleted at Stripe (and its cards with it), if Stripe agrees."""
    profile = _profile_of_customer(customer.get("id"))
    if profile is None:
        return "ignored: no profile has this customer"
    if stripe_gateway.customer_exists(profile.stripe_customer_id):
        return "ignored: Stripe still knows the customer"
    billing_profile_stripe_forget(profile=profile, actor=STRIPE)
    return f"customer gone; card forgotten on {profile.uuid}"


def _on_payment_intent(intent: dict) -> str:
    """A card charge's outcome (`payment_intent.succeeded`, `.payment_failed`), as Stripe
    has it now: settled on the invoice's attempt it names, or, for a payment made in the
    page, recorded as the invoice's payment. A task that settled it first wins; the other
    changes nothing."""
    try:
        outcome, facts = stripe_gateway.payment_intent_outcome(intent.get("id", ""))
    except stripe_gateway.StripeObjectMissing:
        return "ignored: Stripe doesn't know this payment"
    metadata = facts["metadata"]
    try:
        invoice = Invoice.objects.issued().get(uuid=metadata.get("invoice"))
    except (Invoice.DoesNotExist, ValidationError):
        return "ignored: the payment names no invoice of the portal"
    if facts["currency"] != invoice.currency:
        return f"ignored: the payment is in {facts['currency']}, {invoice} in {invoice.currency}"
    number = metadata.get("attempt", "")
    attempt = CardChargeAttempt.objects.filter(
        invoice=invoice, number=int(number) if number.isdigit() else 0
    ).first()
    if attempt is not None:
        settled = card_charge_settle(attempt.pk, outcome)
        return f"charge {attempt.number} of {invoice}: {settled.status}"
    if not outcome.succeeded:
        return f"payment on {invoice}: {outcome.status}"
    problem = card_payment_record(
        invoice=invoice, amount=facts["amount"], payment_intent_id=outcome.id
    )
    return f"payment on {invoice}: {problem or 'recorded'}"


def _on_charge_refunded(charge: dict) -> str:
    """A charge was refunded: the refunds of it that are the portal's are settled, as
    Stripe has them now."""
    settled = refunds_reconcile(charge.get("id", ""))
    return f"{settled} refund(s) settled" if settled else "ignored: no refund of ours waits"


HANDLERS = {
    "charge.refunded": _on_charge_refunded,
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "setup_intent.succeeded": _on_setup_intent_succeeded,
    "payment_method.detached": _on_payment_method_detached,
    "customer.updated": _on_customer_updated,
    "customer.deleted": _on_customer_deleted,
}
