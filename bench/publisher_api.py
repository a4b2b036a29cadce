"""Fulfillment API speed: 100,000 subscriptions across 50 publishers, in PostgreSQL.

The data: 50 publishers with 5 apps each (odd ones per license, even ones flat rate) and 1
or 2 plans an app, priced in USD; 1,000 tenants (US), each with a billing profile in USD and
an admin (the beneficiary `customers_of` finds, and the buyer); 100,000 subscriptions in
every status (6 in 11 active, 2 pending set-up, 1 suspended, 2 disabled with a reason),
one publisher ("publisher-0") holding 20,000 of them, every fifth row by id, the other 49
1,500 to 1,750 each (by their number of plans). The catalog and tenants are bulk-created,
the subscriptions written by one `INSERT ... SELECT` from generate_series, then ANALYZE.

Every request is served in this one process by the portal's own WSGI handler, called
directly (no HTTP server, so what is timed is Django's work and the database's, from the
WSGI call to the body's last byte): the whole middleware stack, DEBUG off, the cache in
Redis database 12. Measured, each after a warm-up:

  - `POST /api/oauth2/token` (client credentials of publisher-0's secret, made by
    `publisher_secret_create`): 200 requests. The endpoint is rate-limited per IP (300 a
    minute by default), so the bench raises PUBLISHER_TOKEN_RATE_LIMITS for the whole run
    through `override_settings` (the setting is read on every request; the limiter's Redis
    counting still runs, as in production);
  - `GET /api/saas/subscriptions/{id}`: 500 random ids of publisher-0's;
  - the walk: every page of publisher-0's list, following `@nextLink` (PORTAL_BASE_URL
    stripped) from the first page to the 200th, three times; each page's median over the
    walks, the mean of the first 20 pages beside the last 20's, and their ratio: the time
    per page is constant when the ratio is between 1/1.5 and 1.5 (noise), growing above,
    falling below (a page that costs what is left after it, not a seek);
  - `GET /api/saas/subscriptions` (100 a page): 200 requests, first pages and random deep
    pages (pages 101 to 200, their @nextLink taken from the walk) of publisher-0
    alternately; then 100 first pages of a publisher with about 1,700 subscriptions, one
    row in 58 by id.

Printed: median and p95 server time and the queries per request of each, beside the
targets (p95: GET under 20 ms, a list page under 60 ms), and the walk's ratio. Figures vary
with the machine's load: run it on a quiet machine, more than once.

    .venv/bin/python bench/publisher_api.py [--profile]

--profile then serves 20 more requests of each endpoint and prints each one's queries with
their times and cProfile's view of the Python (by cumulative and by own time).

It uses a database of its own (portal_bench_api on the PostgreSQL at 127.0.0.1:5432,
created and migrated here and dropped at the end) and Redis database 12 (emptied first).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DB = "portal_bench_api"
REDIS = "redis://127.0.0.1:6379/12"
BASE_URL = "http://testserver"
ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key",
    "DATABASE_URL": f"{PG}/{DB}",
    "CACHE_URL": REDIS,
    "REDIS_URL": REDIS,
    "PORTAL_BASE_URL": BASE_URL,
    "ALLOWED_HOSTS": "testserver",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "STATIC_ROOT": tempfile.mkdtemp(prefix="bench-static-"),
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"

PUBLISHERS, APPS_EACH, TENANTS = 50, 5, 1_000
TOTAL, BIG = 100_000, 20_000  # subscriptions; publisher-0's (every fifth row)
API_VERSION = "2018-08-31"
VERSION = urlencode({"api-version": API_VERSION})
TOKENS, GETS, LISTS, SMALL_LISTS, WALKS = 200, 500, 200, 100, 3
WARMUP = 30
GET_P95_MS, LIST_P95_MS, CONSTANT_RATIO = 20, 60, 1.5
RATE_LIMITS = (1_000_000, 1_000_000, 60)  # PUBLISHER_TOKEN_RATE_LIMITS for the bench


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def load_catalog():
    """The publishers, their apps and plans, priced in USD: the plans of publisher-0, and
    the others'."""
    from publishers.models import App, Category, Plan, Price, PricingModel, Publisher, Term

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
        for i in range(PUBLISHERS)
    )
    categories = list(Category.values)
    apps = App.objects.bulk_create(
        App(
            publisher=publisher,
            offer_id=f"offer-{k}",
            name=f"App {p}.{k}",
            summary="Summary.",
            description="Description.",
            category=categories[(p + k) % len(categories)],
            pricing_model=PricingModel.PER_SEAT if k % 2 else PricingModel.FLAT_RATE,
            is_published=True,
        )
        for p, publisher in enumerate(publishers)
        for k in range(APPS_EACH)
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
        for i, app in enumerate(apps)
        for j in range(1 + i % 2)  # 1 or 2 plans an app
    )
    Price.objects.bulk_create(
        Price(plan=plan, currency="USD", amount=100 + (plan.pk * 37) % 9000) for plan in plans
    )
    big = [plan.pk for plan in plans if plan.app.publisher_id == publishers[0].pk]
    others = [plan.pk for plan in plans if plan.app.publisher_id != publishers[0].pk]
    return publishers, big, others


