"""Marketplace result counts, cached until the catalog changes.

Counting the apps a tenant may buy touches every priced plan, the one costly part of a
Marketplace page. The count of a given search is kept in the cache under the catalog's
version, which any save or delete of a publisher, app, plan, price or private-plan tenant
list moves on (publishers.apps connects the signals), so a count is never stale: after a
change, the next request counts again. Production points CACHE_URL at Redis so that every
web process sees the same version.
"""

import hashlib

from django.core.cache import cache
from django.core.paginator import Paginator
from django.utils.functional import cached_property

VERSION_KEY = "catalog:version"
TIMEOUT = 3600


def catalog_version() -> int:
    return cache.get_or_set(VERSION_KEY, 1, timeout=None)


def catalog_changed(**kwargs) -> None:
    """Signal receiver: every cached count belongs to an older catalog from now on."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or evicted): start one
        cache.set(VERSION_KEY, 1, timeout=None)


class CachedCountPaginator(Paginator):
    """A Paginator whose count is cached per catalog version and `key` (what was asked)."""

    def __init__(self, object_list, per_page, *, key: str, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.key = key

    @cached_property
    def count(self):
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        key = f"marketplace:count:{catalog_version()}:{digest}"
        return cache.get_or_set(key, lambda: self.object_list.count(), timeout=TIMEOUT)
