"""Invoice run speed and memory: 20,000 billing profiles holding 100,000 charges; a 40-line
PDF; Bills & payments with 5,000 invoices.

The data, in PostgreSQL: 1,999 tenants and 20,000 billing profiles in the US, the UK and
Germany (so USD, GBP and EUR, and three tax rates), 20 of them in "tenant-0" and 10 in each
other tenant; 20 publishers' 100 apps and 200 plans; and 100,000 charges made in the month
before DAY, five a profile: purchases, renewals and added licenses, one in ten a credit
(licenses removed). The charges are written by `INSERT ... SELECT` from generate_series.

Each measurement runs on a fresh copy of that database (`CREATE DATABASE ... TEMPLATE`):

  1. `manage.py run_invoicing --date DAY` in a process of its own: its wall time and peak
     RSS (targets: under 120 s, under 400 MB); as in production, each document's PDF task
     is queued (a Redis queue no worker reads here), not rendered;
  2. the ceiling, in the same run: on another copy, the bare set-based writes of the same
     documents, one `INSERT ... SELECT` of the 20,000 invoices and one of the 100,000
     lines, timed from this process;
  3. a 40-line invoice's PDF, rendered 15 times in one process: the median (target under
     400 ms);
  4. Bills & payments as tenant-0's admin, 5,000 invoices (the run's 20, and 4,980 issued
     earlier, written by INSERT ... SELECT): 60 requests through Django's test client (10
     warm-up first) of the first page, a later page and a filtered one: the p95 (target
     under 100 ms).

    .venv/bin/python bench/invoicing.py [--keep]

It uses the databases portal_bench_inv* on the PostgreSQL at 127.0.0.1:5432 (dropped at
the end unless --keep) and Redis database 12 (emptied first). Run it on a quiet machine,
more than once.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_db import admin, drop, portal_env, sql
from bench_db import copy as copy_of

ROOT = Path(__file__).resolve().parents[1]
BASE = "portal_bench_inv"
REDIS = "redis://127.0.0.1:6379/12"
DAY = "2027-03-01"
MADE = "2027-02-10"  # the charges' day, in the month the run closes
PROFILES, BIG_TENANT_PROFILES, PER_TENANT = 20_000, 20, 10
LISTED = 5_000  # tenant-0's invoices for the page: the run's 20 and older ones
CHARGES_PER_PROFILE = 5
TIME_TARGET_S, RSS_TARGET_MB, PDF_TARGET_MS, PAGE_TARGET_MS = 120, 400, 400, 100
STATIC_ROOT = tempfile.mkdtemp(prefix="bench-static-")  # the pages' files, collected once


def env(database: str, **extra: str) -> dict:
    return portal_env(
        database,
        REDIS,
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_QUEUE="bench-invoices",
        MEDIA_ROOT=f"/tmp/{database}-media",
        STATIC_ROOT=STATIC_ROOT,
        **extra,
    )


def django(database: str, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=env(database),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr)
    return done.stdout


def load() -> None:
    """Migrate a new database and fill it: the catalog, tenants and profiles by the ORM, the
    charges by INSERT ... SELECT."""
    admin(f'DROP DATABASE IF EXISTS "{BASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{BASE}"')
    started = time.perf_counter()
    others = (PROFILES - BIG_TENANT_PROFILES) // PER_TENANT
    django(
        BASE,
        f"""
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", verbosity=0, interactive=False)
from billing.models import BillingProfile
from portal.models import Membership, Role, Tenant, User
from publishers.models import App, Category, Plan, PricingModel, Publisher, Term
COUNTRIES = [("US", "USD"), ("GB", "GBP"), ("DE", "EUR")]
publishers = Publisher.objects.bulk_create(
    Publisher(name=f"Publisher {{i}}", slug=f"publisher-{{i}}", legal_name=f"Publisher {{i}} Ltd.",
              address_line1="1 Road", city="Town", postal_code="AB1 2CD", country="GB",
              support_url="https://p.example/", support_email="s@p.example",
              landing_page_url="https://p.example/go", webhook_secret=f"whsec_b{{i}}")
    for i in range(20))
