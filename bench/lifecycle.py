"""Lifecycle sweep speed and memory: 100,000 subscriptions due on one day among 1,000,000.

The data, in PostgreSQL: 1,000 tenants (US) with one billing profile each, 50 publishers'
200 apps and 400 plans priced in USD, and 1,000,000 subscriptions. Due on DAY: 90,000
active ones set to renew (a tenth with a decrease scheduled, the plan's price moved for a
third of the plans) and 10,000 set not to renew (expiring); the other 900,000 are active
with later term ends, pending set-up since yesterday, or disabled. They are written by
`INSERT ... SELECT` from generate_series (a minute of loading, not ten).

Each measurement runs on a fresh copy of that database (`CREATE DATABASE ... TEMPLATE`):

  1. `manage.py run_lifecycle --date DAY` in a process of its own: its wall time and peak
     RSS (targets: under 60 s, under 300 MB); as in production, the day's e-mails are
     recorded and queued for the workers (a Redis queue no worker reads here), not sent,
     and every change's operation and webhook written to the outbox (every publisher has a
     webhook URL; the webhook sweep would send them);
  2. the second run of the same day on that copy (a no-op): its wall time;
  3. two Celery workers (`--pool solo`, two processes) sharing the chunks through Redis:
     the beat task is sent, and the time is taken until nothing is due (the day's chunks
     done) and until the day is marked swept; each worker's peak RSS;
  4. the ceiling: the bare set-based `UPDATE` of the 90,000 renewing rows' terms, as one
     statement, on another copy, timed from this process.

    .venv/bin/python bench/lifecycle.py [--keep]

It uses the databases portal_bench_life* on the PostgreSQL at 127.0.0.1:5432 (dropped at
the end unless --keep) and Redis database 10 (emptied first). Run it on a quiet machine,
more than once.
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench_db import admin, drop, portal_env, sql
from bench_db import copy as copy_of

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BASE = "portal_bench_life"
REDIS = "redis://127.0.0.1:6379/10"
DAY = "2027-03-15"
TOTAL, RENEWING, EXPIRING = 1_000_000, 90_000, 10_000
TENANTS, PUBLISHERS, APPS, PLANS_PER_APP = 1_000, 50, 200, 2
TIME_TARGET_S, RSS_TARGET_MB = 60, 300


def copy(name: str) -> str:
    return copy_of(BASE, name)


def env(database: str) -> dict:
    return portal_env(database, REDIS)


def load() -> None:
    """Migrate a new database and fill it; the catalog and tenants by the ORM, the
    subscriptions by INSERT ... SELECT."""
    admin(f'DROP DATABASE IF EXISTS "{BASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{BASE}"')
    started = time.perf_counter()
    code = f"""
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from billing.models import BillingProfile
from portal.models import Tenant
from publishers.models import App, Category, Plan, Price, PricingModel, Publisher, Term
publishers = Publisher.objects.bulk_create(
    Publisher(name=f"Publisher {{i}}", slug=f"publisher-{{i}}", legal_name="P Ltd.",
              address_line1="1 Road", city="Town", country="GB",
              support_url="https://p.example/", support_email="s@p.example",
              landing_page_url="https://p.example/go", webhook_secret=f"whsec_b{{i}}",
              webhook_url="https://p.example/hooks")
    for i in range({PUBLISHERS}))
apps = App.objects.bulk_create(
    App(publisher=publishers[i % {PUBLISHERS}], offer_id=f"offer-{{i}}", name=f"App {{i}}",
        summary="S.", description="D.", category=Category.values[i % len(Category.values)],
        pricing_model=PricingModel.PER_SEAT if i % 2 else PricingModel.FLAT_RATE,
        is_published=True)
    for i in range({APPS}))
plans = Plan.objects.bulk_create(
    Plan(app=app, plan_id=f"plan-{{j}}", name=["Standard", "Enterprise"][j],
         term=Term.MONTHLY if j % 2 else Term.ANNUAL, pricing_model=app.pricing_model,
         min_quantity=1 if app.is_per_seat else None,
         max_quantity=10_000 if app.is_per_seat else None)
    for app in apps for j in range({PLANS_PER_APP}))
Price.objects.bulk_create(Price(plan=p, currency="USD", amount=1000 + p.pk % 7 * 100)
                          for p in plans)
tenants = Tenant.objects.bulk_create(
    Tenant(name=f"Tenant {{i}}", slug=f"tenant-{{i}}", country="US") for i in range({TENANTS}))
