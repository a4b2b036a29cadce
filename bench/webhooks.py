"""Webhook delivery throughput: 10,000 queued events, a 2-process Celery worker, a local
receiver that answers 200 at once.

The data, in PostgreSQL: one publisher whose webhook URL is the receiver on loopback, 100
tenants, and 10,000 of its subscriptions that end on DAY without renewing. `manage.py
run_lifecycle --date DAY` expires them, as in production: 10,000 Unsubscribe events in the
outbox, their bodies still empty. That database is the template of each measurement's copy.

  1. the ceiling: 10,000 no-op Celery tasks (`bench/celery_noop.py`) queued in Redis, then
     the same worker started (`--concurrency 2`, prefork, the portal's Celery settings:
     acks late, prefetch 1): tasks per second from the worker being ready to the queue empty
     and nothing unacknowledged;
  2. deliveries: the webhook sweep (`sweep_webhooks`, beat's task, run here until nothing is
     left to send) renders the bodies and queues their tasks (50 events a task, as the
     sweep sends them; a change's own webhook goes in a task of its own); then the worker is
     started: deliveries per second, counted the same way (target at least 300), and from
     the first attempt to the last delivery by the outbox's own times;
  3. drain after an outage: on a fresh copy, the receiver is down (its port refuses) while
     the worker takes every queued task once (each batch tries one event, and gives the
     rest back to wait for that one's retry: a receiver that doesn't answer costs a batch
     one attempt); it is started again then, and the sweep sent every 5 s as beat does: the
     time from the worker being ready until all 10,000 are delivered (the events tried are
     tried again after WEBHOOK_RETRY_FIRST_DELAY, 10 s, with jitter), and how many
     attempts that took.

    .venv/bin/python bench/webhooks.py [--keep]

It uses the databases portal_bench_hooks* on the PostgreSQL at 127.0.0.1:5432 (dropped at
the end unless --keep) and Redis database 11 (emptied first). Run it on a quiet machine,
more than once.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench_db import admin, drop, portal_env, sql
from bench_db import copy as copy_of

ROOT = Path(__file__).resolve().parents[1]
BASE = "portal_bench_hooks"
REDIS = "redis://127.0.0.1:6379/11"
DAY = "2027-03-15"
EVENTS, TENANTS = 10_000, 100
TARGET_PER_S = 300
RECEIVER = """
import socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the workers' pooled connections stay open

    def setup(self):
        super().setup()  # its headers and body are two writes: no Nagle wait between them
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def copy(name: str) -> str:
    return copy_of(BASE, name)


def env(database: str, queue: str = "bench-hooks") -> dict:
    return portal_env(
        database,
        REDIS,
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_QUEUE=queue,
        WEBHOOK_ALLOW_LOOPBACK="true",
    )