apps = App.objects.bulk_create(
    App(publisher=publishers[i % 20], offer_id=f"offer-{{i}}", name=f"App {{i}}",
        summary="S.", description="D.", category=Category.values[i % len(Category.values)],
        pricing_model=PricingModel.PER_SEAT, is_published=True)
    for i in range(100))
Plan.objects.bulk_create(
    Plan(app=app, plan_id=f"plan-{{j}}", name=["Standard", "Enterprise"][j], term=Term.MONTHLY,
         pricing_model=app.pricing_model, min_quantity=1, max_quantity=10_000)
    for app in apps for j in range(2))
tenants = Tenant.objects.bulk_create(
    Tenant(name=f"Tenant {{i}}", slug=f"tenant-{{i}}", country=COUNTRIES[i % 3][0])
    for i in range({others} + 1))
def profiles(tenant, count):
    country, currency = [c for c in COUNTRIES if c[0] == tenant.country][0]
    return [BillingProfile(tenant=tenant, name=f"Profile {{n}}", currency=currency,
                           contact_name="C", email="a@b.example", phone="+1 555 0100",
                           address_line1="1 Main", city="Springfield", postal_code="10115",
                           country=country, invoice_emails=["a@b.example"], is_default=n == 0)
            for n in range(count)]
BillingProfile.objects.bulk_create(profiles(tenants[0], {BIG_TENANT_PROFILES}), batch_size=2000)
rows = [p for t in tenants[1:] for p in profiles(t, {PER_TENANT})]
BillingProfile.objects.bulk_create(rows, batch_size=2000)
user = User.objects.create_user(email="admin@tenant-0.example", password="bench-password-1")
Membership.objects.create(tenant=tenants[0], user=user, role=Role.ADMIN)
""",
    )
    # Five charges a profile, made on MADE: a purchase, a renewal, two added licenses, and in
    # one profile of two a credit for removed licenses instead of the last added one.
    sql(
        BASE,
        """
        WITH b AS (SELECT id, tenant_id, currency, row_number() OVER (ORDER BY id) AS k
                   FROM billing_billingprofile),
             p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM publishers_plan),
             c AS (SELECT b.*, n FROM b CROSS JOIN generate_series(0, %(per)s - 1) AS n)
        INSERT INTO billing_charge (tenant_id, billing_profile_id, subscription_uuid, plan_id,
            kind, description, quantity, unit_amount, amount, currency, period_start,
            period_end, credits_id, created_at)
        SELECT c.tenant_id, c.id, gen_random_uuid(),
               (SELECT id FROM p WHERE p.k = (c.k + c.n) %% 200),
               CASE WHEN c.n = 0 THEN 'purchase' WHEN c.n = 1 THEN 'renewal'
                    WHEN c.n = 4 AND c.k %% 2 = 0 THEN 'remove_quantity'
                    ELSE 'add_quantity' END,
               'App, Standard: 5 licenses, Feb 10 2027 to Mar 10 2027', 5, 1234,
               CASE WHEN c.n = 4 AND c.k %% 2 = 0 THEN -1234 ELSE 6170 + c.n * 7 END,
               c.currency, %(made)s::date, %(made)s::date + 28, NULL,
               %(made)s::timestamptz + (c.n || ' hours')::interval
        FROM c
        """,
        {"per": CHARGES_PER_PROFILE, "made": MADE},
    )
    sql(BASE, "VACUUM ANALYZE")
    charges, profiles = sql(
        BASE, "SELECT count(*), count(DISTINCT billing_profile_id) FROM billing_charge"
    )[0]
    print(
        f"loaded {charges:,} charges of {profiles:,} billing profiles "
        f"in {time.perf_counter() - started:.0f} s"
    )


def timed_process(args, database: str) -> tuple[float, float, str]:
    """Run a process to its end: wall seconds, peak RSS in MB (its own), its last line."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=ROOT, env=env(database), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = process.stdout.read().decode()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{args} failed:\n{output}")
    return wall, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def the_run(database: str) -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    args = [sys.executable, "manage.py", "run_invoicing", "--date", DAY]
    wall, rss, said = timed_process(args, database)
    documents, lines = sql(
        database,
        "SELECT (SELECT count(*) FROM billing_invoice WHERE number IS NOT NULL),"
        " (SELECT count(*) FROM billing_invoiceline)",
    )[0]
    queued = redis.Redis.from_url(REDIS).llen("bench-invoices")
    if lines != PROFILES * CHARGES_PER_PROFILE:
        raise SystemExit(f"only {lines:,} lines: {said}")
    ok = "ok" if wall < TIME_TARGET_S and rss < RSS_TARGET_MB else "MISSED"
    print(
        f"run_invoicing, one process:   {wall:6.1f} s, peak RSS {rss:.0f} MB "
        f"(targets < {TIME_TARGET_S} s, < {RSS_TARGET_MB} MB: {ok}); {documents:,} documents, "
        f"{lines:,} lines, {queued:,} PDF tasks queued\n  it said: {said}"
    )
    second, _rss, said = timed_process(args, database)
    print(f"second run (nothing left):    {second:6.1f} s ({said})")