BillingProfile.objects.bulk_create(
    BillingProfile(tenant=t, name="HQ", currency="USD", contact_name="C", email="a@b.example",
                   phone="+1 555 0100", address_line1="1 Main", city="Springfield",
                   postal_code="10115", country="US", invoice_emails=["a@b.example"],
                   is_default=True)
    for t in tenants)
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env(BASE), check=True)
    # n < RENEWING: renews on DAY; < RENEWING + EXPIRING: expires on DAY; then 3 in 5 active
    # with later ends, 1 in 5 pending since yesterday, 1 in 5 disabled.
    sql(
        BASE,
        """
        WITH p AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, pricing_model, term
                   FROM publishers_plan),
             b AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, tenant_id
                   FROM billing_billingprofile),
             s0 AS (SELECT n, n %% (SELECT count(*) FROM p) AS pk,
                           n %% (SELECT count(*) FROM b) AS bk,
                           CASE WHEN n < %(due)s THEN 'due'
                                WHEN n %% 5 < 3 THEN 'later'
                                WHEN n %% 5 = 3 THEN 'pending' ELSE 'disabled' END AS kind
                    FROM generate_series(0, %(total)s - 1) AS n),
             s AS (SELECT s0.*, CASE WHEN kind = 'due' THEN %(day)s::date
                                     WHEN kind = 'later' THEN %(day)s::date + 1 + n %% 300
                                END AS e
                   FROM s0)
        INSERT INTO subscriptions_subscription (
            uuid, tenant_id, plan_id, name, pricing_model, term, quantity, scheduled_quantity,
            unit_amount, currency, billing_profile_id, status, disabled_reason, term_start,
            term_end, auto_renew, bought_via, created_at, activated_at, term_started_at,
            disabled_at)
        SELECT gen_random_uuid(), b.tenant_id, p.id, 'App ' || s.n, p.pricing_model, p.term,
               CASE WHEN p.pricing_model = 'per_seat' THEN 10 END,
               CASE WHEN p.pricing_model = 'per_seat' AND s.n %% 10 = 0 AND s.kind = 'due'
                    THEN 8 END,
               1000, 'USD', b.id,
               CASE s.kind WHEN 'pending' THEN 'pending_activation'
                           WHEN 'disabled' THEN 'disabled' ELSE 'active' END,
               CASE s.kind WHEN 'disabled' THEN 'canceled' ELSE '' END,
               s.e - CASE WHEN p.term = 'P1Y' THEN interval '1 year' ELSE interval '1 month' END,
               s.e,
               NOT (s.n >= %(renewing)s AND s.n < %(due)s), 'direct',
               CASE WHEN s.kind = 'pending' THEN %(day)s::date - 1
                    ELSE %(day)s::date - 800 END,
               -- activated on the term's anchor day, a year before the term started
               s.e - CASE WHEN p.term = 'P1Y' THEN interval '2 years'
                          ELSE interval '13 months' END,
               s.e - CASE WHEN p.term = 'P1Y' THEN interval '1 year' ELSE interval '1 month' END,
               CASE WHEN s.kind = 'disabled' THEN %(day)s::date - 10 END
        FROM s JOIN p ON p.k = s.pk JOIN b ON b.k = s.bk
        """,
        {"due": RENEWING + EXPIRING, "renewing": RENEWING, "total": TOTAL, "day": DAY},
    )
    # The plan's price moved for a third of the plans: those renewals take the new one.
    sql(BASE, "UPDATE publishers_price SET amount = amount + 100 WHERE plan_id %% 3 = 0")
    sql(BASE, "VACUUM ANALYZE")
    due = sql(
        BASE,
        "SELECT count(*) FROM subscriptions_subscription WHERE term_end <= %s "
        "AND status IN ('active', 'suspended')",
        (DAY,),
    )[0][0]
    print(
        f"loaded {TOTAL:,} subscriptions ({due:,} due on {DAY}) among {TENANTS:,} tenants "
        f"in {time.perf_counter() - started:.0f} s"
    )


