"""Apps page speed: Billing > Your products > Apps for a tenant with 5,000 subscriptions.

The data: 200 tenants, one ("bench", in the US) with 5,000 subscriptions paid by 3 billing
profiles, the other 199 with 100 each and one profile in their country's currency, bought
from a catalog of 40 publishers, 400 apps and 800 plans priced in USD; the subscriptions in
every status (pending set-up, active, suspended, disabled). Everything is in PostgreSQL.

Both pages are served in this one process by Django WSGI handlers called directly (no HTTP
server, so what is timed is Django's work and the database's, from the WSGI call to the
body's last byte):

  - the Apps page (subscriptions.views.subscription_list) by the portal's own handler: its
    whole middleware stack, DEBUG off, the cached template loader (Django's default with
    DEBUG off), the cache and sessions in Redis database 9 (cached_db sessions, as production
    runs with a Redis cache), a signed-in tenant admin's session cookie; two views of it, 50
    rows each: `?status=active&sort=-renews` and `?q=cloud&sort=price`;
  - the ceiling: a bare Django handler with no middleware and an urlconf of its own (this
    module's), one SELECT of 50 of the tenant's subscriptions rendered in a plain table, as
    bench/ceiling.py's page is.

The requests interleave (ceiling, active view, search view, 200 rounds after 20 to warm
up), so whatever noise the machine makes hits all three. Printed: the median and p95
server time and the queries per request of each, and each view's throughput as a share of
the ceiling's (requests per second of one client in a loop: the ceiling's mean time over
the page's). The targets: p95 under 100 ms, and at least 0.35 of the ceiling's throughput.
Figures vary with the machine's load: run it on a quiet machine, more than once.

    .venv/bin/python bench/apps_page.py [--rounds 200] [--profile]

--profile then times 20 more requests of each view and prints where the time goes: SQL,
template rendering and the rest of Python, each query's SQL and time, and cProfile's view
of 20 requests (the functions by cumulative and by own time).

It uses a database of its own (portal_bench_apps on the PostgreSQL at 127.0.0.1:5432,
created here and dropped at the end) and Redis database 9 (emptied at the start).
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DB = "portal_bench_apps"
ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key",
    "DATABASE_URL": f"{PG}/{DB}",
    "CACHE_URL": "redis://127.0.0.1:6379/9",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "PORTAL_BASE_URL": "http://testserver",
    "ALLOWED_HOSTS": "testserver",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "STATIC_ROOT": tempfile.mkdtemp(prefix="bench-static-"),
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"

TENANTS, BIG, EACH = 200, 5_000, 100  # tenants; the big one's subscriptions; the others'
PUBLISHERS, APPS, PLANS_PER_APP = 40, 400, 2
WARMUP = 20
P95_TARGET_MS, RATIO_TARGET = 100, 0.35
VIEWS = {
    "Apps, active by renewal": "status=active&sort=-renews",
    "Apps, search by price": "q=cloud&sort=price",
}
COUNTRIES = ["US", "CA", "GB", "AU", "ZA", "DE", "FR"]
WORDS = ["Cloud", "Team", "Ledger", "Sync", "Desk", "Flow", "Pro", "Hub", "Vault", "Pulse"]


def create_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def drop_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def load_catalog():
    """Publishers, apps (half per license, half flat rate) and their plans, priced in USD."""
    from publishers.models import App, Category, Plan, Price, PricingModel, Publisher, Term

    publishers = Publisher.objects.bulk_create(
        Publisher(
            name=f"{WORDS[(i + 3) % 10]}works {i}",
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
        for i in range(PUBLISHERS)
    )
    categories = list(Category.values)
    apps = App.objects.bulk_create(
        App(
            publisher=publishers[i % PUBLISHERS],
            offer_id=f"offer-{i}",
            name=f"{WORDS[i % 10]} {WORDS[(i // 10) % 10]} {i}",
            summary="Summary.",
            description="Description.",
            category=categories[i % len(categories)],
            pricing_model=PricingModel.PER_SEAT if i % 2 else PricingModel.FLAT_RATE,
            is_published=True,
        )
        for i in range(APPS)
    )
    plans = Plan.objects.bulk_create(
        Plan(
            app=app,
            plan_id=f"plan-{j}",
            name=["Standard", "Enterprise"][j],
            term=Term.MONTHLY if j % 2 else Term.ANNUAL,
            pricing_model=app.pricing_model,
            min_quantity=1 if app.is_per_seat else None,
            max_quantity=10_000 if app.is_per_seat else None,
        )
        for app in apps
        for j in range(PLANS_PER_APP)
    )
    Price.objects.bulk_create(
        Price(plan=plan, currency="USD", amount=100 + (plan.pk * 37) % 9000) for plan in plans
    )
    return plans


def load_tenants():
    """The tenants, their billing profiles, and the big tenant's admin (who is returned)."""
    from billing.models import BillingProfile
    from portal.models import Membership, Role, Tenant, User
    from portal.regions import REGIONS

    countries = ["US"] + [COUNTRIES[i % len(COUNTRIES)] for i in range(1, TENANTS)]
    tenants = Tenant.objects.bulk_create(
        Tenant(name=f"Tenant {i}", slug="bench" if i == 0 else f"tenant-{i}", country=country)
        for i, country in enumerate(countries)
    )
    names = {0: ["Bench HQ", "Bench Research", "Bench Lab"]}
    BillingProfile.objects.bulk_create(
        BillingProfile(
            tenant=tenant,
            name=name,
            currency=REGIONS[tenant.country].currency.code,  # what save() would set
            contact_name="Casey Contact",
            email="ap@bench.example",
            phone="+1 555 0100",
            address_line1="1 Main Street",
            city="Springfield",
            postal_code="10115",
            country=tenant.country,
            invoice_emails=["ap@bench.example"],
            is_default=k == 0,
        )
        for i, tenant in enumerate(tenants)
        for k, name in enumerate(names.get(i, [f"Tenant {i} billing"]))
    )
    user = User.objects.create_user("bench@bench.example")
    Membership.objects.create(user=user, tenant=tenants[0], role=Role.ADMIN)
    return user


