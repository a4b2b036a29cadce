"""Cards through the local Stripe server: the SetupIntent the page creates, the browser's
confirmation (as Stripe.js makes it), and the outcome the server reads back."""

import socket
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from billing import stripe_gateway
from billing.models import PaymentMethod
from portal.models import AuditEvent

from .conftest import DECLINED, VISA, confirm_card_in_browser


def card_url(profile):
    return reverse("billing:card", args=[profile.tenant.slug, profile.uuid])


def payment_url(profile):
    return reverse("billing:payment", args=[profile.tenant.slug, profile.uuid])


def add_card(client, profile, number=VISA):
    """Open the card page, confirm its SetupIntent as the browser would, post the result."""
    page = client.get(card_url(profile))
    assert page.status_code == 200, page.content
    secret = page.context["setup"].client_secret
    assert f'data-client-secret="{secret}"' in page.content.decode()
    confirmed = confirm_card_in_browser(secret, number)
    setup_intent = secret.split("_secret_")[0]
    return confirmed, client.post(card_url(profile), {"setup_intent": setup_intent})


def test_a_billing_admin_adds_a_card(login, billing_admin, profile):
    confirmed, response = add_card(login(billing_admin), profile)
    assert confirmed["status"] == "succeeded"
    assert response.status_code == 302
    assert response["Location"] == payment_url(profile)
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CARD
    assert (profile.card_brand, profile.card_last4) == ("visa", "4242")
    assert (profile.card_exp_month, profile.card_exp_year) == (12, 2031)
    # The card is the customer's default at Stripe, attached to the profile's customer.
    card = stripe_gateway.payment_method_card(profile.stripe_payment_method_id)
    assert card.customer_id == profile.stripe_customer_id
    customer_default = stripe_gateway.customer_default_payment_method(profile.stripe_customer_id)
    assert customer_default == profile.stripe_payment_method_id
    event = AuditEvent.objects.get(verb="billing_profile.card_set")
    assert event.data["card"] == "Visa ending 4242"
    page = login(billing_admin).get(payment_url(profile))
    assert "Visa ending 4242" in page.content.decode()


def test_a_declined_card_shows_stripes_message_and_changes_nothing(login, billing_admin, profile):
    confirmed, response = add_card(login(billing_admin), profile, DECLINED)
    assert confirmed["error"]["message"] == "Your card was declined."  # what the page shows
    assert response.status_code == 422
    assert "The card was not saved" in response.content.decode()
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CHECK_WIRE and not profile.has_card
    assert not AuditEvent.objects.filter(verb="billing_profile.card_set").exists()


def test_a_setup_intent_of_another_profile_is_refused(login, billing_admin, profile, tenant):
    from tests.factories import BillingProfileFactory

    other = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    client = login(billing_admin)
    secret = client.get(card_url(other)).context["setup"].client_secret
    confirm_card_in_browser(secret)
    client.get(card_url(profile))  # the profile has a Stripe customer of its own
    response = client.post(card_url(profile), {"setup_intent": secret.split("_secret_")[0]})
    assert response.status_code == 422
    assert "not for this billing profile" in response.content.decode()
    profile.refresh_from_db()
    assert not profile.has_card


def test_a_new_card_replaces_the_old_one_which_leaves_stripe(login, billing_admin, profile):
    client = login(billing_admin)
    add_card(client, profile)
    profile.refresh_from_db()
    old = profile.stripe_payment_method_id
    add_card(client, profile, "5555555555554444")
    profile.refresh_from_db()
    assert profile.card_last4 == "4444"
    assert stripe_gateway.payment_method_card(old).customer_id is None  # detached


def test_switching_between_check_wire_and_the_card_on_file(login, billing_admin, profile):
    client = login(billing_admin)
    add_card(client, profile)
    to_wire = client.post(
        reverse("billing:payment_method", args=[profile.tenant.slug, profile.uuid]),
        {"method": "check_wire"},
        follow=True,
    )
    assert "now pays by check or wire transfer" in to_wire.content.decode()
    assert "GB33BUKB20201555555555" in to_wire.content.decode()  # the remittance details
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CHECK_WIRE and profile.has_card
    client.post(
        reverse("billing:payment_method", args=[profile.tenant.slug, profile.uuid]),
        {"method": "card"},
    )
    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CARD
    verbs = AuditEvent.objects.filter(verb="billing_profile.payment_method")
    assert [e.data["to"] for e in verbs.order_by("id")] == ["check_wire", "card"]


def test_a_payment_page_facing_unknown_stripe_ids_asks_for_the_card_again(
    login, billing_admin, reader, profile
):
    """The local Stripe server's state can be lost under us (a restart, another run)."""
    client = login(billing_admin)
    add_card(client, profile)
    profile.refresh_from_db()
    stripe_gateway.customer_delete(profile.stripe_customer_id)  # Stripe forgets everything
    page = client.get(payment_url(profile))
    assert page.status_code == 200
    assert "Stripe no longer knows Visa ending 4242" in page.content.decode()
    assert "Add the card again" in page.content.decode()
    assert "Stripe no longer knows" not in login(reader).get(payment_url(profile)).content.decode()
    _, response = add_card(client, profile)  # a new customer, and the card again
    assert response.status_code == 302
    old_customer = profile.stripe_customer_id
    profile.refresh_from_db()
    assert profile.card_last4 == "4242" and profile.stripe_customer_id != old_customer
    assert "Stripe no longer knows" not in client.get(payment_url(profile)).content.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_when_stripe_is_unreachable_the_page_says_so_and_nothing_changes(
    login, billing_admin, profile, settings
):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed_port()}"
    client = login(billing_admin)
    page = client.get(card_url(profile))
    assert page.status_code == 503
    assert "could not be reached, so nothing was changed" in page.content.decode()
    posted = client.post(card_url(profile), {"setup_intent": "seti_123"})
    assert "could not be reached" in posted.content.decode()
    profile.refresh_from_db()
    assert not profile.stripe_customer_id and not profile.has_card
    assert not AuditEvent.objects.filter(verb__startswith="billing_profile.card").exists()


def test_without_stripe_keys_the_card_page_says_cards_are_not_set_up(
    login, billing_admin, profile, settings
):
    settings.STRIPE_SECRET_KEY = ""
    page = login(billing_admin).get(card_url(profile))
    assert "Card payments are not set up on this portal yet." in page.content.decode()


def test_the_card_page_alone_lets_stripe_js_in(login, billing_admin, profile, settings):
    stripe_js = "{0.scheme}://{0.netloc}".format(urlsplit(settings.STRIPE_JS_URL))
    client = login(billing_admin)
    card_policy = client.get(card_url(profile))["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_js}" in card_policy
    other_policy = client.get(payment_url(profile))["Content-Security-Policy"]
    assert stripe_js not in other_policy


@pytest.mark.parametrize("posted", [{}, {"setup_intent": "pi_123"}, {"setup_intent": "x" * 300}])
def test_a_card_form_without_a_setup_intent_changes_nothing(login, billing_admin, profile, posted):
    response = login(billing_admin).post(card_url(profile), posted)
    assert response.status_code == 422
    assert "nothing was changed" in response.content.decode()
    profile.refresh_from_db()
    assert not profile.has_card
