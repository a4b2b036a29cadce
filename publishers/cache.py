"""What the Marketplace reads on every page, cached until the catalog changes.

Counting the apps a tenant may buy touches every priced plan, the one costly part of a
Marketplace page; which private plans a tenant is invited to is asked by every catalog
query. Both are kept in the cache under the catalog's version, which every catalog write moves on
when its transaction commits: saves, deletes and private-plan tenant lists through the
signals (publishers.apps connects them), bulk_create, bulk_update, queryset update and
delete through the catalog models' querysets (`CatalogQuerySet` in publishers.models), so
nothing read from here is stale: after a change, the next request asks the database again.
Production points CACHE_URL at Redis so that every web process sees the same version.

A request reads the version once: `request_started` opens a per-request memo that
`request_finished` closes (outside requests, in tasks and commands, each read asks the cache).
"""

import contextvars
import hashlib
import time

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.functional import cached_property

VERSION_KEY = "catalog:version"
TIMEOUT = 3600


def _new_version() -> int:
    # Never a number used before, so a version the cache evicted cannot come back and
    # revive what was kept under it.
    return time.time_ns()


# The version this request has read; None outside a request (nothing is memoised there).
_request_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "catalog_version_memo", default=None
)


def request_started(**kwargs) -> None:
    _request_memo.set({})


def request_finished(**kwargs) -> None:
    _request_memo.set(None)


def catalog_version() -> int:
    memo = _request_memo.get()
    if memo is not None and "version" in memo:
        return memo["version"]
    version = cache.get_or_set(VERSION_KEY, _new_version, timeout=None)
    if memo is not None:
        memo["version"] = version
    return version


def _move_version_on() -> None:
    """Everything cached here belongs to an older catalog from now on."""
    try:
        version = cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or evicted): start a new one
        version = _new_version()
        cache.set(VERSION_KEY, version, timeout=None)
    if (memo := _request_memo.get()) is not None:
        memo["version"] = version  # a request that wrote the catalog reads what it wrote


def release_changed(**kwargs) -> None:
    """After `migrate` (every deploy runs it): what the old code kept is not read again."""
    _move_version_on()


def catalog_changed(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The catalog was written: move the version on when the transaction commits (at once
    outside one), once per transaction however many rows it wrote. Signal receiver too."""
    pending = connections[using].run_on_commit
    if not any(callback is _move_version_on for _, callback, _ in pending):
        transaction.on_commit(_move_version_on, using=using)


def invited_plan_ids(tenant) -> list[int]:
    """The private plans meant for this tenant."""
    from .models import Plan

    def ask():
        through = Plan.allowed_tenants.through.objects.filter(tenant=tenant)
        return sorted(through.values_list("plan_id", flat=True))

    key = f"catalog:invited:{catalog_version()}:{tenant.pk}"
    return cache.get_or_set(key, ask, timeout=TIMEOUT)


def catalog_cached(name: str, compute):
    """`compute()`'s answer, kept under the catalog's version: asked again after any catalog
    write. `name` says everything the answer depends on besides the catalog (the tenant, say).
    None is never kept (the cache can't tell it from a miss), so "not found" asks again."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    key = f"catalog:kept:{catalog_version()}:{digest}"
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        if value is not None:  # so asking for made-up ids fills nothing
            cache.set(key, value, TIMEOUT)
    return value


_MISSING = object()


class CachedCountPaginator(Paginator):
    """A Paginator whose count is cached per catalog version and `key` (what was asked)."""

    def __init__(self, object_list, per_page, *, key: str, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.key = key

    @cached_property
    def count(self):
        return catalog_cached(f"count:{self.key}", self.object_list.count)