def load_subscriptions(plans, user):
    """BIG subscriptions for the big tenant, EACH for every other, in every status, each
    row as the model's CHECK constraints and composite keys want it."""
    from billing.models import BillingProfile
    from publishers.models import PricingModel
    from subscriptions.lifecycle import DisabledReason, Status
    from subscriptions.models import BoughtVia, Subscription

    rng = random.Random(42)
    profiles = {}
    for profile in BillingProfile.objects.order_by("pk"):
        profiles.setdefault(profile.tenant_id, []).append(profile)
    apps = {app.pk: app for app in {plan.app for plan in plans}}
    today = date.today()
    statuses = [Status.ACTIVE] * 6 + [Status.PENDING_ACTIVATION] * 2
    statuses += [Status.SUSPENDED, Status.DISABLED, Status.DISABLED]
    reasons = list(DisabledReason.values)

    def subscription(tenant_id, profile, n, bought_by):
        plan = plans[rng.randrange(len(plans))]
        status = statuses[n % len(statuses)]
        per_seat = plan.pricing_model == PricingModel.PER_SEAT
        quantity = rng.randint(1, 500) if per_seat else None
        activated = datetime.now(UTC) - timedelta(days=rng.randint(1, 900))
        row = Subscription(
            tenant_id=tenant_id,
            plan=plan,
            name=apps[plan.app_id].name if n % 4 else f"{apps[plan.app_id].name} ({n})",
            pricing_model=plan.pricing_model,
            term=plan.term,
            quantity=quantity,
            scheduled_quantity=quantity - 1 if per_seat and quantity > 1 and n % 9 == 0 else None,
            unit_amount=100 + (plan.pk * 37) % 9000,
            currency=profile.currency,
            billing_profile=profile,
            status=status,
            auto_renew=n % 5 != 0,
            bought_via=BoughtVia.DIRECT,
            bought_by=bought_by,
            created_at=activated - timedelta(days=1),
        )
        if status in (Status.ACTIVE, Status.SUSPENDED):
            start = today - timedelta(days=rng.randint(0, 300))
            row.activated_at = row.term_started_at = activated
            row.term_start = start
            row.term_end = start + timedelta(days=365 if plan.term == "P1Y" else 30)
        elif status == Status.DISABLED:
            row.disabled_reason = reasons[n % len(reasons)]
            row.disabled_at = activated + timedelta(days=30)
        return row

    rows = []
    for tenant_id, held in profiles.items():
        big = len(held) > 1
        for n in range(BIG if big else EACH):
            rows.append(subscription(tenant_id, held[n % len(held)], n, user if big else None))
    Subscription.objects.bulk_create(rows, batch_size=2_000)
    return len(rows)