def load_tenants():
    """The tenants, a billing profile each, and each one's admin: the profiles' ids and
    their admins' ids, in the same order."""
    from django.contrib.auth.hashers import make_password

    from billing.models import BillingProfile
    from portal.models import Membership, Role, Tenant, User

    tenants = Tenant.objects.bulk_create(
        Tenant(name=f"Tenant {i}", slug=f"tenant-{i}", country="US") for i in range(TENANTS)
    )
    profiles = BillingProfile.objects.bulk_create(
        BillingProfile(
            tenant=tenant,
            name="HQ",
            currency="USD",  # the country's, as save() would set it
            contact_name="Casey Contact",
            email=f"ap@tenant-{i}.example",
            phone="+1 555 0100",
            address_line1="1 Main Street",
            city="Springfield",
            postal_code="10115",
            country="US",
            invoice_emails=[f"ap@tenant-{i}.example"],
            is_default=True,
        )
        for i, tenant in enumerate(tenants)
    )
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"admin@tenant-{i}.example", password=unusable) for i in range(TENANTS)
    )
    Membership.objects.bulk_create(
        Membership(user=user, tenant=tenant, role=Role.ADMIN)
        for user, tenant in zip(users, tenants, strict=True)
    )
    return [profile.pk for profile in profiles], [user.pk for user in users]