def ceiling() -> None:
    """The same documents and lines, written by two bare INSERT ... SELECTs."""
    database = copy_of(BASE, "ceiling")
    started = time.perf_counter()
    sql(
        database,
        """
        INSERT INTO billing_invoice (tenant_id, billing_profile_id, uuid, kind, status,
            period_start, period_end, currency, subtotal, tax, total, amount_paid, amount_due,
            bill_to, seller, payment_method, payment_terms, po_number, tax_label, tax_note,
            pdf_file, pdf_sha256, created_at)
        SELECT b.tenant_id, b.id, gen_random_uuid(), 'invoice', 'draft', %(start)s::date,
               %(day)s::date, b.currency, s.amount, 0, s.amount, 0, s.amount, '{}', '{}',
               b.payment_method, '', '', '', '', '', '', now()
        FROM billing_billingprofile b
        JOIN (SELECT billing_profile_id, sum(amount) AS amount FROM billing_charge
              GROUP BY billing_profile_id) s ON s.billing_profile_id = b.id
        """,
        {"start": MADE[:8] + "01", "day": DAY},
    )
    sql(
        database,
        """
        INSERT INTO billing_invoiceline (invoice_id, charge_id, position, transaction_type,
            description, subscription_uuid, app_name, plan_name, publisher_name,
            publisher_address, period_start, period_end, quantity, unit_amount, amount,
            tax_rate, tax)
        SELECT i.id, c.id, row_number() OVER (PARTITION BY c.billing_profile_id ORDER BY c.id),
               c.kind, c.description, c.subscription_uuid, a.name, p.name, pub.legal_name,
               pub.address_line1, c.period_start, c.period_end, c.quantity, c.unit_amount,
               c.amount, 0, 0
        FROM billing_charge c
        JOIN billing_invoice i ON i.billing_profile_id = c.billing_profile_id
        JOIN publishers_plan p ON p.id = c.plan_id
        JOIN publishers_app a ON a.id = p.app_id
        JOIN publishers_publisher pub ON pub.id = a.publisher_id
        """,
    )
    seconds = time.perf_counter() - started
    print(f"ceiling, bare INSERT ... SELECT of the documents and lines: {seconds:6.1f} s")
    drop(database)


