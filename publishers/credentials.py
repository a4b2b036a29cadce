"""Publishers' access tokens: what `POST /api/oauth2/token` issues for a client id and
secret, and what the API reads back from `Authorization: Bearer <token>`.

A token is signed, not stored: it names the secret it was issued with and its time, and is
good for an hour while that secret is neither revoked nor expired, so revoking a secret
stops its tokens at once. `signing` uses SECRET_KEY with a salt of this use's own.
"""

from django.core import signing
from django.utils import timezone

from .models import Publisher, PublisherSecret

TOKEN_LIFETIME = 3600  # seconds, as the marketplace's tokens
_SALT = "publishers.api-token"


def token_for(secret: PublisherSecret) -> str:
    return signing.dumps({"s": secret.pk}, salt=_SALT, compress=False)


def publisher_for_token(token: str, now=None) -> Publisher | None:
    """The publisher a bearer token speaks for, or None (forged, older than an hour, or its
    secret revoked or expired since)."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=TOKEN_LIFETIME)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return None
    secret = (
        PublisherSecret.objects.usable(now or timezone.now())
        .select_related("publisher")
        .filter(pk=payload["s"], publisher__is_active=True)
        .first()
    )
    return secret.publisher if secret else None