def load_subscriptions(big_plans, other_plans, profiles, admins) -> None:
    """TOTAL subscriptions: every fifth row (by id) one of publisher-0's plans, the others
    spread evenly over the other publishers' plans; tenants by a hash of the row number;
    each row as the CHECK constraints and composite keys want it."""
    from django.db import connection

    from subscriptions.lifecycle import DisabledReason, Status

    statuses = [Status.ACTIVE] * 6 + [Status.PENDING_ACTIVATION] * 2
    statuses += [Status.SUSPENDED, Status.DISABLED, Status.DISABLED]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH s0 AS (
                SELECT g,
                       CASE WHEN g %% 5 = 0
                            THEN (%(big)s::bigint[])[1 + (g / 5) %% cardinality(%(big)s::bigint[])]
                            ELSE (%(others)s::bigint[])[
                                1 + ((g / 5) * 4 + g %% 5 - 1) %% cardinality(%(others)s::bigint[])]
                       END AS plan_id,
                       1 + ((hashint4(g)::bigint %% %(tenants)s) + %(tenants)s) %% %(tenants)s
                           AS t,
                       (%(statuses)s::text[])[1 + (g * 7) %% cardinality(%(statuses)s::text[])]
                           AS status
                FROM generate_series(1, %(total)s) AS g
            ),
            s AS (
                SELECT s0.*, now() - make_interval(days => 31 + g %% 900) AS activated,
                       current_date - g %% 300 AS started
                FROM s0
            )
            INSERT INTO subscriptions_subscription (
                uuid, tenant_id, plan_id, name, pricing_model, term, quantity,
                scheduled_quantity, unit_amount, currency, billing_profile_id, status,
                disabled_reason, term_start, term_end, auto_renew, bought_via, bought_by_id,
                created_at, activated_at, term_started_at, disabled_at)
            SELECT gen_random_uuid(), b.tenant_id, p.id,
                   CASE WHEN s.g %% 4 = 0 THEN a.name || ' (' || s.g || ')' ELSE a.name END,
                   p.pricing_model, p.term,
                   CASE WHEN p.pricing_model = 'per_seat' THEN 1 + s.g %% 500 END,
                   CASE WHEN p.pricing_model = 'per_seat' AND s.g %% 500 > 0 AND s.g %% 9 = 0
                        THEN s.g %% 500 END,
                   pr.amount, b.currency, b.id, s.status,
                   CASE WHEN s.status = %(disabled)s
                        THEN (%(reasons)s::text[])[1 + s.g %% cardinality(%(reasons)s::text[])]
                        ELSE '' END,
                   CASE WHEN s.status IN (%(active)s, %(suspended)s) THEN s.started END,
                   CASE WHEN s.status IN (%(active)s, %(suspended)s)
                        THEN s.started + CASE WHEN p.term = 'P1Y' THEN 365 ELSE 30 END END,
                   s.g %% 5 <> 1, 'direct', (%(admins)s::bigint[])[s.t],
                   s.activated - interval '1 day',
                   CASE WHEN s.status <> %(pending)s THEN s.activated END,
                   CASE WHEN s.status IN (%(active)s, %(suspended)s) THEN s.activated END,
                   CASE WHEN s.status = %(disabled)s THEN s.activated + interval '30 days' END
            FROM s
            JOIN publishers_plan p ON p.id = s.plan_id
            JOIN publishers_app a ON a.id = p.app_id
            JOIN publishers_price pr ON pr.plan_id = p.id AND pr.currency = 'USD'
            JOIN billing_billingprofile b ON b.id = (%(profiles)s::bigint[])[s.t]
            ORDER BY s.g
            """,
            {
                "big": big_plans,
                "others": other_plans,
                "tenants": TENANTS,
                "statuses": [status.value for status in statuses],
                "total": TOTAL,
                "reasons": list(DisabledReason.values),
                "profiles": profiles,
                "admins": admins,
                "active": Status.ACTIVE.value,
                "suspended": Status.SUSPENDED.value,
                "pending": Status.PENDING_ACTIVATION.value,
                "disabled": Status.DISABLED.value,
            },
        )
        cursor.execute("ANALYZE")


def load_data():
    """Migrate and load; publisher-0, a small publisher, and a client secret of each."""
    import django
    from django.core.cache import cache
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    cache.clear()

    from django.db.models import Count

    from portal.audit import Actor
    from portal.models import ActorType
    from publishers.services import publisher_secret_create
    from subscriptions.models import Subscription

    started = time.perf_counter()
    publishers, big_plans, other_plans = load_catalog()
    profiles, admins = load_tenants()
    load_subscriptions(big_plans, other_plans, profiles, admins)
    big, small = publishers[0], publishers[PUBLISHERS // 2]
    held = {
        publisher.slug: Subscription.objects.filter(plan__app__publisher=publisher).count()
        for publisher in (big, small)
    }
    statuses = dict(
        Subscription.objects.filter(plan__app__publisher=big)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    print(
        f"loaded {Subscription.objects.count():,} subscriptions of {PUBLISHERS} publishers "
        f"({held[big.slug]:,} of {big.slug}: {statuses}; {held[small.slug]:,} of {small.slug}) "
        f"among {TENANTS:,} tenants in {time.perf_counter() - started:.1f} s"
    )
    actor = Actor(type=ActorType.SYSTEM, label="bench")
    secrets = {}
    for publisher in (big, small):
        _, secrets[publisher.slug] = publisher_secret_create(publisher=publisher, actor=actor)
    return big, small, secrets, held


def call(handler, method, path, query="", headers=None, body=b"", content_type=""):
    """One request through the WSGI handler: its status and body, as a server takes them."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
    status = []
    result = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        content = b"".join(result)
    finally:
        result.close()  # request_finished: what a server does after the last byte
    return status[0], content


class Requests:
    """Timed requests through one handler, each one's queries counted."""

    def __init__(self, handler):
        from django.db import connection

        self.handler, self.queries = handler, 0
        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def close(self):
        self._wrapper.__exit__(None, None, None)

    def timed(self, name, method, path, query="", expect=b"", **kwargs):
        """(ms, queries, body) of one request that must answer 200 with `expect` in it."""
        self.queries = 0
        begin = time.perf_counter()
        status, body = call(self.handler, method, path, query, **kwargs)
        elapsed = (time.perf_counter() - begin) * 1000
        if not status.startswith("200") or expect not in body:
            raise SystemExit(f"{name}: {status} {body[:300]!r}")
        return elapsed, self.queries, body


def figures(timings):
    timings = sorted(timings)
    return {
        "median": statistics.median(timings),
        "p95": timings[max(0, int(len(timings) * 0.95) - 1)],
        "mean": statistics.fmean(timings),
    }