def load_data():
    """Migrate, load, collect the static files; the signed-in admin's session cookie."""
    import django
    from django.core.cache import cache
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    cache.clear()

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    started = time.perf_counter()
    plans = load_catalog()
    user = load_tenants()
    count = load_subscriptions(plans, user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"loaded {TENANTS} tenants, {count:,} subscriptions ({BIG:,} in the bench tenant), "
        f"{APPS} apps, {len(plans)} plans in {time.perf_counter() - started:.1f} s"
    )
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# The ceiling: this module is its urlconf, served by a handler without middleware.
CEILING_TABLE = None
urlpatterns = []


def ceiling(request):
    from django.http import HttpResponse
    from django.template import Context

    from subscriptions.models import Subscription

    rows = list(
        Subscription.objects.filter(tenant_id=request.ceiling_tenant_id)
        .order_by("pk")
        .only("name", "status", "term_end", "unit_amount", "currency")[:50]
    )
    response = HttpResponse(CEILING_TABLE.render(Context({"rows": rows})))
    response["Content-Length"] = str(len(response.content))  # as bench/ceiling.py's
    return response


def handlers(tenant_id):
    """The portal's WSGI handler, and the ceiling's: no middleware, this module's urls."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.wsgi import get_wsgi_application
    from django.template import Template
    from django.test.utils import override_settings
    from django.urls import path

    global CEILING_TABLE
    CEILING_TABLE = Template(
        "<!doctype html><title>Ceiling</title><table><tr><th>Name</th><th>Status</th>"
        "<th>Renews</th><th>Price</th></tr>{% for row in rows %}<tr><td>{{ row.name }}</td>"
        "<td>{{ row.status }}</td><td>{{ row.term_end }}</td>"
        "<td>{{ row.unit_amount }} {{ row.currency }}</td></tr>{% endfor %}</table>"
    )
    urlpatterns[:] = [path("", ceiling)]

    class CeilingHandler(WSGIHandler):
        def load_middleware(self, is_async=False):
            with override_settings(MIDDLEWARE=[]):  # the chain is built now, kept after
                super().load_middleware(is_async)

        def get_response(self, request):
            request.urlconf = __name__
            request.ceiling_tenant_id = tenant_id
            return super().get_response(request)

    return get_wsgi_application(), CeilingHandler()


def call(handler, path, query="", cookie=""):
    """One GET through the WSGI handler: its status and body, as a server would take them."""
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": f"sessionid={cookie}" if cookie else "",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status = []
    result = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(result)
    finally:
        result.close()  # request_finished: what a server does after the last byte
    return status[0], body


def figures(timings):
    timings = sorted(timings)
    return {
        "median": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "mean": statistics.fmean(timings),
    }


def measure(targets, rounds):
    """Each target's timings (ms) and the query counts seen, the targets interleaved."""
    from django.db import connection

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    timings = {name: [] for name in targets}
    counts = {name: set() for name in targets}
    with connection.execute_wrapper(count):
        for i in range(WARMUP + rounds):
            for name, (handler, path, query, cookie, check) in targets.items():
                queries[0] = 0
                begin = time.perf_counter()
                status, body = call(handler, path, query, cookie)
                elapsed = time.perf_counter() - begin
                if not status.startswith("200") or check not in body:
                    raise SystemExit(f"{name}: {status} {body[:300]!r}")
                if i >= WARMUP:
                    timings[name].append(elapsed * 1000)
                    counts[name].add(queries[0])
    return timings, counts


