"""Webhooks through their faults, the real way: changes made by the services, their tasks
sent on commit to a Redis of the test's own, a real Celery worker delivering them to a
receiver on loopback, and the sweep (beat's job; no beat runs here, so the test runs it every
SWEEP_EVERY seconds) sending again what is due. The receiver goes down, a worker is killed
mid-delivery, the Redis restarts and forgets its queue, a change rolls back: every committed
change still reaches the publisher, once in effect (one webhook-id), in order per subscription.

The workers wait WEBHOOK_RETRY_FIRST_DELAY (2 s here) before a second attempt. Two waits of
`publishers.webhooks` are minutes long: CLAIM, a killed worker's hold on its event, and
ENQUEUED, how long the sweep trusts a sent task to be on its way. Where a fault costs those,
`as_if_past` moves the events' marks back by them rather than spending the minutes.
"""

import itertools
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook

from portal.audit import Actor
from publishers import webhooks
from publishers.models import WebhookEvent, WebhookStatus
from publishers.tasks import sweep_webhooks
from subscriptions import services
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)

from .conftest import free_port

SWEEP_EVERY = 0.2  # seconds: beat's 5 s, shortened
FIRST_DELAY = 2.0  # WEBHOOK_RETRY_FIRST_DELAY of the workers: 2 s, 4 s, ...
PATIENCE = 90  # seconds a step may take before the test gives up on it
SYSTEM = Actor.system("test")
DELIVERED, PENDING = WebhookStatus.DELIVERED, WebhookStatus.PENDING


@pytest.fixture
def celery_broker_url(own_redis):
    return own_redis.url  # never the machine's shared Redis: these tests break theirs


@pytest.fixture
def celery_worker_env():
    return {"WEBHOOK_RETRY_FIRST_DELAY": str(FIRST_DELAY)}


