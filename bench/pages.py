"""Page speed: each portal page's requests per second as a share of a bare Django page's.

Serves the portal as the README runs it (gunicorn, 2 workers x 4 threads, DEBUG off,
PostgreSQL, the cache in Redis) beside a ceiling page (bench/ceiling.py: Django with no
middleware, one 10-row SELECT, a table) on the same machine, database and gunicorn settings,
and loads each with wrk (16 connections; scripts/ensure-wrk installs it). The catalog is
bench/marketplace.py's: 2,000 apps, 8,000 plans; the tenant has 20 members and 3 billing
profiles. Each round measures the ceiling before and after the pages and divides by their
mean, so a busy machine moves both. The target: every page at least 0.35 of the ceiling.

    .venv/bin/python bench/pages.py [--seconds 8] [--rounds 2]

It uses a database of its own (portal_bench_pages on the PostgreSQL at 127.0.0.1:5432,
dropped at the end) and Redis database 9 for the cache.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DB = "portal_bench_pages"
PORTAL_PORT, CEILING_PORT = 8701, 8702
TARGET = 0.35
STATIC_ROOT = tempfile.mkdtemp(prefix="bench-static-")
ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key",
    "DATABASE_URL": f"{PG}/{DB}",
    "CACHE_URL": "redis://127.0.0.1:6379/9",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "PORTAL_BASE_URL": f"http://127.0.0.1:{PORTAL_PORT}",
    "ALLOWED_HOSTS": "127.0.0.1",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "STATIC_ROOT": STATIC_ROOT,
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"


def create_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def drop_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def load_data():
    """The catalog, 20 members, 3 billing profiles; the signed-in admin's session cookie."""
    import django
    from django.core.cache import cache
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    cache.clear()

    from django.conf import settings
    from django.test import Client

    from bench.marketplace import load_catalog
    from billing.services import billing_profile_create
    from portal.audit import Actor
    from portal.models import Membership, Role, Tenant, User
    from publishers.models import App

    user = load_catalog()
    tenant = Tenant.objects.get(slug="bench")
    for i in range(19):
        person = User.objects.create_user(f"person{i}@bench.example")
        Membership.objects.create(user=person, tenant=tenant, role=Role.MEMBER)
    for name in ("Bench HQ", "Bench Research", "Bench Lab"):
        billing_profile_create(
            tenant=tenant,
            values={
                "name": name,
                "contact_name": "Casey Contact",
                "email": "ap@bench.example",
                "phone": "+49 30 555 0100",
                "address_line1": "Hauptstrasse 1",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
                "invoice_emails": ["ap@bench.example"],
            },
            payment_method="check_wire",
            actor=Actor.system(),
        )
    client = Client()
    client.force_login(user)
    app = App.objects.filter(is_published=True).order_by("pk").first()
    pages = {
        "Home": "/t/bench/",
        "Marketplace": "/t/bench/marketplace/",
        "Marketplace app": f"/t/bench/marketplace/apps/{app.uuid}/",
        "Billing profiles": "/t/bench/billing/accounts/",
        "Members": "/t/bench/settings/members/",
        "Audit log": "/t/bench/settings/audit-log/",
    }
    return client.cookies[settings.SESSION_COOKIE_NAME].value, pages


def serve(target: str, port: int, settings: str) -> subprocess.Popen:
    gunicorn = [sys.executable, "-m", "gunicorn", target, "--workers", "2", "--threads", "4"]
    process = subprocess.Popen(
        [*gunicorn, "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        # Each server its own settings: the ceiling must not run as the portal.
        env={**os.environ, **ENV, "DJANGO_SETTINGS_MODULE": settings},
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # it answers (a redirect to log in, say)
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"gunicorn {target} did not start on port {port}")


def check(url: str, cookie: str) -> None:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200 or response.url != url:
            raise SystemExit(f"{url} answered {response.status} at {response.url}")


def check_ceiling(url: str) -> None:
    """The ceiling answers its own page, not the portal's (a redirect would pass for one)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
        if response.status != 200 or response.url != url or "<title>Ceiling</title>" not in body:
            raise SystemExit(f"{url} is not the ceiling page: {response.status} {body[:200]!r}")


def load(url: str, cookie: str, seconds: int) -> tuple[float, float]:
    """Requests per second and median latency (ms) of wrk -c16 on the URL."""
    wrk = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*wrk, "-H", f"Cookie: sessionid={cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url}: some answers were not 2xx or 3xx:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()
    return rps, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per page")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    subprocess.run([ROOT / "scripts" / "ensure-wrk"], check=True, stdout=subprocess.DEVNULL)
    create_database()
    servers = []
    try:
        cookie, pages = load_data()
        servers = [
            serve("portal.wsgi", PORTAL_PORT, "portal.settings"),
            serve("bench.ceiling:application", CEILING_PORT, "bench.ceiling"),
        ]
        ceiling_url = f"http://127.0.0.1:{CEILING_PORT}/"
        check_ceiling(ceiling_url)
        urls = {name: f"http://127.0.0.1:{PORTAL_PORT}{path}" for name, path in pages.items()}
        for url in urls.values():
            check(url, cookie)
            load(url, cookie, 1)  # warm the workers' caches and connections
        load(ceiling_url, cookie, 1)
        ratios = {name: [] for name in urls}
        for round_ in range(1, args.rounds + 1):
            before, _ = load(ceiling_url, cookie, args.seconds)
            figures = {name: load(url, cookie, args.seconds) for name, url in urls.items()}
            after, _ = load(ceiling_url, cookie, args.seconds)
            ceiling = (before + after) / 2
            print(
                f"round {round_}: ceiling {ceiling:,.0f} req/s "
                f"(before {before:,.0f}, after {after:,.0f})"
            )
            for name, (rps, p50) in figures.items():
                ratios[name].append(rps / ceiling)
                print(
                    f"  {name:<18} {rps:8,.0f} req/s  p50 {p50:6.1f} ms  "
                    f"{rps / ceiling:5.3f} of the ceiling (target >= {TARGET})"
                )
        print(f"median over {args.rounds} rounds, target >= {TARGET} of the ceiling:")
        for name, values in ratios.items():
            median = statistics.median(values)
            verdict = "met" if median >= TARGET else "NOT met"
            print(f"  {name:<18} {median:5.3f}  {verdict}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        drop_database()


if __name__ == "__main__":
    main()