def line(name, timings, queries, target=None):
    """`GET subscription  median 4.1 ms  p95 6.0 ms  (target p95 < 20 ms)  3 queries`, and
    whether the target is met."""
    found = figures(timings)
    met = target is None or found["p95"] < target
    aim = f"  (target p95 < {target} ms: {'PASS' if met else 'FAIL'})" if target else ""
    counts = "/".join(str(n) for n in sorted(queries))
    print(
        f"{name:<34} median {found['median']:5.1f} ms  p95 {found['p95']:5.1f} ms{aim}  "
        f"{counts} {'query' if queries == {1} else 'queries'}  (n={len(timings)})"
    )
    return met


def next_link(body) -> tuple[str, str] | None:
    """The path and query of a page's @nextLink, or None on the last page."""
    link = json.loads(body).get("@nextLink")
    if link is None:
        return None
    if not link.startswith(BASE_URL):
        raise SystemExit(f"@nextLink is not under PORTAL_BASE_URL: {link}")
    path, _, query = link.removeprefix(BASE_URL).partition("?")
    return path, query


def walk(requests, bearer, expected):
    """Every page of the caller's list in order: each page's (path, query) and time (ms)."""
    page, pages, seen, times, counts = ("/api/saas/subscriptions", VERSION), [], set(), [], set()
    while page is not None:
        ms, queries, body = requests.timed("walk", "GET", *page, b'"subscriptions"', headers=bearer)
        pages.append(page)
        times.append(ms)
        counts.add(queries)
        ids = [row["id"] for row in json.loads(body)["subscriptions"]]
        if seen.intersection(ids):
            raise SystemExit(f"walk: page {len(pages)} repeats a subscription")
        seen.update(ids)
        page = next_link(body)
    if len(seen) != expected:
        raise SystemExit(f"walk: {len(seen):,} subscriptions seen, {expected:,} expected")
    return pages, times, counts


