"""Webhooks to publishers: written to the outbox in the transaction of the change
(`webhook_enqueue`), delivered by Celery (`tasks.deliver_webhook`, the change's own event,
sent on commit; `tasks.deliver_webhooks`, up to BATCH events the sweep found due, or those
next in line behind one just settled), re-sent by the frequent sweep (`webhooks_due`)
whatever the queue lost.

A delivery claims its events with one conditional UPDATE (pending, due, first in line for
their subscription, not claimed), so two workers never send one at once; it signs each body per
Standard Webhooks with the publisher's secret, POSTs it with a 15-second timeout over a
pooled client to the address `addresses.webhook_target` checked, and records the attempt,
settling each event in its own transaction as soon as it is answered.
A 2xx answer delivers the event; to a customer's change waiting for the publisher, a 4xx
one (but 408, 421, 425 and 429) is its no: declined; anything else (a 4xx to a notice of a
change already made too) is tried again later, with exponential backoff and jitter, until
8 hours after the event was written: then it has failed. Settling an event sends
`signals.webhook_settled`, inside the transaction that settles it.
"""

import datetime
import json
import logging
import random
import time
from collections import defaultdict

import httpx
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from standardwebhooks import Webhook

from portal.audit import Actor, audit_record

from . import transport
from .addresses import RESOLVE_TIMEOUT, UnsafeURL, webhook_target
from .models import WebhookAttempt, WebhookEvent, WebhookStatus
from .models.webhooks import EXCERPT
from .signals import webhook_settled

TIMEOUT = 15.0  # seconds, per attempt
CLAIM = datetime.timedelta(seconds=60)  # a delivery's hold on its event: above TIMEOUT
LAST_START = CLAIM.total_seconds() - 2 * TIMEOUT  # a batch's last POST starts before this
ENQUEUED = datetime.timedelta(minutes=2)  # the sweep sends no second task within this
RETRY_FOR = datetime.timedelta(hours=8)
MAX_DELAY = 30 * 60.0
RETRYABLE_4XX = {408, 421, 425, 429}
ASKING = {"ChangePlan", "ChangeQuantity"}  # with status InProgress: the publisher's answer
USER_AGENT = "Marketplace-Webhooks/1.0"
SWEEP_BATCH = 2_000
BATCH = 50  # events per delivery task the sweep sends: Celery's cost per task, shared
CUT_OFF = (  # a batch's events after the one in flight were claimed, and are counted, too
    "Cut off: no outcome was recorded (its worker stopped, or took longer than its claim, "
    "before or while sending it)."
)

logger = logging.getLogger(__name__)


def _send(host: str, url: httpx.URL, deadline: float, **request) -> tuple[int, str]:
    """POST over the worker's pooled client for `host`; with Celery eager (the demo, where a
    delivery runs inside a web request's short-lived thread) over a client closed after it.
    The answer's status and its first EXCERPT bytes, all within `deadline` seconds (a
    receiver trickling its answer doesn't hold the worker)."""
    if current_app.conf.task_always_eager:
        with transport.new_client() as client:
            return transport.post(client, url, deadline=deadline, limit=EXCERPT, **request)
    client = transport.pooled_client(host)
    return transport.post(client, url, deadline=deadline, limit=EXCERPT, **request)


def _event(*, publisher, subscription, action: str, payload: dict, webhook_id, now):
    return WebhookEvent(
        uuid=webhook_id,
        publisher=publisher,
        subscription=subscription,
        action=action,
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        created_at=now,
        give_up_at=now + RETRY_FOR,
        next_attempt_at=now,
    )


def webhook_enqueue(*, publisher, subscription, action: str, payload: dict, webhook_id) -> int:
    """Write one event to the outbox, in the caller's transaction; its task goes out when
    that commits (and if it is lost, the sweep sends another). The event's id."""
    from .tasks import deliver_webhook

    now = timezone.now()
    event = _event(
        publisher=publisher,
        subscription=subscription,
        action=action,
        payload=payload,
        webhook_id=webhook_id,
        now=now,
    )
    event.enqueued_at = now
    event.save(force_insert=True)
    transaction.on_commit(lambda: send_task(deliver_webhook, event.pk, 1))
    return event.pk


