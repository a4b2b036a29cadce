"""Billing fixtures: profiles of the personas' tenant, and the browser's half of a card setup.

Stripe is the local Stripe server (scripts/localstripe) the test run starts; nothing here
stands in for it.
"""

import hashlib
import hmac
import json
import time

import pytest
import requests
from django.conf import settings

from billing.models import ProfileRole
from tests.factories import BillingProfileFactory, BillingProfileRoleFactory

VISA = "4242424242424242"
DECLINED = "4000000000000002"
DECLINES_CHARGES = "4000000000000341"  # attaches, then every charge is declined


@pytest.fixture
def profile(tenant):
    """Contoso's default profile, paying by check/wire."""
    return BillingProfileFactory(tenant=tenant, name="Contoso HQ", is_default=True)


@pytest.fixture
def invoice_manager(tenant, member, profile):
    """The `member` persona (finance staff), invoice manager of `profile` only."""
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.INVOICE_MANAGER)
    return member


def confirm_card_in_browser(client_secret: str, number: str = VISA) -> dict:
    """What Stripe.js's confirmCardSetup does with the Card Element's values: confirm the
    SetupIntent with the publishable key. The JSON body Stripe answered (an `error` on a
    declined card)."""
    setup_intent_id = client_secret.split("_secret_")[0]
    response = requests.post(
        f"{settings.STRIPE_API_BASE}/v1/setup_intents/{setup_intent_id}/confirm",
        json={
            "key": settings.STRIPE_PUBLISHABLE_KEY,
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123"},
            },
        },
        timeout=10,
    )
    return response.json()


def card_profile(tenant, number: str = VISA, **fields):
    """A profile of `tenant` paying by a card saved as the card form saves one (a SetupIntent
    the browser confirms, read back from Stripe); invoices e-mailed to ap@contoso.example."""
    from billing.models import PaymentMethod
    from billing.services import billing_profile_card_confirm, billing_profile_card_setup
    from portal.audit import Actor

    profile = BillingProfileFactory(tenant=tenant, invoice_emails=["ap@contoso.example"], **fields)
    setup = billing_profile_card_setup(profile=profile, actor=Actor.system())
    confirm_card_in_browser(setup.client_secret, number)
    billing_profile_card_confirm(
        profile=profile,
        setup_intent_id=setup.client_secret.split("_secret_")[0],
        actor=Actor.system(),
    )
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CARD and profile.has_card
    return profile


def signed(event: dict, secret: str | None = None, timestamp: int | None = None):
    """The body and `Stripe-Signature` header Stripe would send for the event (a dict, or
    a body of any shape, as text)."""
    body = event if isinstance(event, str) else json.dumps(event)
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = settings.STRIPE_WEBHOOK_SECRET if secret is None else secret
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return body, f"t={timestamp},v1={mac.hexdigest()}"
