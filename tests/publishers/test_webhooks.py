"""The webhook outbox, delivered over real HTTP to a receiver on loopback: Standard Webhooks
signatures (checked with the standardwebhooks library), every attempt kept, retries with
growing delays until 8 hours, a 4xx as the publisher's no, one subscription's events in
order, one delivery at a time, replays, and no webhook to a private address."""

import datetime
import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from portal.audit import Actor
from portal.models import AuditEvent
from publishers import webhooks
from publishers.models import WebhookEvent, WebhookStatus
from publishers.signals import webhook_settled
from publishers.tasks import sweep_webhooks
from tests.factories import (
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher(receiver):
    return PublisherFactory(webhook_url=receiver.url)


@pytest.fixture
def sub(tenant, publisher):
    plan = PlanFactory(app__publisher=publisher)
    return SubscriptionFactory(billing_profile=BillingProfileFactory(tenant=tenant), plan=plan)


@pytest.fixture
def settled():
    seen = []

    def listen(sender, event, **kwargs):
        seen.append((event.uuid, event.status))

    webhook_settled.connect(listen)
    yield seen
    webhook_settled.disconnect(listen)


def enqueue(sub, action="Renew", **payload):
    webhook_id = uuid.uuid4()
    event_id = webhooks.webhook_enqueue(
        publisher=sub.plan.app.publisher,
        subscription=sub,
        action=action,
        payload={"id": str(webhook_id), "action": action, **payload},
        webhook_id=webhook_id,
    )
    return WebhookEvent.objects.get(pk=event_id)


def later(event, seconds=0):
    event.refresh_from_db()
    return event.next_attempt_at + datetime.timedelta(seconds=seconds)


def test_a_committed_change_sends_its_webhook_signed_once(
    sub, publisher, receiver, settled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = enqueue(sub, quantity=12)
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    verified = Webhook(publisher.webhook_secret).verify(body, headers)  # raises if not
    assert verified == {"id": str(event.uuid), "action": "Renew", "quantity": 12}
    assert headers["webhook-id"] == str(event.uuid)
    event.refresh_from_db()
    assert (event.status, event.attempt_count) == (WebhookStatus.DELIVERED, 1)
    attempt = event.attempts.get()
    assert (attempt.number, attempt.status_code, attempt.response_excerpt) == (
        1,
        200,
        "answered 200",
    )
    assert attempt.url == receiver.url and attempt.latency_ms >= 0
    assert settled == [(event.uuid, WebhookStatus.DELIVERED)]
    # Delivered: neither the sweep nor a late task sends it again.
    assert webhooks.webhooks_due(now=later(event, 3600)) == []
    assert webhooks.deliver(event.pk) is None
    assert len(receiver.received) == 1


def test_a_rolled_back_change_leaves_no_webhook(sub, receiver, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue(sub)
        raise RuntimeError("the change failed")
    assert not WebhookEvent.objects.exists() and receiver.received == []


def test_failures_are_retried_later_and_later_then_delivered(sub, receiver, settled):
    receiver.answers = [500, 503, 429]
    event = enqueue(sub)
    delays, moment = [], event.next_attempt_at
    for _ in range(3):
        assert webhooks.deliver(event.pk, now=moment) == WebhookStatus.PENDING
        event.refresh_from_db()
        delays.append((event.next_attempt_at - event.attempts.last().at).total_seconds())
        assert webhooks.deliver(event.pk, now=moment) is None  # not due yet
        moment = later(event)
    assert delays[0] < delays[1] < delays[2], delays
    assert webhooks.deliver(event.pk, now=moment) == WebhookStatus.DELIVERED
    codes = list(event.attempts.values_list("number", "status_code"))
    assert codes == [(1, 500), (2, 503), (3, 429), (4, 200)]
    assert settled == [(event.uuid, WebhookStatus.DELIVERED)]
    assert len({headers["webhook-id"] for headers, _ in receiver.received}) == 1


def test_a_4xx_answer_to_a_change_that_asks_is_the_publishers_no(sub, receiver, settled):
    receiver.answers = [409]
    event = enqueue(sub, action="ChangeQuantity", status="InProgress")
    assert webhooks.deliver(event.pk) == WebhookStatus.DECLINED
    event.refresh_from_db()
    assert event.settled_at is not None and event.first_success_at is None
    assert settled == [(event.uuid, WebhookStatus.DECLINED)]


def test_after_a_rotation_webhooks_verify_by_either_secret_for_a_day(
    sub, publisher, receiver, settings
):
    from publishers import services

    old = publisher.webhook_secret
    publisher = services.publisher_rotate_webhook_secret(publisher=publisher, actor=Actor.system())
    assert publisher.webhook_secret != old
    first = enqueue(sub, action="Renew")
    webhooks.deliver(first.pk)
    settings.WEBHOOK_SECRET_OVERLAP = 0  # the day has passed
    second = enqueue(sub, action="Unsubscribe")
    webhooks.deliver(second.pk)
    (headers, body), (later_headers, later_body) = receiver.received
    for secret in (old, publisher.webhook_secret):  # a receiver that knows either
        assert Webhook(secret).verify(body, headers)["action"] == "Renew"
    assert Webhook(publisher.webhook_secret).verify(later_body, later_headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later_body, later_headers)


def test_a_no_got_by_an_attempt_that_outlived_its_claim_still_declines(sub, receiver, settled):
    receiver.answers = [400]
    event = enqueue(sub, action="ChangeQuantity", status="InProgress")
    now = event.next_attempt_at
    (claimed,) = webhooks._claim([event.pk], now, now + webhooks.CLAIM)
    taken_over = now + 2 * webhooks.CLAIM  # another worker claimed it meanwhile
    WebhookEvent.objects.filter(pk=event.pk).update(claimed_until=taken_over)
    assert webhooks._attempt(claimed, now + webhooks.CLAIM) == WebhookStatus.PENDING
    assert settled == [(event.uuid, WebhookStatus.DECLINED)]  # the waiting change hears it
    event.refresh_from_db()
    assert event.claimed_until == taken_over  # the other worker's, untouched
    assert list(event.attempts.values_list("number", "status_code")) == [(1, 400)]


def test_a_yes_got_by_an_attempt_that_outlived_its_claim_still_counts(sub, receiver, settled):
    """The publisher has the change: its silence may accept it, and if the other worker's
    attempts all fail, the event failing doesn't say the publisher never had it."""
    event = enqueue(sub, action="ChangeQuantity", status="InProgress")
    now = event.next_attempt_at
    (claimed,) = webhooks._claim([event.pk], now, now + webhooks.CLAIM)
    WebhookEvent.objects.filter(pk=event.pk).update(claimed_until=now + 2 * webhooks.CLAIM)
    assert webhooks._attempt(claimed, now + webhooks.CLAIM) == WebhookStatus.PENDING
    event.refresh_from_db()
    assert event.first_success_at is not None and settled == []


def test_a_status_stands_when_the_body_after_it_is_cut_off(sub, receiver, settled):
    receiver.answers = [(400, b"no", 100)]  # 100 bytes announced, 2 sent, then it hangs up
    event = enqueue(sub, action="ChangeQuantity", status="InProgress")
    assert webhooks.deliver(event.pk) == WebhookStatus.DECLINED
    assert list(event.attempts.values_list("status_code", "response_excerpt")) == [(400, "no")]


def test_an_answer_with_nul_bytes_is_kept_and_settles(sub, receiver):
    """PostgreSQL's text holds no NUL: kept raw, the attempt couldn't be recorded, and the
    event would be sent again and again, never settling."""
    receiver.answers = [(200, "ok".encode("utf-16-le"))]
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.DELIVERED
    (attempt,) = event.attempts.all()
    assert attempt.status_code == 200 and "\x00" not in attempt.response_excerpt


def test_a_4xx_answer_to_a_notice_is_retried(sub, receiver, settled):
    receiver.answers = [401, 404]  # a receiver whose secret is being rotated, mid-deploy
    event = enqueue(sub, action="Unsubscribe", status="Succeeded")
    assert webhooks.deliver(event.pk) == WebhookStatus.PENDING
    assert webhooks.deliver(event.pk, now=later(event, 1)) == WebhookStatus.PENDING
    assert webhooks.deliver(event.pk, now=later(event, 1)) == WebhookStatus.DELIVERED
    assert list(event.attempts.values_list("status_code", flat=True)) == [401, 404, 200]
    assert settled == [(event.uuid, WebhookStatus.DELIVERED)]


def test_no_answer_for_8_hours_fails_the_event(sub, publisher, receiver, settled):
    from django.utils import timezone

    publisher.webhook_url = "http://127.0.0.1:9/nobody-listens"
    publisher.save()
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.PENDING
    # Nearly 8 hours on: the next wait (at least 16 s) would go past them.
    WebhookEvent.objects.filter(pk=event.pk).update(
        give_up_at=timezone.now() + datetime.timedelta(seconds=15)
    )
    assert webhooks.deliver(event.pk, now=later(event)) == WebhookStatus.FAILED
    attempt = event.attempts.last()
    assert attempt.status_code is None and "ConnectError" in attempt.error
    assert settled == [(event.uuid, WebhookStatus.FAILED)]
    assert webhooks.deliver(event.pk, now=later(event, 3600)) is None


def test_a_subscriptions_events_go_in_order(sub, receiver, tenant):
    receiver.answers = [500, 500]
    first, second, third = (enqueue(sub, action=a) for a in ("Suspend", "Reinstate", "Renew"))
    another = SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant), plan=sub.plan
    )
    other = enqueue(another, action="Unsubscribe")
    WebhookEvent.objects.update(enqueued_at=None)  # as if their tasks were lost
    now = first.next_attempt_at + datetime.timedelta(seconds=1)
    assert {pk for pk, _ in webhooks.webhooks_due(now=now)} == {first.pk, other.pk}
    assert webhooks.deliver(second.pk, now=now) is None  # waits for the first
    for _ in range(3):  # fails twice, then goes
        webhooks.deliver(first.pk, now=later(first, 1))
    webhooks.deliver(other.pk, now=now)
    for event in (second, third):
        assert webhooks.deliver(event.pk, now=later(event, 1)) == WebhookStatus.DELIVERED
    actions = [json.loads(body)["action"] for _, body in receiver.received]
    assert actions == ["Suspend"] * 3 + ["Unsubscribe", "Reinstate", "Renew"]


def test_the_sweep_sends_what_is_due_once_until_it_is_settled(sub, receiver, settings):
    event = enqueue(sub)  # its task went nowhere (the transaction never committed here)
    assert webhooks.webhooks_due() == []  # just sent: on its way
    WebhookEvent.objects.filter(pk=event.pk).update(
        enqueued_at=event.created_at - webhooks.ENQUEUED - datetime.timedelta(seconds=1)
    )
    assert sweep_webhooks.delay().get() == 1  # eager: delivered at once
    event.refresh_from_db()
    assert event.status == WebhookStatus.DELIVERED and len(receiver.received) == 1
    assert sweep_webhooks.delay().get() == 0


def test_a_claimed_event_is_not_delivered_twice(sub, receiver):
    event = enqueue(sub)
    now = event.next_attempt_at
    assert webhooks._claim([event.pk], now, now + webhooks.CLAIM) == [event]  # another has it
    assert webhooks.deliver(event.pk) is None and receiver.received == []
    assert webhooks.webhooks_due(now=later(event, 1)) == []
    # Its worker died: once the claim has run out, it goes again, and the cut-off attempt
    # is kept as one.
    past_claim = later(event) + webhooks.CLAIM + webhooks.ENQUEUED
    assert [pk for pk, _ in webhooks.webhooks_due(now=past_claim)] == [event.pk]
    assert webhooks.deliver(event.pk, now=past_claim) == WebhookStatus.DELIVERED
    attempts = list(event.attempts.values_list("number", "status_code", "error"))
    assert attempts == [(1, None, webhooks.CUT_OFF), (2, 200, "")]


def test_a_batch_attempts_each_event_first_in_line_and_leaves_the_rest(sub, receiver, tenant):
    first, second = enqueue(sub, action="Suspend"), enqueue(sub, action="Reinstate")
    another = SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant), plan=sub.plan
    )
    other = enqueue(another, action="Unsubscribe")
    statuses = webhooks.deliver_many([first.pk, second.pk, other.pk])
    assert statuses == {first.pk: WebhookStatus.DELIVERED, other.pk: WebhookStatus.DELIVERED}
    second.refresh_from_db()  # in line behind the first when the batch was claimed: not
    assert (second.status, second.attempt_count) == ("pending", 0)  # tried, but sent for
    assert second.enqueued_at is not None  # by the first's delivery (its task on commit)
    assert [json.loads(body)["action"] for _, body in receiver.received] == [
        "Suspend",
        "Unsubscribe",
    ]


