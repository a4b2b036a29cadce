"""The sandbox publisher on the live server, as the tests that talk to it over real HTTP
set it up: Quillfeather Labs, played by the sandbox (its API secret, its webhook secret),
sending its webhooks to the sandbox's receiver; Contoso's active Ledger Pro of it."""

import pytest

from portal.audit import Actor
from publishers import services
from publishers.sandbox.models import SandboxPublisher
from subscriptions import services as subscription_services
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)

RECEIVER = "/sandbox-publisher/quillfeather/webhook/"


@pytest.fixture
def marketplace(live_server, settings):
    settings.SANDBOX_PUBLISHER_ENABLED = True
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


def sandbox_of(publisher, **fields):
    """The sandbox playing `publisher`: a working API secret, its webhook secret."""
    _, secret = services.publisher_secret_create(publisher=publisher, actor=Actor.system())
    return SandboxPublisher.objects.create(
        slug=publisher.slug,
        name=publisher.name,
        client_id=str(publisher.client_id),
        client_secret=secret,
        webhook_secret=publisher.webhook_secret,
        **fields,
    )


def switch(answer):
    """Set how the sandbox's receiver answers a change that waits for it."""
    SandboxPublisher.objects.filter(slug="quillfeather").update(answer=answer)


@pytest.fixture
def quill(marketplace):
    """Quillfeather Labs, sending its webhooks to the sandbox that plays it."""
    publisher = PublisherFactory(
        name="Quillfeather Labs", slug="quillfeather", webhook_url=f"{marketplace.url}{RECEIVER}"
    )
    sandbox_of(publisher)
    return publisher


@pytest.fixture
def ledger(quill, tenant, admin):
    """An active Ledger Pro of Contoso, 5 licenses on the Team plan at $9."""
    app = AppFactory(name="Ledger Pro", publisher=quill, offer_id="ledger-pro")
    team = PlanFactory(app=app, plan_id="team", name="Team", prices={"USD": 900})
    profile = BillingProfileFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(
        billing_profile=profile, plan=team, unit_amount=900, quantity=5, bought_by=admin
    )
    return subscription_services.subscription_activate(subscription=sub, actor=Actor.system())
