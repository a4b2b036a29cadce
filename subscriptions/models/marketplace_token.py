"""Marketplace tokens: what "Manage in publisher's portal" hands to the publisher's landing
page (`?token=`), which the publisher resolves through the Fulfillment API.

Random, shown only in that redirect and stored as its SHA-256; valid 24 hours; bound to one
subscription and to the publisher of its app at the time, so another publisher's resolve of
it fails. Each click makes a fresh one.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .subscription import Subscription

LIFETIME = datetime.timedelta(hours=24)


def new_marketplace_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MarketplaceTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        return self.filter(expires_at__gt=now or timezone.now())


class MarketplaceToken(models.Model):
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="marketplace_tokens"
    )
    publisher = models.ForeignKey(
        "publishers.Publisher", on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MarketplaceTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [models.Index(fields=["expires_at"], name="marketplace_token_expiry")]

    def __str__(self):
        return f"Marketplace token for {self.subscription_id}"