def test_a_batch_out_of_time_gives_back_what_it_did_not_try(sub, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "LAST_START", -1.0)  # a slow receiver used up the claim
    event = enqueue(sub)
    assert webhooks.deliver_many([event.pk]) == {}
    event.refresh_from_db()
    assert (event.attempt_count, event.claimed_until, event.enqueued_at) == (0, None, None)
    assert receiver.received == [] and not event.attempts.exists()
    assert [pk for pk, _ in webhooks.webhooks_due(now=later(event, 1))] == [event.pk]


def test_a_receiver_that_does_not_answer_costs_a_batch_one_attempt(
    sub, publisher, tenant, receiver
):
    """A black-holed receiver holds each attempt up to 15 s: its other events in the batch
    wait for the retry of the one tried, and the batch goes on to other publishers'."""
    publisher.webhook_url = "http://127.0.0.1:9/hooks"  # nothing listens: refused
    publisher.save(update_fields=["webhook_url"])
    other = SubscriptionFactory(billing_profile=sub.billing_profile, plan=sub.plan)
    elsewhere = SubscriptionFactory(
        billing_profile=sub.billing_profile,
        plan=PlanFactory(app__publisher=PublisherFactory(webhook_url=receiver.url)),
    )
    tried, waiting, theirs = enqueue(sub), enqueue(other), enqueue(elsewhere)
    statuses = webhooks.deliver_many([tried.pk, waiting.pk, theirs.pk])
    assert statuses == {tried.pk: "pending", theirs.pk: "delivered"}
    tried.refresh_from_db()
    waiting.refresh_from_db()
    assert tried.attempts.get().error.startswith("ConnectError")
    assert (waiting.attempt_count, waiting.claimed_until) == (0, None)  # untried
    assert not waiting.attempts.exists() and waiting.next_attempt_at == tried.next_attempt_at
    assert len(receiver.received) == 1


