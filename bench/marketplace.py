"""Marketplace list speed with a large catalog: 2,000 apps, 8,000 plans.

Runs against PostgreSQL in a database of its own (test_<name of DATABASE_URL's database>,
created and dropped here), through Django's full request handling (middleware, session,
template), and prints the median and 95th-percentile server time of 200 requests (a page of
24, with search) and the number of queries each made. Figures vary with the machine's load:
run it on a quiet machine, more than once.

    .venv/bin/python bench/marketplace.py    # PostgreSQL at 127.0.0.1:5432 by default
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ["DEBUG"] = "false"
os.environ["PORTAL_BASE_URL"] = "http://testserver"

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

APPS, PLANS_PER_APP, REQUESTS = 2_000, 4, 200
CURRENCIES = ["USD", "CAD", "EUR", "GBP", "AUD", "ZAR"]
SEARCHES = ["", "pro", "cloud", "team", "ledger", "sync", "desk", "flow"]


def load_catalog():
    from portal.models import Membership, Role, Tenant, User
    from publishers.models import App, Category, Plan, Price, PricingModel, Publisher, Term

    tenant = Tenant.objects.create(name="Bench", slug="bench", country="DE")
    user = User.objects.create_user("bench@bench.example", "bench-password-1")
    Membership.objects.create(user=user, tenant=tenant, role=Role.ADMIN)
    publishers = Publisher.objects.bulk_create(
        Publisher(
            name=f"Publisher {i}",
            slug=f"publisher-{i}",
            legal_name=f"Publisher {i} Ltd.",
            address_line1="1 Road",
            city="Town",
            country="GB",
            support_url="https://p.example/",
            support_email="s@p.example",
            landing_page_url="https://p.example/go",
            webhook_secret=f"whsec_bench{i}",
        )
        for i in range(100)
    )
    words = ["Cloud", "Team", "Ledger", "Sync", "Desk", "Flow", "Pro", "Hub", "Vault", "Pulse"]
    categories = list(Category.values)
    apps = App.objects.bulk_create(
        App(
            publisher=publishers[i % len(publishers)],
            offer_id=f"offer-{i}",
            name=f"{words[i % 10]} {words[(i // 10) % 10]} {i}",
            summary="Summary.",
            description="Description.",
            category=categories[i % len(categories)],
            pricing_model=PricingModel.PER_SEAT if i % 2 else PricingModel.FLAT_RATE,
            is_published=i % 20 != 0,
        )
        for i in range(APPS)
    )
    plans = Plan.objects.bulk_create(
        Plan(
            app=app,
            plan_id=f"plan-{j}",
            name=f"Plan {j}",
            term=Term.MONTHLY if j % 2 else Term.ANNUAL,
            pricing_model=app.pricing_model,
            min_quantity=1 if app.is_per_seat else None,
            max_quantity=100 if app.is_per_seat else None,
            is_stop_sell=j == 3 and app.pk % 7 == 0,
        )
        for app in apps
        for j in range(PLANS_PER_APP)
    )
    Price.objects.bulk_create(
        Price(plan=plan, currency=currency, amount=100 + (plan.pk * 37 + k) % 9000)
        for plan in plans
        for k, currency in enumerate(CURRENCIES)
        if not (currency == "EUR" and plan.pk % 5 == 0)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user


def main():
    # No setup_test_environment(): its instrumented template rendering would be measured too.

    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    test_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        settings.STORAGES = {  # static URLs without a collectstatic manifest
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        started = time.perf_counter()
        user = load_catalog()
        print(
            f"loaded {APPS} apps, {APPS * PLANS_PER_APP} plans into {test_name} "
            f"in {time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(user)
        queries = []

        def count(execute, sql, params, many, context):
            queries[-1] += 1
            return execute(sql, params, many, context)

        def measure(*, cold):
            """Median, p95 and max ms of REQUESTS requests, and the query counts seen.
            cold: the cache is emptied before each request, so every count is counted."""
            timings, seen = [], set()
            with connection.execute_wrapper(count):
                for i in range(REQUESTS + 20):
                    query = {"q": SEARCHES[i % len(SEARCHES)]}
                    if i % 3 == 0:
                        query["page"] = 2
                    if cold:
                        cache.clear()
                    queries.append(0)
                    begin = time.perf_counter()
                    response = client.get("/t/bench/marketplace/", query)
                    elapsed = time.perf_counter() - begin
                    assert response.status_code == 200, response.status_code
                    if i >= 20:  # the first requests warm connections and caches
                        timings.append(elapsed * 1000)
                        seen.add(queries[-1])
            timings.sort()
            return (
                statistics.median(timings),
                timings[int(len(timings) * 0.95) - 1],
                timings[-1],
                sorted(seen),
            )

        print(f"marketplace list, page of 24 with search, {REQUESTS} requests:")
        for label, cold in [("counts cached (as in use)", False), ("every count counted", True)]:
            median, p95, worst, seen = measure(cold=cold)
            print(
                f"  {label}: median {median:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms, "
                f"queries per request {seen}"
            )
            if not cold:
                verdict = "met" if median < 30 else "NOT met"
        print(f"  target median < 30 ms with a fixed number of queries: {verdict}")
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
