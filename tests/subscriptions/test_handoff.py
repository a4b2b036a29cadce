"""Manage in publisher's portal: the hand-off makes a fresh marketplace token (random,
stored hashed, 24 hours, bound to one subscription and its publisher) and sends the admin
to the publisher's landing page with it; who may, what a GET does, the browser's rules."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from portal.audit import Actor
from portal.models import AuditEvent
from subscriptions import services
from subscriptions.models import MarketplaceToken
from subscriptions.models.marketplace_token import token_hash
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher():
    return PublisherFactory(
        name="Quillfeather Labs", landing_page_url="https://quill.example/activate?ref=mkt"
    )


@pytest.fixture
def sub(tenant, publisher):
    plan = PlanFactory(app=AppFactory(name="Ledger Pro", publisher=publisher))
    return SubscriptionFactory(billing_profile=BillingProfileFactory(tenant=tenant), plan=plan)


def handoff_url(sub):
    return f"/t/{sub.tenant.slug}/billing/products/apps/{sub.uuid}/publisher-portal/"


def token_of(response) -> str:
    [token] = parse_qs(urlsplit(response["Location"]).query)["token"]
    return token


def test_the_button_sends_the_admin_to_the_landing_page_with_a_fresh_token(
    login, admin, sub, publisher
):
    client = login(admin)
    response = client.post(handoff_url(sub))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "quill.example",
        "/activate",
    )
    assert parse_qs(location.query)["ref"] == ["mkt"]  # the landing page's own query kept
    token = token_of(response)
    record = MarketplaceToken.objects.get()
    assert record.token_hash == token_hash(token) and token not in record.token_hash
    assert (record.subscription, record.publisher, record.created_by) == (sub, publisher, admin)
    assert record.expires_at - record.created_at == datetime.timedelta(hours=24)
    assert services.subscription_for_marketplace_token(token, publisher=publisher) == sub
    again = token_of(client.post(handoff_url(sub)))
    assert again != token and MarketplaceToken.objects.count() == 2  # each click, a new one
    event = AuditEvent.objects.filter(verb="subscription.handoff").first()
    assert event.data == {"publisher": "Quillfeather Labs"} and token not in str(event.data)


def test_a_token_is_only_its_publishers_and_only_for_24_hours(login, admin, sub, publisher):
    token = token_of(login(admin).post(handoff_url(sub)))
    other = PublisherFactory()
    assert services.subscription_for_marketplace_token(token, publisher=other) is None
    later = timezone.now() + datetime.timedelta(hours=24, seconds=1)
    assert (
        services.subscription_for_marketplace_token(token, publisher=publisher, now=later) is None
    )
    assert services.subscription_for_marketplace_token("forged", publisher=publisher) is None


def test_a_get_shows_the_button_and_makes_no_token(login, admin, sub):
    page = login(admin).get(handoff_url(sub))
    assert page.status_code == 200
    assert "Set up account now" in page.content.decode()
    assert not MarketplaceToken.objects.exists()


def test_who_may_not_manage_gets_no_token_by_page_or_crafted_post(login, reader, admin, sub):
    client = login(reader)
    assert client.post(handoff_url(sub)).status_code == 403
    page = client.get(f"/t/contoso/billing/products/apps/{sub.uuid}/").content.decode()
    assert 'aria-disabled="true">Manage in publisher\'s portal' in page
    services.subscription_cancel(subscription=sub, actor=Actor.system("ops"))
    refused = login(admin).post(handoff_url(sub))
    assert refused.status_code == 403
    assert "A disabled app can" in refused.content.decode()
    detail = login(admin).get(f"/t/contoso/billing/products/apps/{sub.uuid}/").content.decode()
    assert "Manage in publisher's portal" not in detail
    assert not MarketplaceToken.objects.exists()


def test_the_pages_with_the_button_let_its_form_lead_to_the_publisher(login, admin, sub):
    client = login(admin)
    for path in ("", "bought/", "publisher-portal/"):
        response = client.get(f"/t/contoso/billing/products/apps/{sub.uuid}/{path}")
        policy = response["Content-Security-Policy"]
        assert "form-action 'self' https://quill.example" in policy, path
    other = client.get("/t/contoso/billing/products/apps/")
    assert "form-action 'self';" in other["Content-Security-Policy"] + ";"


def test_the_purchase_email_has_the_set_up_link(
    login, admin, tenant, publisher, mailoutbox, django_capture_on_commit_callbacks
):
    import uuid as uuid_module

    plan = PlanFactory(app=AppFactory(name="Ledger Pro", publisher=publisher), prices={"USD": 900})
    profile = BillingProfileFactory(tenant=tenant, is_default=True)
    with django_capture_on_commit_callbacks(execute=True):
        login(admin).post(
            f"/t/contoso/billing/products/buy/{plan.uuid}/",
            {
                "quantity": 5,
                "billing_profile": profile.uuid,
                "agree": "on",
                "purchase_key": uuid_module.uuid4(),
            },
        )
    [email] = mailoutbox
    sub = plan.subscriptions.get()
    assert f"http://testserver{handoff_url(sub)}" in email.body
    assert "Set up account now" in email.body
    assert not MarketplaceToken.objects.exists()  # the e-mail's link makes none


def test_the_daily_purge_deletes_only_expired_tokens(sub):
    from subscriptions import tasks

    day_ago = timezone.now() - datetime.timedelta(hours=25)
    for _ in range(5):
        services.marketplace_token_issue(subscription=sub, actor=Actor.system(), now=day_ago)
    fresh = services.marketplace_token_issue(subscription=sub, actor=Actor.system())
    assert services.marketplace_tokens_purge(batch=2) == 5  # in three batches
    assert list(MarketplaceToken.objects.values_list("token_hash", flat=True)) == [
        token_hash(fresh)
    ]
    assert services.subscription_for_marketplace_token(fresh, publisher=sub.plan.app.publisher)
    assert tasks.purge_marketplace_tokens.delay().get() == 0