def profile(targets, requests=20):
    """Where a view's time goes: its split between SQL, template and the rest (medians of
    `requests` requests), each query's SQL and time, then cProfile's view of the Python."""
    from django.db import connection
    from django.template import loader

    render_to_string = loader.render_to_string

    seen, rendering = [], []  # the queries (ms, SQL) and renderings (ms) of a request

    def timed(execute, sql, params, many, context):
        begin = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append(((time.perf_counter() - begin) * 1000, sql))

    def timed_render(*args, **kwargs):  # what django.shortcuts.render calls
        begin = time.perf_counter()
        try:
            return render_to_string(*args, **kwargs)
        finally:
            rendering.append((time.perf_counter() - begin) * 1000)

    for name, (handler, path, query, cookie, _) in targets.items():
        if name == "ceiling":
            continue
        split = []
        loader.render_to_string = timed_render
        try:
            with connection.execute_wrapper(timed):
                for _ in range(requests):
                    del seen[:], rendering[:]
                    begin = time.perf_counter()
                    call(handler, path, query, cookie)
                    total = (time.perf_counter() - begin) * 1000
                    sql = sum(ms for ms, _ in seen)
                    split.append((total, sql, sum(rendering)))
        finally:
            loader.render_to_string = render_to_string
        total, sql, template = (statistics.median(part) for part in zip(*split, strict=True))
        print(
            f"\n{name} (?{query}): median {total:.1f} ms a request: SQL {sql:.1f} ms, "
            f"rendering the template {template:.1f} ms, "
            f"the rest of Python {total - sql - template:.1f} ms"
        )
        print("  the queries of the last request, ms, SQL:")
        for ms, sql in seen:
            print(f"  {ms:6.2f}  {sql[:220]}{'...' if len(sql) > 220 else ''}")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            call(handler, path, query, cookie)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)
        print(f"{name}: cProfile over {requests} requests")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="requests of each page")
    parser.add_argument("--profile", action="store_true", help="then profile the Apps page")
    args = parser.parse_args()
    create_database()
    try:
        cookie = load_data()
        from django.template import engines

        from portal.models import Tenant

        loaders = engines["django"].engine.loaders
        tenant_id = Tenant.objects.get(slug="bench").pk
        portal, ceiling_handler = handlers(tenant_id)
        apps = "/t/bench/billing/products/apps/"
        targets = {"ceiling": (ceiling_handler, "/", "", "", b"<title>Ceiling</title>")}
        for name, query in VIEWS.items():
            targets[name] = (portal, apps, query, cookie, b"Page 1 of")
        print(f"template loaders: {loaders}")
        timings, counts = measure(targets, args.rounds)
        ceiling = figures(timings["ceiling"])
        print(f"{args.rounds} requests each, interleaved, server time in ms:")
        print(
            f"  {'ceiling (one 50-row SELECT)':<28} median {ceiling['median']:6.1f}  "
            f"p95 {ceiling['p95']:6.1f}  queries {sorted(counts['ceiling'])}"
        )
        verdicts = []
        for name in VIEWS:
            page = figures(timings[name])
            ratio = ceiling["mean"] / page["mean"]  # requests per second, page over ceiling
            fast, near = page["p95"] < P95_TARGET_MS, ratio >= RATIO_TARGET
            verdicts += [fast, near]
            print(
                f"  {name:<28} median {page['median']:6.1f}  p95 {page['p95']:6.1f}  "
                f"queries {sorted(counts[name])}\n"
                f"  {'':<28} p95 < {P95_TARGET_MS} ms: {'PASS' if fast else 'FAIL'};  "
                f"{ratio:.3f} of the ceiling's requests/s (median ratio "
                f"{ceiling['median'] / page['median']:.3f}), target >= {RATIO_TARGET}: "
                f"{'PASS' if near else 'FAIL'}"
            )
        print(f"targets: {'all met' if all(verdicts) else 'NOT all met'}")
        if args.profile:
            profile(targets)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()


if __name__ == "__main__":
    main()