class Receiver:
    """A publisher's webhook endpoint on a loopback port: keeps each request's headers and
    body, answers `answers` in turn (then 200). Given a `hold` (an Event), the next request
    waits for it before answering. Stopped, its port refuses connections; started again, it
    listens on the same port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received, self.answers, self.hold = [], [], None
        self.holds, self.lock, self._server = [], threading.Lock(), None

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.receiver = self
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take(self, headers: dict, body: str):
        """Keep a request; the answer's status and the event to wait for first (or None)."""
        with self.lock:
            self.received.append((headers, body))
            hold, self.hold = self.hold, None
            return (self.answers.pop(0) if self.answers else 200), hold


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a held request doesn't keep the server from closing

    def handle_error(self, request, client_address):
        pass  # a killed worker hung up on a held request


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status, hold = self.server.receiver.take(dict(self.headers), body.decode())
        if hold is not None:
            hold.wait(timeout=PATIENCE)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(f"answered {status}".encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    for hold in (server.hold, *server.holds):
        if hold is not None:
            hold.set()
    server.stop()


def hold(receiver) -> threading.Event:
    """Make the receiver's next request wait until the returned event is set."""
    receiver.hold = threading.Event()
    receiver.holds.append(receiver.hold)
    return receiver.hold


@pytest.fixture
def publisher(receiver):
    return PublisherFactory(webhook_url=receiver.url)


@pytest.fixture
def new_subscription(tenant, admin, publisher):
    """A function making an active subscription of the publisher's (activated: nothing to
    tell the publisher yet)."""
    plan = PlanFactory(app=AppFactory(publisher=publisher), plan_id="team")
    profile = BillingProfileFactory(tenant=tenant)

    def make():
        made = SubscriptionFactory(billing_profile=profile, plan=plan, bought_by=admin)
        return services.subscription_activate(subscription=made, actor=SYSTEM)

    return make


def cancel(sub):
    """The customer's admin cancels: an Unsubscribe webhook, its task sent on commit."""
    user = sub.bought_by
    return services.subscription_cancel(
        subscription=sub, actor=Actor(type="user", label=user.email, user=user)
    )


def until(condition, what: str, *, then=None, logs=()) -> None:
    """Wait until `condition()` holds, running `then()` every SWEEP_EVERY seconds meanwhile."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            said = "".join(line for log in logs for line in log[-25:])
            raise AssertionError(f"not {what} within {PATIENCE} s; the workers said:\n{said}")
        if then is not None:
            then()
        time.sleep(SWEEP_EVERY)


@pytest.fixture
def sweep_until(start_celery_worker):
    """`until`, running the webhook sweep meanwhile, as beat would."""

    def wait(condition, what: str) -> None:
        logs = [worker.log for worker in start_celery_worker.started]
        until(condition, what, then=sweep_webhooks, logs=logs)

    return wait


def status(event) -> str:
    event.refresh_from_db()
    return event.status


def all_delivered() -> bool:
    return not WebhookEvent.objects.exclude(status=DELIVERED).exists()


def as_if_past(events) -> None:
    """Move the events' claims and their last tasks back by CLAIM and ENQUEUED, as if those
    minutes had passed: the sweep then takes them as it would after waiting."""
    WebhookEvent.objects.filter(pk__in=[event.pk for event in events], status=PENDING).update(
        claimed_until=F("claimed_until") - webhooks.CLAIM,
        enqueued_at=F("enqueued_at") - webhooks.ENQUEUED,
    )


def verified(receiver, publisher) -> list[tuple[str, dict]]:
    """What the receiver got, in order: (webhook-id, body), each body checked against its
    signature with the publisher's secret by the standardwebhooks library (it raises if bad)."""
    check = Webhook(publisher.webhook_secret)
    return [
        (headers["webhook-id"], check.verify(body, headers)) for headers, body in receiver.received
    ]


def test_a_webhook_to_a_receiver_that_was_down_is_delivered_once_it_is_back(
    celery_worker, receiver, publisher, new_subscription, sweep_until
):
    sub = new_subscription()
    receiver.stop()
    cancel(sub)
    event = WebhookEvent.objects.get()
    sweep_until(lambda: event.attempts.count() == 2, "tried twice")
    receiver.start()
    sweep_until(lambda: status(event) == DELIVERED, "delivered")

    attempts = list(event.attempts.order_by("number"))
    assert [(a.number, a.status_code) for a in attempts] == [(1, None), (2, None), (3, 200)]
    assert all("ConnectError" in attempt.error for attempt in attempts[:2])
    waits = [
        (later.at - earlier.at).total_seconds() for earlier, later in itertools.pairwise(attempts)
    ]
    assert FIRST_DELAY * 0.8 <= waits[0] < waits[1], waits
    assert [(webhook_id, body["action"]) for webhook_id, body in verified(receiver, publisher)] == [
        (str(event.uuid), "Unsubscribe")
    ]


def test_a_worker_killed_inside_its_post_is_replaced_and_the_webhook_delivered(
    start_celery_worker, receiver, publisher, new_subscription, sweep_until
):
    worker = start_celery_worker()
    sub = new_subscription()
    answer = hold(receiver)  # the worker is inside its POST...
    cancel(sub)
    event = WebhookEvent.objects.get()
    until(lambda: len(receiver.received) == 1, "received")
    worker.send_signal(signal.SIGKILL)  # ...when it dies
    worker.wait(timeout=10)
    answer.set()  # to no one
    start_celery_worker()

    event.refresh_from_db()
    assert event.status == PENDING and event.claimed_until > timezone.now()
    assert webhooks.webhooks_due() == []  # the dead worker's claim holds it for CLAIM
    as_if_past([event])
    sweep_until(lambda: status(event) == DELIVERED, "delivered after the worker's death")

    # The same webhook-id twice: the first answer never reached the killed worker.
    assert [webhook_id for webhook_id, _ in verified(receiver, publisher)] == [str(event.uuid)] * 2
    assert event.attempt_count == 2
    cut_off, delivered = event.attempts.order_by("number")
    assert (cut_off.number, cut_off.status_code, cut_off.error) == (1, None, webhooks.CUT_OFF)
    assert (delivered.number, delivered.status_code) == (2, 200)


def test_events_whose_tasks_a_redis_restart_lost_are_delivered_by_the_sweep(
    start_celery_worker,
    celery_worker,
    own_redis,
    celery_queue,
    receiver,
    publisher,
    new_subscription,
    sweep_until,
):
    first, *others = (new_subscription() for _ in range(4))
    answer = hold(receiver)  # the worker is busy with the first...
    cancel(first)
    until(lambda: len(receiver.received) == 1, "received")
    for sub in others:  # ...while the others' tasks wait in Redis
        cancel(sub)
    assert own_redis.client().llen(celery_queue) == 3
    own_redis.kill()
    own_redis.start()
    assert own_redis.client().llen(celery_queue) == 0  # their tasks are gone
    answer.set()
    until(lambda: WebhookEvent.objects.filter(status=DELIVERED).count() == 1, "first delivered")

    lost = list(WebhookEvent.objects.filter(status=PENDING))
    assert len(lost) == 3 and all(event.attempt_count == 0 for event in lost)
    assert webhooks.webhooks_due() == []  # the sweep trusts their tasks for ENQUEUED
    as_if_past(lost)
    sweep_until(all_delivered, "all delivered after the restart")

    got = [webhook_id for webhook_id, _ in verified(receiver, publisher)]
    sent = WebhookEvent.objects.values_list("uuid", flat=True)
    assert sorted(got) == sorted(str(webhook_id) for webhook_id in sent)  # each once
    # The worker that lived through the restart delivered them: it reconnected.
    assert len(start_celery_worker.started) == 1 and celery_worker.poll() is None


def test_a_change_committed_while_redis_is_down_is_delivered_once_it_is_back(
    celery_worker, own_redis, receiver, publisher, new_subscription, sweep_until
):
    sub = new_subscription()
    own_redis.kill()
    cancel(sub)  # committed: its task couldn't be sent, and the change isn't undone for it
    event = WebhookEvent.objects.get()
    assert (event.status, event.enqueued_at) == (PENDING, None)  # the next sweep's
    own_redis.start()
    sweep_until(lambda: status(event) == DELIVERED, "delivered after Redis came back")
    assert [body["action"] for _, body in verified(receiver, publisher)] == ["Unsubscribe"]


def test_a_rolled_back_change_sends_no_webhook(
    celery_worker, receiver, publisher, new_subscription, sweep_until
):
    sub = new_subscription()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.subscription_suspend(subscription=sub, actor=SYSTEM)
        raise RuntimeError("the change failed")
    assert not WebhookEvent.objects.exists()
    cancel(sub)  # a change that stays, sent after it: its webhook is the only one
    sweep_until(all_delivered, "delivered")

    assert [body["action"] for _, body in verified(receiver, publisher)] == ["Unsubscribe"]
    assert list(WebhookEvent.objects.values_list("action", flat=True)) == ["Unsubscribe"]


def test_a_subscriptions_changes_arrive_in_order_when_the_first_fails_twice(
    celery_worker, receiver, publisher, new_subscription, sweep_until
):
    sub = new_subscription()
    receiver.answers = [500, 500]
    sub = services.subscription_suspend(subscription=sub, actor=SYSTEM)
    sub = services.subscription_reinstate(subscription=sub, actor=SYSTEM)
    cancel(sub)
    first, second, third = WebhookEvent.objects.order_by("pk")
    # The later two's tasks find the first pending and leave them; the first's delivery
    # sends the second's task, whose delivery sends the third's (no wait for ENQUEUED).
    sweep_until(all_delivered, "all delivered")

    got = verified(receiver, publisher)
    assert [(webhook_id, body["action"]) for webhook_id, body in got] == [
        *[(str(first.uuid), "Suspend")] * 3,
        (str(second.uuid), "Reinstate"),
        (str(third.uuid), "Unsubscribe"),
    ]
    assert list(first.attempts.values_list("status_code", flat=True)) == [500, 500, 200]