def django(database: str, code: str, queue: str = "bench-hooks") -> None:
    environment = env(database, queue)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load(port: int) -> None:
    """Migrate a new database, fill it, and expire the subscriptions by the lifecycle sweep:
    10,000 Unsubscribe events in the outbox."""
    drop(BASE)
    admin(f'CREATE DATABASE "{BASE}"')
    started = time.perf_counter()
    django(
        BASE,
        f"""
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from billing.models import BillingProfile
from portal.models import Tenant
from publishers.models import App, Category, Plan, Price, PricingModel, Publisher, Term
publisher = Publisher.objects.create(
    name="Quick Hooks", slug="quick-hooks", legal_name="Q Ltd.", address_line1="1 Road",
    city="Town", country="GB", support_url="https://q.example/", support_email="s@q.example",
    landing_page_url="https://q.example/go",
    webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    webhook_url="http://127.0.0.1:{port}/hooks")
app = App.objects.create(
    publisher=publisher, offer_id="quick", name="Quick", summary="S.", description="D.",
    category=Category.values[0], pricing_model=PricingModel.PER_SEAT, is_published=True)
plan = Plan.objects.create(app=app, plan_id="team", name="Team", term=Term.MONTHLY,
    pricing_model=PricingModel.PER_SEAT, min_quantity=1, max_quantity=10_000)
Price.objects.create(plan=plan, currency="USD", amount=1000)
tenants = Tenant.objects.bulk_create(
    Tenant(name=f"Tenant {{i}}", slug=f"tenant-{{i}}", country="US") for i in range({TENANTS}))
BillingProfile.objects.bulk_create(
    BillingProfile(tenant=t, name="HQ", currency="USD", contact_name="C", email="a@b.example",
                   phone="+1 555 0100", address_line1="1 Main", city="Springfield",
                   postal_code="10115", country="US", invoice_emails=["a@b.example"],
                   is_default=True)
    for t in tenants)
""",
    )
    sql(
        BASE,
        """
        WITH b AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, tenant_id
                   FROM billing_billingprofile)
        INSERT INTO subscriptions_subscription (
            uuid, tenant_id, plan_id, name, pricing_model, term, quantity, unit_amount,
            currency, billing_profile_id, status, disabled_reason, term_start, term_end,
            auto_renew, bought_via, created_at, activated_at, term_started_at)
        SELECT gen_random_uuid(), b.tenant_id, (SELECT id FROM publishers_plan), 'Quick ' || n,
               'per_seat', 'P1M', 10, 1000, 'USD', b.id, 'active', '',
               %(day)s::date - interval '1 month', %(day)s::date, false, 'direct',
               %(day)s::date - 400, %(day)s::date - interval '13 months',
               %(day)s::date - interval '1 month'
        FROM generate_series(0, %(events)s - 1) AS n JOIN b ON b.k = n %% %(tenants)s
        """,
        {"day": DAY, "events": EVENTS, "tenants": TENANTS},
    )
    subprocess.run(
        [sys.executable, "manage.py", "run_lifecycle", "--date", DAY],
        cwd=ROOT,
        env=env(BASE, queue=f"bench-mail-{uuid.uuid4().hex[:6]}"),  # e-mails: no worker
        check=True,
        stdout=subprocess.DEVNULL,
    )
    sql(BASE, "VACUUM ANALYZE")
    events = sql(BASE, "SELECT count(*) FROM publishers_webhookevent WHERE status = 'pending'")
    if events[0][0] != EVENTS:
        raise SystemExit(f"the lifecycle sweep wrote {events[0][0]} events, not {EVENTS}")
    print(
        f"loaded {EVENTS:,} expiring subscriptions; run_lifecycle wrote their {EVENTS:,} "
        f"Unsubscribe events in {time.perf_counter() - started:.0f} s"
    )


class Receiver:
    def __init__(self, port: int):
        self.port, self.process = port, None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(self.port)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the receiver did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def worker(database: str, queue: str, log: Path, *extra: str) -> subprocess.Popen:
    """The 2-process worker, started; returned once it says it is ready."""
    command = [
        *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
        *("--pool", "prefork", "--concurrency", "2", "--queues", queue),
        *("--loglevel", "INFO", "--hostname", f"{queue}@bench"),
        *("--without-heartbeat", "--without-mingle", "--without-gossip", *extra),
    ]
    output = log.open("w")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env(database, queue), stdout=output, stderr=output
    )
    deadline = time.monotonic() + 60
    while " ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.01)
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def drained(broker, queue: str) -> bool:
    """Nothing waits in the queue and nothing taken is unacknowledged (acks late)."""
    return broker.llen(queue) == 0 and broker.hlen("unacked") == 0


def wait_for(condition, what: str, limit: float = 600) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > limit:
            raise SystemExit(f"not {what} within {limit:.0f} s")
        time.sleep(0.01)
    return time.perf_counter() - started


def ceiling(tmp: Path) -> float:
    import redis

    broker = redis.Redis.from_url(REDIS)
    broker.flushdb()
    queue = f"bench-noop-{uuid.uuid4().hex[:6]}"
    django(
        BASE,
        f"""
import django; django.setup()
from bench.celery_noop import noop
for n in range({EVENTS}):
    noop.apply_async((n,), task_id=f"noop-{{n}}", queue="{queue}")
""",
    )
    assert broker.llen(queue) == EVENTS
    process = worker(BASE, queue, tmp / "noop.log", "--include", "bench.celery_noop")
    seconds = wait_for(lambda: drained(broker, queue), "drained")
    stop(process)
    rate = EVENTS / seconds
    print(f"ceiling, Celery no-op tasks:  {rate:7.0f} per s   ({EVENTS:,} in {seconds:.1f} s)")
    return rate


