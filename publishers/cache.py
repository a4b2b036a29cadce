"""What the Marketplace reads on every page, cached until the catalog changes.

Counting the apps a tenant may buy touches every priced plan, the one costly part of a
Marketplace page; which private plans a tenant is invited to is asked by every catalog
query. Both are kept in the cache under the catalog's version, which any save or delete of
a publisher, app, plan, price or private-plan tenant list moves on when it commits
(publishers.apps connects the signals; `CatalogQuerySet` covers the bulk writes that send
none), so nothing read from here is stale: after a change, the next request asks the
database again. Production points CACHE_URL at Redis so that every web process sees the
same version.
"""

import hashlib
import time

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.utils.functional import cached_property

VERSION_KEY = "catalog:version"
TIMEOUT = 3600


def _new_version() -> int:
    # Never a number used before, so a version the cache evicted cannot come back and
    # revive what was kept under it.
    return time.time_ns()


def catalog_version() -> int:
    return cache.get_or_set(VERSION_KEY, _new_version, timeout=None)


def catalog_changed(**kwargs) -> None:
    """Everything cached here belongs to an older catalog once the change commits.

    The receiver of the catalog models' signals, and called by their QuerySets' bulk writes
    (`CatalogQuerySet`), which send none. Moving the version before the commit would let a
    request in between cache the old catalog under the new version; so it moves on commit
    (at once outside a transaction), and not at all if the change rolls back.
    """
    transaction.on_commit(_move_version, robust=True)


def _move_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or evicted): start a new one
        cache.set(VERSION_KEY, _new_version(), timeout=None)


def invited_plan_ids(tenant) -> list[int]:
    """The private plans meant for this tenant."""
    from .models import Plan

    def ask():
        through = Plan.allowed_tenants.through.objects.filter(tenant=tenant)
        return sorted(through.values_list("plan_id", flat=True))

    key = f"catalog:invited:{catalog_version()}:{tenant.pk}"
    return cache.get_or_set(key, ask, timeout=TIMEOUT)


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
