"""Fixed-window rate limits kept in the cache (Redis in production, so every process counts
together): `too_many(key, limit, window)` counts a request and says how long to wait."""

import math
import time

from django.core.cache import cache


def too_many(key: str, *, limit: int, window: int) -> int:
    """Count one request against `key`; 0 while at most `limit` were made in this window of
    `window` seconds, else the seconds until the window ends (for Retry-After)."""
    now = time.time()
    bucket = f"ratelimit:{key}:{int(now // window)}"
    cache.add(bucket, 0, timeout=window + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr: this request opens the window
        cache.set(bucket, 1, timeout=window + 1)
        count = 1
    if count <= limit:
        return 0
    return max(1, math.ceil(window - now % window))
