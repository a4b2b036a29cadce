"""The Marketplace's cache follows every catalog write, and a request reads its version once.

The version moves on commit, so these tests commit for real (transactional_db)."""

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction

from portal.models import Role
from publishers import cache as catalog_cache
from publishers.models import App, Plan, Price, Publisher
from tests.factories import AppFactory, MembershipFactory, PlanFactory, TenantFactory

from .test_load_catalog import catalog

KOALA = "/t/koala/marketplace/"


@pytest.fixture
def koala(transactional_db, login):
    """A reader of an Australian tenant (AUD), signed in."""
    australia = TenantFactory(slug="koala", country="AU")
    return login(MembershipFactory(tenant=australia, role=Role.READER).user)


def names(response):
    return [app.name for app in response.context["page"]]


def test_a_load_that_only_adds_a_price_shows_the_app_to_that_currencys_tenants(
    koala, tenant, tmp_path, capsys
):
    path = tmp_path / "catalog.json"
    data = catalog()
    path.write_text(json.dumps(data, indent=2))
    call_command("load_catalog", str(path))
    assert names(koala.get(KOALA)) == []  # no AUD price: nothing, and the cache is warm
    assert names(koala.get(KOALA)) == []
    plan = data["publishers"][0]["apps"][0]["plans"][0]
    plan["prices"]["AUD"] = 600  # the only change: one price added to an existing plan
    path.write_text(json.dumps(data, indent=2))
    call_command("load_catalog", str(path))
    assert "0 changed" in capsys.readouterr().out  # nothing but the new price was written
    assert names(koala.get(KOALA)) == ["Quillfeather Notes"]


def bulk_create_price(plan):
    Price.objects.bulk_create([Price(plan=plan, currency="AUD", amount=600)])


def update_prices(plan):
    Price.objects.create(plan=plan, currency="AUD", amount=600)  # a version move
    Price.objects.filter(plan=plan, currency="AUD").update(amount=700)


def bulk_update_plan(plan):
    plan.is_stop_sell = True
    Plan.objects.bulk_update([plan], ["is_stop_sell"])


def delete_by_queryset(plan):
    Price.objects.filter(plan=plan).delete()


def update_app(plan):
    App.objects.filter(pk=plan.app_id).update(is_published=False)


def update_publisher(plan):
    Publisher.objects.filter(apps__plans=plan).update(is_active=False)


@pytest.mark.parametrize(
    "write",
    [
        bulk_create_price,
        update_prices,
        bulk_update_plan,
        delete_by_queryset,
        update_app,
        update_publisher,
    ],
)
def test_bulk_writes_move_the_version_on_once_on_commit(transactional_db, write):
    plan = PlanFactory(app=AppFactory(), prices={"USD": 400})
    before = catalog_cache.catalog_version()
    with transaction.atomic():
        write(plan)
        assert catalog_cache.catalog_version() == before  # not before the commit
    # once per transaction however many writes: a counter moved by one
    assert catalog_cache.catalog_version() == before + 1


def test_a_rolled_back_write_keeps_the_version(transactional_db):
    plan = PlanFactory(app=AppFactory(), prices={"USD": 400})
    before = catalog_cache.catalog_version()
    with transaction.atomic():
        try:
            with transaction.atomic():
                Price.objects.filter(plan=plan).update(amount=500)
                raise RuntimeError
        except RuntimeError:
            pass
        assert catalog_cache.catalog_version() == before
        Price.objects.filter(plan=plan).update(amount=600)  # a later write still counts
    assert catalog_cache.catalog_version() == before + 1


def test_a_marketplace_request_reads_the_catalog_version_once(koala, monkeypatch):
    PlanFactory(app=AppFactory(name="Everywhere"), prices={"AUD": 600})
    koala.get(KOALA)
    reads = []
    real = cache.get_or_set

    def counting_get_or_set(key, *args, **kwargs):
        reads.append(key)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get_or_set", counting_get_or_set)
    assert names(koala.get(KOALA)) == ["Everywhere"]
    assert reads.count(catalog_cache.VERSION_KEY) == 1
    reads.clear()
    koala.get(KOALA)  # the next request reads it again: the memo is per request
    assert reads.count(catalog_cache.VERSION_KEY) == 1