def webhooks_enqueue_many(events: list[tuple], *, action: str, now=None) -> None:
    """`webhook_enqueue` for a batch the lifecycle sweep moved: each event a (webhook id,
    publisher id, subscription id). Written set-based, their bodies still empty (rendered
    when the sweep first sends them, by the `bodies_from` renderer); no task is sent: the
    sweep sends them, a batch at a time."""
    if not events:
        return
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        table = WebhookEvent._meta.db_table
        columns = [list(column) for column in zip(*events, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (uuid, publisher_id, subscription_id, action, body,"
                " status, attempt_count, next_attempt_at, created_at, give_up_at)"
                " SELECT e.uuid, e.publisher_id, e.subscription_id, %s, '', %s, 0, %s, %s, %s"
                " FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[])"
                " AS e(uuid, publisher_id, subscription_id)",
                [action, WebhookStatus.PENDING, now, now, now + RETRY_FOR, *columns],
            )
        return
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                uuid=webhook_id,
                publisher_id=publisher_id,
                subscription_id=subscription_id,
                action=action,
                body="",
                created_at=now,
                give_up_at=now + RETRY_FOR,
                next_attempt_at=now,
            )
            for webhook_id, publisher_id, subscription_id in events
        ],
        batch_size=1000,
    )


_renderers = []


def bodies_from(render) -> None:
    """Name the function that renders the bodies of events written without one
    (`webhooks_enqueue_many`): it takes a list of events and returns {event pk: payload}.
    The subscriptions app names it when it is ready (publishers imports nothing above it)."""
    _renderers[:] = [render]


def _render_bodies(events: list[WebhookEvent]) -> None:
    """Fill in the bodies of those of `events` that have none, and store them, so each
    retry and replay sends the same bytes: the subscription as it was when the event was
    first sent (its operation part, what changed, is the operation's and never moves)."""
    events = [event for event in events if not event.body]
    if not events or not _renderers:
        return
    payloads = _renderers[0](events)
    for event in events:
        event.body = json.dumps(payloads[event.pk], separators=(",", ":"), ensure_ascii=False)
    if connection.vendor == "postgresql":
        table = WebhookEvent._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET body = v.body FROM unnest(%s::bigint[], %s::text[])"
                f" AS v(id, body) WHERE {table}.id = v.id AND {table}.body = ''",
                [[event.pk for event in events], [event.body for event in events]],
            )
    else:
        WebhookEvent.objects.bulk_update(events, ["body"], batch_size=500)


def send_task(task, event_id: int, attempt: int) -> bool:
    """Send the event's delivery task; False when the broker can't be reached (logged: the
    outbox keeps the event, and the next sweep sends it)."""
    try:
        task.apply_async((event_id,), task_id=f"webhook-{event_id}-{attempt}")
    except KombuOperationalError as failure:
        logger.warning("Webhook %s: its task wasn't sent (%s); the sweep will.", event_id, failure)
        not_sent([event_id])
        return False
    return True


def send_batches(task, due: list[tuple[int, int]]) -> int:
    """Send the delivery tasks of the (id, attempt) events `webhooks_due` gave, BATCH a
    task, each task's id made of its events' ids and attempts; how many events went. At the
    first the broker refuses, the rest are left to the next sweep."""
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        ids = [pk for pk, _ in batch]
        task_id = "webhooks-" + "-".join(f"{pk}.{attempt}" for pk, attempt in batch)
        try:
            task.apply_async((ids,), task_id=task_id[:200])
        except KombuOperationalError as failure:
            logger.warning("Webhooks: tasks not sent (%s); the next sweep will.", failure)
            not_sent([pk for pk, _ in due[start:]])
            return start
    return len(due)


def not_sent(event_ids: list[int]) -> None:
    """The events' tasks didn't go out: the sweep takes them at its next run."""
    WebhookEvent.objects.filter(pk__in=event_ids).update(enqueued_at=None)