def test_an_attempt_that_breaks_unexpectedly_is_kept_and_retried(sub, publisher, receiver):
    publisher.webhook_secret = "whsec_not base64!"  # signing it raises
    publisher.save(update_fields=["webhook_secret"])
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.PENDING  # not stuck in its claim
    event.refresh_from_db()
    assert event.claimed_until is None and event.next_attempt_at > event.created_at
    (attempt,) = event.attempts.all()
    assert attempt.status_code is None and attempt.error
    assert receiver.received == []


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(sub, receiver, monkeypatch):
    """httpx's timeout holds per read: a status line sent a byte every 0.3 s never trips
    a 1-second one. The exchange's deadline ends it all the same."""
    monkeypatch.setattr(webhooks, "TIMEOUT", 1.0)
    receiver.trickle = (0.3, 0)  # the answer is some 100 bytes: 30 s at this pace
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.PENDING
    (attempt,) = event.attempts.all()
    assert attempt.error.startswith("ReadTimeout") and attempt.status_code is None
    assert 1_000 <= attempt.latency_ms < 1_500


def test_an_answer_whose_body_trickles_counts_by_its_status(sub, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 1.0)
    receiver.answers = [500]
    receiver.trickle = (0.3, -12)  # all but its last 12 bytes ("answered 500") at once
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.PENDING
    (attempt,) = event.attempts.all()
    assert (attempt.status_code, attempt.error) == (500, "")
    assert attempt.response_excerpt and attempt.response_excerpt in "answered 500"
    assert attempt.latency_ms < 1_500


