"""Fixed-window rate limits kept in the cache (Redis in production, so every process counts
together): `too_many(key, limit, window)` counts a request and says how long to wait;
`blocked` only looks. Keys are hashed, so any text may name one."""

import hashlib
import math
import time

from django.core.cache import cache


def _bucket(key: str, window: int, now: float) -> str:
    return f"ratelimit:{hashlib.sha256(key.encode()).hexdigest()}:{int(now // window)}"


def _wait(window: int, now: float) -> int:
    return max(1, math.ceil(window - now % window))


def blocked(key: str, *, limit: int, window: int) -> int:
    """Whether `key` has used up this window already (without counting a request): 0, or
    the seconds until the window ends."""
    now = time.time()
    return _wait(window, now) if (cache.get(_bucket(key, window, now)) or 0) >= limit else 0


def too_many(key: str, *, limit: int, window: int) -> int:
    """Count one request against `key`; 0 while at most `limit` were made in this window of
    `window` seconds, else the seconds until the window ends (for Retry-After)."""
    now = time.time()
    bucket = _bucket(key, window, now)
    cache.add(bucket, 0, timeout=window + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr: this request opens the window
        cache.set(bucket, 1, timeout=window + 1)
        count = 1
    return 0 if count <= limit else _wait(window, now)