def webhooks_due(*, now=None, batch: int = SWEEP_BATCH) -> list[tuple[int, int]]:
    """Mark as sent, and return, the events a task should be sent for now: due, first in
    line, not being delivered and not sent for within ENQUEUED. (id, attempt number) each.
    Renders the bodies of up to `batch` pending events written without one, in line or not."""
    now = now or timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    quiet = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - ENQUEUED)
    with transaction.atomic():
        rows = list(
            WebhookEvent.objects.due(now)
            .filter(free, quiet)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "attempt_count")[:batch]
        )
        WebhookEvent.objects.filter(pk__in=[pk for pk, _ in rows]).update(enqueued_at=now)
        # Those a batch wrote without a body, rendered now, in line or not: the subscription
        # as it is seconds after the change, not when an earlier event is done at last.
        unrendered = WebhookEvent.objects.filter(
            Q(pk__in=[pk for pk, _ in rows]) | Q(status=WebhookStatus.PENDING), body=""
        )
        _render_bodies(
            list(unrendered.order_by("pk").only("pk", "uuid", "subscription_id", "body")[:batch])
        )
    return [(pk, count + 1) for pk, count in rows]


_CLAIM = """
    UPDATE {event} AS e SET claimed_until = %s, attempt_count = e.attempt_count + 1
    WHERE e.id IN ({ids}) AND e.status = %s AND e.next_attempt_at <= %s
      AND (e.claimed_until IS NULL OR e.claimed_until < %s)
      AND NOT EXISTS (SELECT 1 FROM {event} AS x WHERE x.subscription_id = e.subscription_id
                      AND x.id < e.id AND x.status = %s)
    RETURNING id, uuid, publisher_id, subscription_id, action, body, status, attempt_count,
      give_up_at, first_success_at,
      (SELECT p.webhook_url FROM {publisher} AS p WHERE p.id = publisher_id) AS webhook_url,
      (SELECT p.webhook_secret FROM {publisher} AS p WHERE p.id = publisher_id)
        AS webhook_secret,
      (SELECT p.previous_webhook_secret FROM {publisher} AS p WHERE p.id = publisher_id)
        AS previous_webhook_secret,
      (SELECT p.webhook_secret_rotated_at FROM {publisher} AS p WHERE p.id = publisher_id)
        AS webhook_secret_rotated_at
"""  # SQLite's RETURNING names the updated table's columns unqualified


def _claim(event_ids: list[int], now, until) -> list[WebhookEvent]:
    """Take the events for one attempt each, those that are due (`WebhookEvent.objects.due`:
    pending, due, first in line for their subscription) and held by no one: in id order,
    with their publisher's webhook_url and webhook_secret, read in the same statement (one
    round trip on the delivery's hot path; PostgreSQL and SQLite both take UPDATE ...
    RETURNING)."""
    from .models import Publisher

    sql = _CLAIM.format(
        event=connection.ops.quote_name(WebhookEvent._meta.db_table),
        publisher=connection.ops.quote_name(Publisher._meta.db_table),
        ids=", ".join(["%s"] * len(event_ids)),
    )
    at = connection.ops.adapt_datetimefield_value
    pending = WebhookStatus.PENDING
    params = [at(until), *event_ids, pending, at(now), at(now), pending]
    return sorted(WebhookEvent.objects.raw(sql, params), key=lambda event: event.pk)