def test_settling_an_event_sends_the_next_of_its_subscription_at_once(
    sub, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [500]
    first, second = enqueue(sub, action="Suspend"), enqueue(sub, action="Reinstate")
    assert webhooks.deliver(second.pk) is None  # in line behind the first: left to the sweep
    second.refresh_from_db()
    assert second.enqueued_at is None
    webhooks.deliver(first.pk)  # 500: pending, so the second still waits
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert webhooks.deliver(first.pk, now=later(first, 1)) == WebhookStatus.DELIVERED
    assert len(sent) == 1  # the second's task, sent on commit (eager: delivered)
    assert [json.loads(body)["action"] for _, body in receiver.received] == [
        "Suspend",
        "Suspend",
        "Reinstate",
    ]
    assert WebhookEvent.objects.get(pk=second.pk).status == WebhookStatus.DELIVERED


def test_a_replay_sends_the_same_webhook_id_again(sub, receiver, settled):
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.DELIVERED
    pending = enqueue(sub)
    with pytest.raises(ValueError, match="still pending"):
        webhooks.webhook_replay(event=pending, actor=Actor.system())
    assert webhooks.deliver(pending.pk) == WebhookStatus.DELIVERED
    replayed = webhooks.webhook_replay(event=event, actor=Actor.system())
    assert replayed.status == WebhookStatus.PENDING
    assert webhooks.deliver(event.pk) == WebhookStatus.DELIVERED
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert ids == [str(event.uuid), str(pending.uuid), str(event.uuid)]
    assert list(event.attempts.values_list("number", flat=True)) == [1, 2]


def test_a_replay_never_overtakes_a_later_webhook_on_its_way(sub, receiver):
    """Replayed while a later event of its subscription is pending (in flight, perhaps),
    an old event would be first in line, and could reach the publisher after it."""
    suspend = enqueue(sub, action="Suspend")
    assert webhooks.deliver(suspend.pk) == WebhookStatus.DELIVERED
    reinstate = enqueue(sub, action="Reinstate")
    with pytest.raises(ValueError, match="later webhook of its subscription is still pending"):
        webhooks.webhook_replay(event=suspend, actor=Actor.system())
    suspend.refresh_from_db()
    assert suspend.status == WebhookStatus.DELIVERED
    assert webhooks.deliver(reinstate.pk) == WebhookStatus.DELIVERED
    webhooks.webhook_replay(event=suspend, actor=Actor.system())  # now it may
    assert webhooks.deliver(suspend.pk) == WebhookStatus.DELIVERED


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[64:ff9b::a00:1]/hooks",  # NAT64 to 10.0.0.1
        "https://[::7f00:1]/hooks",  # IPv4-compatible 127.0.0.1
        "https://[2002:a00:1::]/hooks",  # 6to4 of 10.0.0.1
        "https://localhost/hooks",  # a name that resolves to loopback
        "http://93.184.215.14/hooks",  # public, but not https
        "https://user:pw@93.184.215.14/hooks",
        "https://nowhere.invalid/hooks",
    ],
)
def test_webhooks_never_go_to_private_addresses_in_production(
    url, sub, publisher, receiver, settings
):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    publisher.webhook_url = url
    with pytest.raises(ValidationError) as refused:
        publisher.full_clean()
    assert "webhook_url" in refused.value.message_dict
    # Saved before the rule (or before its name moved): refused again at delivery.
    publisher.save()
    event = enqueue(sub)
    assert webhooks.deliver(event.pk) == WebhookStatus.PENDING
    attempt = event.attempts.get()
    assert attempt.status_code is None and attempt.error