def queue_by_sweep(database: str, queue: str) -> None:
    """Beat's sweep, run until it sends nothing more: bodies rendered, 10,000 tasks queued."""
    django(
        database,
        """
import django; django.setup()
from publishers.tasks import sweep_webhooks
while sweep_webhooks():
    pass
""",
        queue,
    )


def delivered(database: str) -> int:
    return sql(database, "SELECT count(*) FROM publishers_webhookevent WHERE status = 'delivered'")[
        0
    ][0]


def deliveries(tmp: Path, receiver: Receiver, ceiling_rate: float) -> None:
    import redis

    broker = redis.Redis.from_url(REDIS)
    broker.flushdb()
    database, queue = copy("run"), f"bench-hooks-{uuid.uuid4().hex[:6]}"
    queue_by_sweep(database, queue)
    tasks = broker.llen(queue)  # the sweep's: BATCH events a task
    process = worker(database, queue, tmp / "hooks.log")
    seconds = wait_for(lambda: drained(broker, queue), "drained")
    stop(process)
    done = delivered(database)
    (span,) = sql(
        database,
        "SELECT extract(epoch FROM max(first_success_at) - (SELECT min(at) FROM "
        "publishers_webhookattempt)) FROM publishers_webhookevent",
    )[0]
    attempts = sql(database, "SELECT count(*) FROM publishers_webhookattempt")[0][0]
    if done != EVENTS:
        raise SystemExit(f"{done:,} of {EVENTS:,} delivered\n{(tmp / 'hooks.log').read_text()}")
    rate = EVENTS / seconds
    ok = "ok" if rate >= TARGET_PER_S else "MISSED"
    print(
        f"webhook deliveries:           {rate:7.0f} per s   ({EVENTS:,} in {seconds:.1f} s, "
        f"{attempts:,} attempts, {tasks:,} tasks; target >= {TARGET_PER_S}: {ok}; "
        f"{rate / ceiling_rate:.2f} of the ceiling; first attempt to last delivery "
        f"{float(span):.1f} s: {EVENTS / float(span):.0f} per s)"
    )
    drop(database)


def outage(tmp: Path, receiver: Receiver) -> None:
    import redis

    broker = redis.Redis.from_url(REDIS)
    broker.flushdb()
    database, queue = copy("outage"), f"bench-hooks-{uuid.uuid4().hex[:6]}"
    queue_by_sweep(database, queue)
    receiver.stop()
    process = worker(database, queue, tmp / "outage.log")
    started = time.perf_counter()
    wait_for(lambda: drained(broker, queue), "every task taken")
    down_for = time.perf_counter() - started
    receiver.start()
    sweep = (
        "import django; django.setup()\nfrom publishers.tasks import sweep_webhooks\n"
        "sweep_webhooks.apply_async()"
    )
    last_sweep = time.perf_counter()
    while delivered(database) < EVENTS:
        if time.perf_counter() - started > 900:
            raise SystemExit(f"not drained in 15 minutes: {delivered(database):,} delivered")
        if time.perf_counter() - last_sweep >= 5:  # beat's schedule: every 5 s
            last_sweep = time.perf_counter()
            django(database, sweep, queue)
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    stop(process)
    attempts, refused = sql(
        database,
        "SELECT count(*), count(*) FILTER (WHERE status_code IS NULL) "
        "FROM publishers_webhookattempt",
    )[0]
    print(
        f"drain after an outage:        {seconds:7.1f} s     ({EVENTS:,} delivered; the receiver "
        f"down for the first {down_for:.1f} s, {refused:,} attempts refused, "
        f"{attempts:,} attempts in all)"
    )
    drop(database)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    options = parser.parse_args()
    tmp = Path(f"/tmp/bench-webhooks-{os.getpid()}")
    tmp.mkdir(exist_ok=True)
    port = free_port()
    receiver = Receiver(port)
    load(port)
    try:
        receiver.start()
        rate = ceiling(tmp)
        deliveries(tmp, receiver, rate)
        outage(tmp, receiver)
    finally:
        receiver.stop()
        if not options.keep:
            drop(BASE)


if __name__ == "__main__":
    main()