def measure(handler, big, small, secrets, held):
    """Every figure; True when every target is met."""
    from django.test.utils import override_settings

    from subscriptions.models import Subscription

    rng = random.Random(42)
    requests = Requests(handler)
    verdicts = []
    try:
        tokens, timings, counts = {}, [], set()
        with override_settings(PUBLISHER_TOKEN_RATE_LIMITS=RATE_LIMITS):
            for publisher, times in ((small, 1), (big, WARMUP + TOKENS)):
                form = urlencode(
                    {
                        "grant_type": "client_credentials",
                        "client_id": str(publisher.client_id),
                        "client_secret": secrets[publisher.slug],
                    }
                ).encode()
                for i in range(times):
                    ms, queries, body = requests.timed(
                        "token",
                        "POST",
                        "/api/oauth2/token",
                        expect=b"access_token",
                        body=form,
                        content_type="application/x-www-form-urlencoded",
                    )
                    if publisher == big and i >= WARMUP:
                        timings.append(ms)
                        counts.add(queries)
                tokens[publisher.slug] = json.loads(body)["access_token"]
        verdicts.append(line("POST token", timings, counts))
        bearer = {"Authorization": f"Bearer {tokens[big.slug]}"}

        ids = list(
            Subscription.objects.filter(plan__app__publisher=big).values_list("uuid", flat=True)
        )
        timings, counts = [], set()
        for i, key in enumerate(rng.sample(ids, WARMUP) + rng.sample(ids, GETS)):
            path = f"/api/saas/subscriptions/{key}"
            ms, queries, _ = requests.timed(
                "GET", "GET", path, VERSION, str(key).encode(), headers=bearer
            )
            if i >= WARMUP:
                timings.append(ms)
                counts.add(queries)
        verdicts.append(line("GET subscription", timings, counts, GET_P95_MS))

        pages, _, _ = walk(requests, bearer, held[big.slug])  # a warm-up, and the links
        walks = [walk(requests, bearer, held[big.slug]) for _ in range(WALKS)]
        per_page = [statistics.median(times) for times in zip(*(w[1] for w in walks), strict=True)]
        first, last = statistics.fmean(per_page[:20]), statistics.fmean(per_page[-20:])
        middle = statistics.fmean(per_page[len(per_page) // 2 - 10 : len(per_page) // 2 + 10])
        ratio = last / first
        constant = 1 / CONSTANT_RATIO < ratio < CONSTANT_RATIO
        verdicts.append(constant)
        trend = "constant" if constant else ("GROWING" if ratio > 1 else "FALLING")
        counts = set().union(*(w[2] for w in walks))
        print(
            f"{'walk ' + big.slug + ' (' + str(len(pages)) + ' pages)':<34} "
            f"first 20 pages {first:5.1f} ms/page  last 20 {last:5.1f} ms/page  "
            f"ratio {ratio:.2f}: {trend} (constant: between {1 / CONSTANT_RATIO:.2f} and "
            f"{CONSTANT_RATIO})  {'/'.join(str(n) for n in sorted(counts))} queries\n"
            f"{'':<34} middle 20 {middle:5.1f} ms/page; whole walk "
            f"{sum(per_page) / 1000:.2f} s (each page's median of {WALKS} walks)"
        )

        timings, counts, split = [], set(), {"first": [], "deep": []}
        deep = pages[len(pages) // 2 :]
        for i in range(WARMUP + LISTS):
            kind = "deep" if i % 2 else "first"
            page = rng.choice(deep) if kind == "deep" else pages[0]
            ms, queries, _ = requests.timed(
                "list", "GET", *page, b'"subscriptions"', headers=bearer
            )
            if i >= WARMUP:
                timings.append(ms)
                counts.add(queries)
                split[kind].append(ms)
        verdicts.append(line("list 100", timings, counts, LIST_P95_MS))
        print(
            f"{'':<34} first page median {statistics.median(split['first']):.1f} ms, "
            f"deep pages ({len(pages) // 2 + 1}-{len(pages)}) median "
            f"{statistics.median(split['deep']):.1f} ms"
        )

        bearer_small = {"Authorization": f"Bearer {tokens[small.slug]}"}
        timings, counts = [], set()
        for i in range(WARMUP + SMALL_LISTS):
            ms, queries, _ = requests.timed(
                "list small",
                "GET",
                "/api/saas/subscriptions",
                VERSION,
                b'"subscriptions"',
                headers=bearer_small,
            )
            if i >= WARMUP:
                timings.append(ms)
                counts.add(queries)
        name = f"list 100, {small.slug} ({held[small.slug]:,})"
        verdicts.append(line(name, timings, counts, LIST_P95_MS))
    finally:
        requests.close()
    return all(verdicts), tokens, pages


def profile(handler, big, small, tokens, pages, requests=20):
    """Each endpoint's queries (of its last request) with their times, and cProfile's view of
    `requests` requests of it."""
    from django.db import connection

    from subscriptions.models import Subscription

    key = Subscription.objects.filter(plan__app__publisher=big).order_by("?").first().uuid
    targets = {
        "GET subscription": (big, f"/api/saas/subscriptions/{key}", VERSION),
        "list 100, first page": (big, *pages[0]),
        "list 100, last page": (big, *pages[-1]),
        f"list 100, {small.slug}'s first page": (small, "/api/saas/subscriptions", VERSION),
    }
    seen = []

    def timed(execute, sql, params, many, context):
        begin = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append(((time.perf_counter() - begin) * 1000, sql))

    for name, (publisher, path, query) in targets.items():
        bearer = {"Authorization": f"Bearer {tokens[publisher.slug]}"}
        totals, sql_totals = [], []
        with connection.execute_wrapper(timed):
            for _ in range(requests):
                del seen[:]
                begin = time.perf_counter()
                call(handler, "GET", path, query, headers=bearer)
                totals.append((time.perf_counter() - begin) * 1000)
                sql_totals.append(sum(ms for ms, _ in seen))
        total, in_sql = statistics.median(totals), statistics.median(sql_totals)
        print(
            f"\n{name}: median {total:.1f} ms a request: SQL {in_sql:.1f} ms (from the call to "
            f"the rows read), the rest of Python {total - in_sql:.1f} ms; the last request's "
            "queries, ms, SQL:"
        )
        for ms, sql in seen:
            print(f"  {ms:6.2f}  {sql[:240]}{'...' if len(sql) > 240 else ''}")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            call(handler, "GET", path, query, headers=bearer)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(15)
        print(f"{name}: cProfile over {requests} requests")
        print("\n".join(text for text in out.getvalue().splitlines() if text.strip()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true", help="then profile each endpoint")
    args = parser.parse_args()
    admin_sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB}"')
    try:
        big, small, secrets, held = load_data()
        from django.core.wsgi import get_wsgi_application

        handler = get_wsgi_application()
        met, tokens, pages = measure(handler, big, small, secrets, held)
        print(f"targets: {'all met' if met else 'NOT all met'}")
        if args.profile:
            profile(handler, big, small, tokens, pages)
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