def pdf(database: str) -> None:
    out = django(
        database,
        """
import datetime, statistics, time, uuid
from billing.models import BillingProfile, Invoice
from billing.pdf import invoice_pdf_bytes
from billing.services import charge_create, invoice_profiles
from publishers.models import Plan
profile = BillingProfile.objects.filter(tenant__slug="tenant-1").order_by("pk").first()
plans = list(Plan.objects.order_by("pk")[:8])
made = datetime.datetime(2027, 3, 5, tzinfo=datetime.UTC)
for n in range(40):
    charge_create(profile=profile, subscription_uuid=uuid.uuid4(), plan=plans[n % 8],
                  kind="add_quantity", description=f"App, Standard: {n + 1} licenses added",
                  quantity=n + 1, unit_amount=1234, amount=1234 * (n + 1),
                  period_start=made.date(), period_end=datetime.date(2027, 4, 5), at=made)
invoice_profiles([profile.pk], day=datetime.date(2027, 4, 1))
invoice = Invoice.objects.select_related("tenant").get(
    billing_profile=profile, issue_date=datetime.date(2027, 4, 1))
assert invoice.lines.count() == 40
times = []
for _ in range(15):
    started = time.perf_counter()
    content = invoice_pdf_bytes(invoice)
    times.append((time.perf_counter() - started) * 1000)
print(f"{statistics.median(times):.0f} {min(times):.0f} {max(times):.0f} {len(content)}")
""",
    )
    median, low, high, size = out.split()
    ok = "ok" if float(median) < PDF_TARGET_MS else "MISSED"
    print(
        f"40-line invoice PDF:          {median:>6} ms median (min {low}, max {high}; "
        f"{int(size) // 1024} KB; target < {PDF_TARGET_MS} ms: {ok})"
    )


def page(database: str) -> None:
    sql(
        database,
        """
        WITH b AS (SELECT p.id, p.tenant_id, p.currency, p.payment_method,
                          row_number() OVER (ORDER BY p.id) - 1 AS k
                   FROM billing_billingprofile p JOIN portal_tenant t ON t.id = p.tenant_id
                   WHERE t.slug = 'tenant-0')
        INSERT INTO billing_invoice (tenant_id, billing_profile_id, uuid, kind, number, status,
            issue_date, due_date, period_start, period_end, currency, subtotal, tax, total,
            amount_paid, amount_due, bill_to, seller, payment_method, payment_terms,
            po_number, tax_label, tax_note, pdf_file, pdf_sha256, created_at)
        SELECT b.tenant_id, b.id, gen_random_uuid(), 'invoice',
               'INV-2019-' || lpad(n::text, 6, '0'),
               CASE WHEN n %% 3 = 0 THEN 'open' ELSE 'paid' END,
               d, d + 30, d - 28, d, b.currency, 6000 + n, 0, 6000 + n,
               CASE WHEN n %% 3 = 0 THEN 0 ELSE 6000 + n END,
               CASE WHEN n %% 3 = 0 THEN 6000 + n ELSE 0 END,
               '{}', '{}', b.payment_method, 'Net 30', '', 'Sales tax 0%%', '', '', '', now()
        FROM generate_series(1, %(older)s) AS n
        JOIN b ON b.k = n %% 20
        CROSS JOIN LATERAL (SELECT %(day)s::date - 7 * (1 + n / 20) AS d) AS issued
        """,
        {"older": LISTED - BIG_TENANT_PROFILES, "day": DAY},
    )
    sql(database, "ANALYZE billing_invoice")
    out = django(
        database,
        """
import statistics, time
from django.test import Client
from billing.models import BillingProfile, Invoice
from portal.models import User
client = Client(HTTP_HOST="testserver")
client.force_login(User.objects.get(email="admin@tenant-0.example"))
count = Invoice.objects.filter(tenant__slug="tenant-0").count()
profile = BillingProfile.objects.filter(tenant__slug="tenant-0").order_by("pk")[7]
urls = ["/t/tenant-0/billing/bills/", "/t/tenant-0/billing/bills/?page=120",
        f"/t/tenant-0/billing/bills/?status=open&billing_profile={profile.uuid}"]
times = []
for n in range(70):
    url = urls[n % 3]
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    if n >= 10:
        times.append(elapsed)
times.sort()
print(f"{times[int(len(times) * 0.95) - 1]:.1f} {statistics.median(times):.1f} {count}")
""",
    )
    p95, median, count = out.split()
    ok = "ok" if float(p95) < PAGE_TARGET_MS else "MISSED"
    print(
        f"Bills & payments, {int(count):,} invoices: p95 {p95} ms, median {median} ms "
        f"(target p95 < {PAGE_TARGET_MS} ms: {ok})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    options = parser.parse_args()
    load()
    database = copy_of(BASE, "run")
    try:
        the_run(database)
        ceiling()
        pdf(database)
        page(database)
    finally:
        drop(database)
        if not options.keep:
            drop(BASE)


if __name__ == "__main__":
    main()