def timed_process(args, database: str, **extra: str) -> tuple[float, float, str]:
    """Run a process to its end: wall seconds, peak RSS in MB (its own), its output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**env(database), **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = process.stdout.read().decode()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{args} failed:\n{output}")
    return wall, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def one_process() -> None:
    import redis

    database = copy("one")
    command = [sys.executable, "manage.py", "run_lifecycle", "--date", DAY]
    # As in production, the day's e-mails go to the workers through the broker (a queue no
    # worker reads here, emptied after): the command records and queues them, and sends none.
    broker, queue = redis.Redis.from_url(REDIS), f"bench-mail-{uuid.uuid4().hex[:6]}"
    eager_off = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_QUEUE": queue}
    wall, rss, summary = timed_process(command, database, **eager_off)
    ok = "ok" if wall < TIME_TARGET_S and rss < RSS_TARGET_MB else "MISSED"
    print(
        f"run_lifecycle, one process:   {wall:6.1f} s   peak RSS {rss:5.0f} MB   "
        f"(targets < {TIME_TARGET_S} s, < {RSS_TARGET_MB} MB: {ok})   {summary}"
    )
    notices = sql(database, "SELECT count(*) FROM subscriptions_notice")[0][0]
    print(
        f"  e-mails recorded {notices:,}, queued for the workers in {broker.llen(queue):,} batches"
    )
    check(database)
    wall, rss, summary = timed_process(command, database, **eager_off)
    print(f"second run (no-op):           {wall:6.1f} s   peak RSS {rss:5.0f} MB   {summary}")
    print(
        f"  batches queued in all {broker.llen(queue):,}: the rerun queues again what no "
        "worker sent here; each notice's claim sends it once"
    )
    broker.delete(queue)
    drop(database)


def check(database: str) -> None:
    """What a clean run leaves: every due subscription moved once, one charge each."""
    renewed, charges, events, still_due = sql(
        database,
        """SELECT (SELECT count(*) FROM subscriptions_subscription
                   WHERE term_start = %(day)s AND status = 'active'),
                  (SELECT count(*) FROM billing_charge WHERE kind = 'renewal'),
                  (SELECT count(*) FROM portal_auditevent),
                  (SELECT count(*) FROM subscriptions_subscription
                   WHERE status IN ('active', 'suspended') AND term_end <= %(day)s)""",
        {"day": DAY},
    )[0]
    expected = (RENEWING, RENEWING, RENEWING + EXPIRING, 0)
    if (renewed, charges, events, still_due) != expected:
        raise SystemExit(f"wrong end state: {(renewed, charges, events, still_due)} != {expected}")


def two_workers() -> None:
    import redis

    database = copy("two")
    redis.Redis.from_url(REDIS).flushdb()
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    worker_env = {**env(database), "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_QUEUE": queue}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--loglevel",
                "WARNING",
                "--hostname",
                f"w{i}@bench",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    time.sleep(4)  # the workers start
    # Beat's task, sent as beat sends it, with the sweep's day as today.
    send = f"""
import datetime, django; django.setup()
import subscriptions.services.common as common, subscriptions.tasks as tasks
tasks.utc_day = lambda moment=None: datetime.date.fromisoformat("{DAY}")
tasks.lifecycle_sweep.apply()  # plans the day here and sends its chunks to the workers
"""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", send], cwd=ROOT, env=worker_env, check=True)
    sent = time.perf_counter() - started
    due_sql = (
        "SELECT count(*) FROM subscriptions_subscription WHERE term_end <= %s "
        "AND status IN ('active', 'suspended') AND NOT (status = 'suspended' AND auto_renew)"
    )
    done = swept = None
    while time.perf_counter() - started < 600:
        if done is None and sql(database, due_sql, (DAY,))[0][0] == 0:
            done = time.perf_counter() - started
        finished = sql(
            database,
            "SELECT count(*) FROM subscriptions_lifecyclerun WHERE day = %s "
            "AND finished_at IS NOT NULL",
            (DAY,),
        )
        if finished and finished[0][0]:
            swept = time.perf_counter() - started
            break
        time.sleep(0.2)
    rss = []
    for worker in workers:
        worker.terminate()
        _pid, _status, usage = os.wait4(worker.pid, 0)
        rss.append(usage.ru_maxrss / 1024)
    if done is None or swept is None:
        raise SystemExit("the two workers did not finish the day in 10 minutes")
    check(database)
    print(
        f"two Celery workers:           {done:6.1f} s   peak RSS {max(rss):5.0f} MB each at most"
        f"   (chunks planned and sent in {sent:.1f} s; day marked swept at {swept:.1f} s, "
        "after the finish task's next look)"
    )
    drop(database)


def ceiling() -> None:
    database = copy("ceiling")
    started = time.perf_counter()
    rows = sql(
        database,
        """UPDATE subscriptions_subscription SET term_start = term_end,
               term_end = term_end + CASE WHEN term = 'P1Y' THEN interval '1 year'
                                         ELSE interval '1 month' END,
               term_started_at = now()
           WHERE status = 'active' AND auto_renew AND term_end <= %s""",
        (DAY,),
    )
    wall = time.perf_counter() - started
    print(f"ceiling, one bare UPDATE:     {wall:6.1f} s   ({rows:,} rows)")
    drop(database)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    options = parser.parse_args()
    load()
    try:
        one_process()
        two_workers()
        ceiling()
    finally:
        if not options.keep:
            drop(BASE)


if __name__ == "__main__":
    main()
