"""The hand-off to the publisher's portal ("Manage in publisher's portal"): a fresh
marketplace token for the subscription, and the landing page URL that carries it."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from portal.audit import Actor, audit_record

from ..models import MarketplaceToken, Subscription
from ..models.marketplace_token import LIFETIME, new_marketplace_token, token_hash

PURGE_BATCH = 5_000


def marketplace_tokens_purge(*, now=None, batch: int = PURGE_BATCH) -> int:
    """Delete the marketplace tokens that expired (they resolve to nothing any more), a
    batch at a time so no delete holds many rows; how many went. Daily, by Celery beat."""
    now = now or timezone.now()
    gone = 0
    while True:
        ids = list(
            MarketplaceToken.objects.filter(expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return gone
        gone += MarketplaceToken.objects.filter(pk__in=ids).delete()[0]


def marketplace_token_create(*, subscription: Subscription, now, user=None) -> str:
    """A new marketplace token bound to the subscription and its app's publisher, valid 24
    hours; the token itself (only its hash is kept)."""
    token = new_marketplace_token()
    MarketplaceToken.objects.create(
        subscription=subscription,
        publisher=subscription.plan.app.publisher,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + LIFETIME,
        created_by=user,
    )
    return token


def marketplace_token_issue(*, subscription: Subscription, actor: Actor, now=None) -> str:
    """`marketplace_token_create` for a person sent to the publisher's portal: audited
    (without the token)."""
    now = now or timezone.now()
    publisher = subscription.plan.app.publisher
    with transaction.atomic():
        token = marketplace_token_create(subscription=subscription, now=now, user=actor.user)
        audit_record(
            tenant=subscription.tenant,
            actor=actor,
            verb="subscription.handoff",
            target=subscription,
            data={"publisher": publisher.name},
            at=now,
        )
    return token


def landing_url(subscription: Subscription, token: str) -> str:
    """The publisher's landing page with `token=<url-encoded token>` added to its query."""
    parts = urlsplit(subscription.plan.app.publisher.landing_page_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("token", token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def subscription_for_marketplace_token(token: str, *, publisher, now=None) -> Subscription | None:
    """The subscription a marketplace token was issued for, when it is `publisher`'s and not
    yet 24 hours old; else None."""
    found = (
        MarketplaceToken.objects.usable(now or timezone.now())
        .filter(token_hash=token_hash(token), publisher=publisher)
        .select_related("subscription")
        .first()
    )
    return found.subscription if found else None