def test_loopback_is_allowed_only_by_its_setting(publisher, settings, receiver):
    publisher.full_clean()  # the tests' receiver: allowed here
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError):
        publisher.full_clean()


def test_a_name_server_that_does_not_answer_holds_its_own_lookups_only(monkeypatch, settings):
    """The system's resolver is made to hang for one name, as a name server that never
    answers does: its lookups give up after their timeout, other names still resolve, and
    past MAX_STUCK hung lookups the next is refused at once instead of piling up."""
    import socket
    import threading

    from publishers.addresses import MAX_STUCK, UnsafeURL, webhook_target

    settings.WEBHOOK_ALLOW_LOOPBACK = True
    answer, real = threading.Event(), socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "hangs.example":
            answer.wait(30)
        return real("127.0.0.1" if host == "hangs.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        with pytest.raises(UnsafeURL, match=r"wasn.t found within 0\.2 seconds"):
            webhook_target("http://hangs.example/hooks", timeout=0.2)
        for _ in range(MAX_STUCK - 2):
            with pytest.raises(UnsafeURL, match="within"):
                webhook_target("http://hangs.example/hooks", timeout=0.01)
        assert webhook_target("http://localhost:9/hooks").address in ("127.0.0.1", "::1")
        with pytest.raises(UnsafeURL, match="within"):
            webhook_target("http://hangs.example/hooks", timeout=0.01)  # the 32nd
        with pytest.raises(UnsafeURL, match="too many lookups hang"):
            webhook_target("http://localhost:9/hooks")
    finally:
        answer.set()


def test_the_command_lists_and_replays(sub, publisher, receiver):
    from io import StringIO

    from django.core.management import CommandError, call_command

    receiver.answers = [400]
    event = enqueue(sub, action="ChangeQuantity", status="InProgress")
    webhooks.deliver(event.pk)
    out = StringIO()
    call_command("webhooks", "list", "--publisher", publisher.slug, stdout=out)
    assert str(event.uuid) in out.getvalue() and "declined" in out.getvalue()
    out = StringIO()
    call_command("webhooks", "list", "--failed", stdout=out)
    assert out.getvalue().strip() == "No webhooks."
    call_command("webhooks", "replay", str(event.uuid), stdout=StringIO())
    assert webhooks.deliver(event.pk) == WebhookStatus.DELIVERED
    enqueue(sub, action="Renew")
    for args, message in (
        (("replay", str(event.uuid)), "A later webhook of its subscription is still pending"),
        (("replay", "nope"), "No webhook 'nope'"),
        (("list", "--publisher", "nobody"), "No publisher 'nobody'"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("webhooks", *args)
    assert AuditEvent.objects.filter(verb="publisher.webhook_replay").count() == 1


def test_the_admin_shows_attempts_and_replays_for_those_who_may_change_publishers(
    login, sub, receiver
):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    event = enqueue(sub)
    webhooks.deliver(event.pk)
    operator = login(UserFactory(email="ops@operator.example", is_staff=True, is_superuser=True))
    page = operator.get(f"/admin/publishers/webhookevent/{event.pk}/change/")
    assert page.status_code == 200 and "answered 200" in page.content.decode()
    viewer = UserFactory(email="viewer@operator.example", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_webhookevent"))
    replay = {"action": "replay", "_selected_action": [event.pk]}
    login(viewer).post("/admin/publishers/webhookevent/", replay)
    event.refresh_from_db()
    assert event.status == WebhookStatus.DELIVERED  # no replay for a viewer
    operator.post("/admin/publishers/webhookevent/", replay)
    event.refresh_from_db()
    assert event.status == WebhookStatus.PENDING
    again = operator.post("/admin/publishers/webhookevent/", replay, follow=True)
    assert "It is still pending" in again.content.decode()  # refused, in words
    subscribe = enqueue(sub, action="Subscribe", purchaseToken="live-landing-page-token")
    shown = operator.get(f"/admin/publishers/webhookevent/{subscribe.pk}/change/")
    assert "live-landing-page-token" not in shown.content.decode()  # a live token: hidden
    assert "(hidden)" in shown.content.decode()