def _record_cut_off(event: WebhookEvent, now) -> None:
    """Keep, as attempts, the earlier claims of the event that recorded nothing (a worker
    killed, or stuck past CLAIM, inside its POST)."""
    recorded = set(event.attempts.values_list("number", flat=True))
    WebhookAttempt.objects.bulk_create(
        [
            WebhookAttempt(event=event, number=number, at=now, url="", error=CUT_OFF)
            for number in range(1, event.attempt_count)
            if number not in recorded
        ],
        ignore_conflicts=True,  # its worker may yet record it
    )


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt`: doubling, capped, jittered."""
    first = settings.WEBHOOK_RETRY_FIRST_DELAY  # 10 s: the second attempt's wait
    return min(MAX_DELAY, first * 2 ** min(attempt - 1, 16)) * random.uniform(0.8, 1.2)


def _signature(event: WebhookEvent, at) -> str:
    """The `webhook-signature` header: by the publisher's secret and, within
    WEBHOOK_SECRET_OVERLAP of a rotation, by the one before it too (space-separated, as
    Standard Webhooks has it: a receiver that knows either verifies it)."""
    signatures = [Webhook(event.webhook_secret).sign(str(event.uuid), at, event.body)]
    rotated = event.webhook_secret_rotated_at  # from SQLite: text, or naive UTC
    if isinstance(rotated, str):
        rotated = datetime.datetime.fromisoformat(rotated)
    if rotated is not None and rotated.tzinfo is None:
        rotated = rotated.replace(tzinfo=datetime.UTC)
    overlap = datetime.timedelta(seconds=settings.WEBHOOK_SECRET_OVERLAP)
    if event.previous_webhook_secret and rotated and at < rotated + overlap:
        signatures.append(
            Webhook(event.previous_webhook_secret).sign(str(event.uuid), at, event.body)
        )
    return " ".join(signatures)


def _post(event: WebhookEvent, at) -> dict:
    """Send the event once, to its publisher's webhook_url signed with its webhook_secret
    (as `_claim` read them); what happened, as the attempt's fields."""
    url = event.webhook_url
    outcome = {"url": url[:500], "status_code": None, "response_excerpt": "", "error": ""}
    if not url:
        outcome["error"] = "The publisher has no webhook URL."
        return outcome
    started = time.monotonic()
    try:
        target = webhook_target(url, timeout=min(RESOLVE_TIMEOUT, TIMEOUT))
        signature = _signature(event, at)
        parsed = httpx.URL(url)
        name = parsed.raw_host.decode("ascii")  # a name's IDNA (ASCII) form, as DNS has it
        request_url = parsed.copy_with(host=target.address)
        extensions = {"sni_hostname": name} if target.scheme == "https" else {}
        host_header = name if ":" not in name else f"[{name}]"
        if parsed.port:
            host_header += f":{target.port}"
        code, excerpt = _send(
            name,
            request_url,
            TIMEOUT - (time.monotonic() - started),  # the name's resolving counts in it
            content=event.body.encode(),
            headers={
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "webhook-id": str(event.uuid),
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signature,
            },
            extensions=extensions,
        )
        outcome["status_code"], outcome["response_excerpt"] = code, excerpt
    except UnsafeURL as refused:
        outcome["error"] = str(refused)[:500]
    except httpx.HTTPError as failure:
        outcome["error"] = _error(failure)
    except Exception as failure:  # kept as the attempt's error: retried, then failed
        logger.exception("Webhook %s: the attempt failed unexpectedly", event.uuid)
        outcome["error"] = _error(failure)
    outcome["latency_ms"] = round((time.monotonic() - started) * 1000)
    return outcome


def _error(failure: Exception) -> str:
    return f"{type(failure).__name__}: {failure}".replace("\x00", "\ufffd")[:500]


def deliver(event_id: int, *, now=None) -> str | None:
    """Make one attempt at the event when it is due and no one else is at it; its status
    after (None when there was nothing to do)."""
    return deliver_many([event_id], now=now).get(event_id)


def deliver_many(event_ids: list[int], *, now=None) -> dict[int, str]:
    """One attempt at each of the events that is due and no one else is at, one after the
    other, each settled in its own transaction as soon as it is answered: {id: status
    after} of those attempted. The events are claimed together for CLAIM; those a slow
    receiver leaves no time for are given back untried, for the sweep."""
    now = now or timezone.now()
    until, started = now + CLAIM, time.monotonic()
    events = _claim(event_ids, now, until)
    claimed = {event.pk for event in events}
    if unclaimed := [pk for pk in event_ids if pk not in claimed]:
        # Not due, someone else's, or an earlier event of its subscription is pending (that
        # one's settling sends this one's task): nothing is on its way for it now.
        WebhookEvent.objects.filter(pk__in=unclaimed, claimed_until__isnull=True).update(
            enqueued_at=None
        )
    for event in events:
        if event.attempt_count > 1:
            _record_cut_off(event, now)
    _render_bodies(events)  # those written by a batch and sent before the sweep rendered them
    statuses, sent, unanswered = {}, set(), {}
    try:
        for event in events:
            if time.monotonic() - started > LAST_START:
                break
            if event.publisher_id in unanswered:
                continue  # its receiver didn't answer just now: not another 15 s on it
            sent.add(event.pk)
            statuses[event.pk] = _attempt(event, until)
            held = event.claimed_until is None  # settled by this delivery, not another's
            if statuses[event.pk] == WebhookStatus.PENDING and not event.answered and held:
                unanswered[event.publisher_id] = event.next_attempt_at
    finally:  # out of time, or an error: those not tried go back, for the sweep
        if untried := [event for event in events if event.pk not in sent]:
            _give_back(untried, until, unanswered)
        # One sent whose outcome couldn't be kept stays claimed: once the claim is past,
        # it is sent again and this attempt kept as cut off (its 8 hours run on).
    settled = [e for e in events if statuses.get(e.pk, WebhookStatus.PENDING) != "pending"]
    _send_following(settled, timezone.now())
    return statuses


def _give_back(events: list[WebhookEvent], until, unanswered: dict | None = None) -> None:
    """Release claimed events not tried: as they were before the claim, due for the sweep;
    those of a publisher whose receiver didn't answer in this batch, due when its event
    tried is tried again (`unanswered`: {publisher id: that time})."""
    later = defaultdict(list)
    for event in events:
        later[(unanswered or {}).get(event.publisher_id)].append(event.pk)
    for next_at, ids in later.items():
        WebhookEvent.objects.filter(pk__in=ids, claimed_until=until).update(
            claimed_until=None,
            enqueued_at=None,
            attempt_count=F("attempt_count") - 1,
            **({"next_attempt_at": next_at} if next_at else {}),
        )


def _attempt(event: WebhookEvent, until) -> str:
    """POST the claimed event once and settle what its answer says; its status after."""
    number = event.attempt_count
    at = timezone.now()
    outcome = _post(event, at)
    event.answered = outcome["status_code"] is not None
    with transaction.atomic():
        done = timezone.now()
        changes = _outcome(event, outcome["status_code"], at, done)
        if changes.get("status") not in (WebhookStatus.DECLINED, WebhookStatus.FAILED):
            _commit_without_waiting()
        # One conditional UPDATE: the event moves only while this delivery still holds it.
        held = WebhookEvent.objects.filter(pk=event.pk, claimed_until=until).update(**changes)
        if not held:  # held past its claim: another worker has it now; the attempt is kept
            WebhookAttempt.objects.update_or_create(
                event_id=event.pk, number=number, defaults={"at": at, **outcome}
            )
            if "first_success_at" in changes:  # the publisher has it, whatever comes next
                WebhookEvent.objects.filter(pk=event.pk, first_success_at__isnull=True).update(
                    first_success_at=changes["first_success_at"]
                )
            if changes.get("status") == WebhookStatus.DECLINED:
                # The publisher said no to a change that asks: that stands, whatever the
                # other worker's attempt gets (a receiver that dedupes may answer it 2xx).
                event.status = WebhookStatus.DECLINED
                webhook_settled.send(sender=WebhookEvent, event=event)
            return WebhookEvent.objects.values_list("status", flat=True).get(pk=event.pk)
        WebhookAttempt.objects.create(event_id=event.pk, number=number, at=at, **outcome)
        for field, value in changes.items():
            setattr(event, field, value)
        if event.status != WebhookStatus.PENDING:
            if event.first_success_at is None:  # an attempt that outlived its claim got a 2xx?
                event.first_success_at = WebhookEvent.objects.values_list(
                    "first_success_at", flat=True
                ).get(pk=event.pk)
            webhook_settled.send(sender=WebhookEvent, event=event)
    return event.status


def _commit_without_waiting() -> None:
    """On PostgreSQL, the COMMIT of an attempt that delivered its event, or leaves it for a
    retry, doesn't wait for its WAL to reach the disk. A database crash within the moment
    after may lose it, never half of it: the event is then claimed still, and is sent again
    (same webhook-id) once the claim is past, the lost attempt kept as cut off. Never for a
    decline or a failure: what settles a waiting change with them must not be lost (sent
    again, a decline could be answered 2xx by a receiver that dedupes, and accepted)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _outcome(event: WebhookEvent, code: int | None, at, done) -> dict:
    """The event's fields after an attempt answered `code` (None: no answer): a 2xx
    delivers it, a 4xx (but the retryable ones) to an event that asks declines it, anything
    else waits for the next attempt, or fails it when that would come after its 8 hours."""
    changes = {"claimed_until": None, "enqueued_at": None}
    if code is not None and 200 <= code < 300:
        status = WebhookStatus.DELIVERED
        changes["first_success_at"] = event.first_success_at or done  # the 2xx came then
    elif code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX and _asks(event):
        status = WebhookStatus.DECLINED
    else:
        next_at = done + datetime.timedelta(seconds=backoff(event.attempt_count))
        if next_at <= event.give_up_at:
            return {**changes, "next_attempt_at": next_at}
        status = WebhookStatus.FAILED
    return {**changes, "status": status, "settled_at": done}


def _asks(event: WebhookEvent) -> bool:
    """Whether the event asks the publisher a question (a customer's change, InProgress,
    waiting for its answer), so a 4xx is its no. Any other event tells of a change already
    made: a 4xx to it (a receiver mid-deploy, a secret being rotated) is retried."""
    if event.action not in ASKING:
        return False
    try:
        return json.loads(event.body).get("status") == "InProgress"
    except (ValueError, AttributeError):
        return False


def _send_following(events: list[WebhookEvent], now) -> None:
    """The events waiting in line behind the settled `events` of their subscriptions, now
    first in line and due: their tasks, sent once this commits (not left to the sweep)."""
    from .tasks import deliver_webhooks

    if not events:
        return
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    following = list(
        WebhookEvent.objects.due(now)
        .filter(free, subscription_id__in={event.subscription_id for event in events})
        .order_by("pk")
        .values_list("pk", "attempt_count")
    )
    if not following:
        return
    WebhookEvent.objects.filter(pk__in=[pk for pk, _ in following]).update(enqueued_at=now)
    due = [(pk, count + 1) for pk, count in following]
    transaction.on_commit(lambda: send_batches(deliver_webhooks, due))


def webhook_replay(*, event: WebhookEvent, actor: Actor) -> WebhookEvent:
    """Send a settled event again: pending now, same webhook-id, its attempts numbered on.
    Refused (ValueError, in words) while it or a later event of its subscription is pending.
    Audited as the operator's."""
    from .tasks import deliver_webhook

    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == WebhookStatus.PENDING:
            raise ValueError("It is still pending: it will be sent without a replay.")
        if WebhookEvent.objects.filter(
            subscription_id=event.subscription_id, pk__gt=event.pk, status=WebhookStatus.PENDING
        ).exists():  # it would be first in line, and could overtake one on its way
            raise ValueError(
                "A later webhook of its subscription is still pending: "
                "replay this one once that has settled, so they arrive in order."
            )
        now = timezone.now()
        event.status = WebhookStatus.PENDING
        event.settled_at = None
        event.next_attempt_at = now
        event.enqueued_at = now
        event.claimed_until = None
        event.give_up_at = now + RETRY_FOR  # its 8 hours of retries start again
        event.save()
        audit_record(
            tenant=None,
            actor=actor,
            verb="publisher.webhook_replay",
            target=event.publisher,
            data={"webhook_id": str(event.uuid), "action": event.action},
        )
        transaction.on_commit(lambda: send_task(deliver_webhook, event.pk, event.attempt_count + 1))
    return event
