"""The caller's IP address, for the login throttle and the audit log alike."""

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the first one saw.

    Each proxy appends the address it received from to X-Forwarded-For, so with N trusted
    proxies the caller is the Nth entry from the right; anything further left is the
    caller's own claim and is not trusted.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None
