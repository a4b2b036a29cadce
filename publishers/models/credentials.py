"""Publishers' API credentials: one client id per publisher (`Publisher.client_id`) and its
secrets, several at once so a publisher can rotate them.

A secret is shown once, when it is made, and stored as its SHA-256: it is 256 random bits,
so a slow password hash would add nothing but time to every token request. A secret stops
working when it expires or is revoked, and so do the access tokens issued with it
(`publishers.credentials`).
"""

import datetime
import hashlib
import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .catalog import Publisher

SECRET_PREFIX = "pss_"
DEFAULT_LIFETIME = datetime.timedelta(days=365)
WARN_DAYS = (30, 7, 1)  # the publisher's contacts hear this many days before expiry


def new_client_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class PublisherSecretQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class PublisherSecret(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="secrets")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=8, editable=False, help_text="The secret's last characters, to tell it apart."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The WARN_DAYS points whose warning went out (each once).
    warned = models.JSONField(default=list, blank=True, editable=False)

    objects = PublisherSecretQuerySet.as_manager()

    class Meta:
        ordering = ["publisher", "-created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="publisher_secret_expires_after_creation",
            ),
        ]

    def __str__(self):
        return f"{self.publisher} secret …{self.hint}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"

    def days_left(self, now=None) -> int:
        """Whole days until it expires (0 on its last day, negative once expired)."""
        return (self.expires_at - (now or timezone.now())).days
