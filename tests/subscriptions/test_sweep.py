"""The lifecycle sweep: every rule at its edge with an injected day, the set-based twins
against the services they mirror, reruns, interruptions, missed days, dry runs, the
command, and two workers at once on PostgreSQL."""

import datetime
import io
from itertools import count

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from portal.models import AuditEvent
from publishers.models import Price, PricingModel, Term
from subscriptions import services
from subscriptions.lifecycle import DisabledReason, Status, setup_last_day
from subscriptions.models import LifecycleRun, Subscription
from subscriptions.services import sweep
from tests.concurrency import run_together
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    SubscriptionFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
SYSTEM = Actor.system("publisher")
day = datetime.date


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def run(on: datetime.date, **options):
    """The sweep of `on`, at a quarter past midnight UTC, as beat runs it."""
    return sweep.run_lifecycle(day=on, now=at(on.year, on.month, on.day, 0, 15), **options)


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant)


@pytest.fixture
def make(profile):
    """A subscription of `profile`: pending, or activated at `activated` (a datetime)."""
    names = count(1)

    def make(*, activated=None, term=Term.MONTHLY, per_seat=True, price=900, **fields):
        model = PricingModel.PER_SEAT if per_seat else PricingModel.FLAT_RATE
        plan = PlanFactory(
            app=AppFactory(name=f"App {next(names)}", pricing_model=model),
            term=term,
            prices={"USD": price},
        )
        sub = SubscriptionFactory(billing_profile=profile, plan=plan, unit_amount=price)
        if activated is not None:
            sub = services.subscription_activate(subscription=sub, actor=SYSTEM, now=activated)
        if fields:
            Subscription.objects.filter(pk=sub.pk).update(**fields)
            sub.refresh_from_db()
        return sub

    return make


def renewals(sub):
    return list(
        Charge.objects.of_subscription(sub.uuid)
        .filter(kind=ChargeKind.RENEWAL)
        .values_list("amount", "period_start", "period_end")
    )


def test_an_active_app_renews_on_its_term_end_not_the_day_before(make):
    sub = make(activated=at(2027, 1, 10, 9))  # term 2027-01-10 .. 2027-02-10
    assert str(run(day(2027, 2, 9))) == "renewed 0, expired 0, timed out 0, unchanged 1"
    sub.refresh_from_db()
    assert sub.term_end == day(2027, 2, 10)
    assert str(run(day(2027, 2, 10))) == "renewed 1, expired 0, timed out 0, unchanged 0"
    sub.refresh_from_db()
    assert (sub.status, sub.term_start, sub.term_end) == (
        Status.ACTIVE,
        day(2027, 2, 10),
        day(2027, 3, 10),
    )
    assert sub.term_started_at == at(2027, 2, 10, 0, 15)
    assert renewals(sub) == [(4500, day(2027, 2, 10), day(2027, 3, 10))]


def test_terms_keep_their_anchor_day_through_short_months(make):
    sub = make(activated=at(2027, 1, 31))
    for end, next_end in [
        (day(2027, 2, 28), day(2027, 3, 31)),
        (day(2027, 3, 31), day(2027, 4, 30)),
        (day(2027, 4, 30), day(2027, 5, 31)),
    ]:
        run(end)
        sub.refresh_from_db()
        assert (sub.term_start, sub.term_end) == (end, next_end)


def test_a_leap_day_anchor_on_an_annual_term(make):
    sub = make(activated=at(2028, 2, 29), term=Term.ANNUAL)
    assert sub.term_end == day(2029, 2, 28)
    run(day(2029, 2, 28))
    sub.refresh_from_db()
    assert (sub.term_start, sub.term_end) == (day(2029, 2, 28), day(2030, 2, 28))


def test_the_sweep_renews_exactly_as_the_renewal_service_does(make):
    """Twins: the same plan price change and scheduled decrease, renewed once by the
    service and once by the sweep, end with the same row, charge and audit event."""
    by_service = make(activated=at(2027, 1, 31), scheduled_quantity=3)
    by_sweep = make(activated=at(2027, 1, 31), scheduled_quantity=3)
    for sub in (by_service, by_sweep):
        sub.plan.prices.update(amount=1000)
    renewed_at = at(2027, 2, 28, 0, 15)
    services.subscription_renew(subscription=by_service, actor=SYSTEM, now=renewed_at)
    sweep.sweep_chunk(day(2027, 2, 28), by_sweep.pk, by_sweep.pk, now=renewed_at)

    fields = ["status", "quantity", "scheduled_quantity", "unit_amount", "term_start"]
    fields += ["term_end", "term_started_at", "pricing_model"]

    def state(sub):
        row = Subscription.objects.filter(pk=sub.pk).values(*fields).get()
        charge = Charge.objects.of_subscription(sub.uuid).filter(kind=ChargeKind.RENEWAL)
        charge = charge.values(
            "kind", "quantity", "unit_amount", "amount", "currency", "period_start",
            "period_end", "created_at", "billing_profile", "tenant",
        ).get()  # fmt: skip
        description = Charge.objects.get(
            subscription_uuid=sub.uuid, kind=ChargeKind.RENEWAL
        ).description.replace(sub.plan.app.name, "APP")
        event = AuditEvent.objects.get(verb="subscription.renew", target_id=str(sub.uuid))
        data = {**event.data, "name": "NAME"}
        return row, charge, description, data, event.created_at, event.tenant_id

    assert state(by_service) == state(by_sweep)
    assert state(by_sweep)[0]["quantity"] == 3
    assert state(by_sweep)[1]["amount"] == 3000


def test_a_stop_sell_plan_still_renews_and_a_plan_without_the_currency_keeps_its_price(make):
    stopped = make(activated=at(2027, 1, 5))
    stopped.plan.is_stop_sell = True
    stopped.plan.save()
    unpriced = make(activated=at(2027, 1, 5), price=700)
    unpriced.plan.prices.all().delete()
    assert run(day(2027, 2, 5)).renewed == 2
    assert renewals(stopped) == [(4500, day(2027, 2, 5), day(2027, 3, 5))]
    assert renewals(unpriced) == [(3500, day(2027, 2, 5), day(2027, 3, 5))]


def test_a_flat_rate_app_renews_at_its_term_price(make):
    sub = make(activated=at(2027, 1, 5), per_seat=False, price=12_000, term=Term.ANNUAL)
    run(day(2028, 1, 5))
    assert renewals(sub) == [(12_000, day(2028, 1, 5), day(2029, 1, 5))]


def test_auto_renew_off_expires_at_term_end_active_or_suspended(make):
    active = make(activated=at(2027, 1, 5), auto_renew=False)
    suspended = make(activated=at(2027, 1, 5), auto_renew=False)
    services.subscription_suspend(subscription=suspended, actor=SYSTEM, now=at(2027, 1, 20))
    assert run(day(2027, 2, 4)).expired == 0
    assert str(run(day(2027, 2, 5))) == "renewed 0, expired 2, timed out 0, unchanged 0"
    for sub in (active, suspended):
        sub.refresh_from_db()
        assert (sub.status, sub.disabled_reason) == (Status.DISABLED, DisabledReason.EXPIRED)
        assert sub.disabled_at == at(2027, 2, 5, 0, 15)
        assert renewals(sub) == []
    event = AuditEvent.objects.get(verb="subscription.expire", target_id=str(suspended.uuid))
    assert event.data == {
        "name": suspended.name,
        "from": "suspended",
        "to": "disabled",
        "why": "The term ended with auto-renew off.",
    }


def test_a_suspended_app_does_not_renew_and_renews_from_its_old_end_when_reinstated(make):
    sub = make(activated=at(2027, 1, 31))
    services.subscription_suspend(subscription=sub, actor=SYSTEM, now=at(2027, 2, 20))
    assert str(run(day(2027, 2, 28))) == "renewed 0, expired 0, timed out 0, unchanged 1"
    assert str(run(day(2027, 3, 5))) == "renewed 0, expired 0, timed out 0, unchanged 1"
    sub.refresh_from_db()
    assert (sub.status, sub.term_end) == (Status.SUSPENDED, day(2027, 2, 28))
    sub = services.subscription_reinstate(subscription=sub, actor=SYSTEM, now=at(2027, 3, 5))
    assert (sub.status, sub.term_start, sub.term_end) == (
        Status.ACTIVE,
        day(2027, 2, 28),
        day(2027, 3, 31),
    )
    assert renewals(sub) == [(4500, day(2027, 2, 28), day(2027, 3, 31))]


def test_pending_set_up_for_30_days_times_out_with_nothing_charged(make, profile):
    sub = make()
    Subscription.objects.filter(pk=sub.pk).update(created_at=at(2027, 1, 10, 23, 59))
    sub.refresh_from_db()
    assert setup_last_day(sub.created_at) == day(2027, 2, 9)  # what the e-mails say
    assert run(day(2027, 2, 9)).timed_out == 0  # its last day to be set up
    counts = run(day(2027, 2, 10))  # the day after
    assert str(counts) == "renewed 0, expired 0, timed out 1, unchanged 0"
    sub.refresh_from_db()
    assert (sub.status, sub.disabled_reason) == (Status.DISABLED, DisabledReason.EXPIRED)
    assert not Charge.objects.of_subscription(sub.uuid).exists()
    event = AuditEvent.objects.get(verb="subscription.expire")
    assert event.data["why"] == (
        "It wasn't set up in the publisher's portal within 30 days of its purchase."
    )
    assert (event.actor_type, event.actor_label) == ("system", "lifecycle sweep")


def test_a_second_run_of_the_same_day_changes_nothing(make):
    subs = [make(activated=at(2027, 1, 5)) for _ in range(3)]
    subs.append(make(activated=at(2027, 1, 5), auto_renew=False))
    assert str(run(day(2027, 2, 5))) == "renewed 3, expired 1, timed out 0, unchanged 0"
    events, charges = AuditEvent.objects.count(), Charge.objects.count()
    again = sweep.run_lifecycle(day=day(2027, 2, 5), now=at(2027, 2, 5, 6))
    assert str(again) == "renewed 0, expired 0, timed out 0, unchanged 3"
    assert (AuditEvent.objects.count(), Charge.objects.count()) == (events, charges)
    assert LifecycleRun.objects.get(day=day(2027, 2, 5)).renewed == 3


def test_an_interrupted_run_rerun_ends_as_one_clean_run(make, monkeypatch):
    subs = [make(activated=at(2027, 1, 5)) for _ in range(5)]
    real, calls = sweep.sweep_chunk, count()

    def failing_after_the_first_chunk(*args, **kwargs):
        if next(calls) == 1:
            raise ConnectionError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep, "sweep_chunk", failing_after_the_first_chunk)
    with pytest.raises(ConnectionError):
        run(day(2027, 2, 5), chunk_size=2)
    assert Charge.objects.filter(kind=ChargeKind.RENEWAL).count() == 2  # the first chunk
    assert LifecycleRun.objects.get().finished_at is None
    monkeypatch.setattr(sweep, "sweep_chunk", real)
    assert run(day(2027, 2, 5), chunk_size=2).renewed == 3
    for sub in subs:
        assert renewals(sub) == [(4500, day(2027, 2, 5), day(2027, 3, 5))]
    record = LifecycleRun.objects.get()
    assert (record.renewed, record.finished_at is not None) == (5, True)


def test_days_missed_are_caught_up_oldest_first(make):
    LifecycleRun.objects.create(
        day=day(2027, 2, 1), started_at=at(2027, 2, 1), finished_at=at(2027, 2, 1)
    )
    sub = make(activated=at(2027, 1, 3))  # due 2027-02-03
    seen = []
    sweep.run_lifecycle(
        day=day(2027, 2, 4),
        now=at(2027, 2, 4, 0, 15),
        progress=lambda on, moved, total: seen.append((on, moved, total)),
    )
    assert seen == [
        (day(2027, 2, 2), 0, 0),
        (day(2027, 2, 3), 0, 1),
        (day(2027, 2, 3), 1, 1),
        (day(2027, 2, 4), 0, 0),
    ]
    assert list(LifecycleRun.objects.order_by("day").values_list("day", "renewed")) == [
        (day(2027, 2, 1), 0),
        (day(2027, 2, 2), 0),
        (day(2027, 2, 3), 1),
        (day(2027, 2, 4), 0),
    ]
    assert renewals(sub) == [(4500, day(2027, 2, 3), day(2027, 3, 3))]


def test_a_dry_run_counts_and_writes_nothing(make):
    make(activated=at(2027, 1, 5))
    make(activated=at(2027, 1, 5), auto_renew=False)
    make(activated=at(2027, 1, 20))
    counts = run(day(2027, 2, 5), dry_run=True)
    assert str(counts) == "renewed 1, expired 1, timed out 0, unchanged 1"
    assert not Charge.objects.filter(kind=ChargeKind.RENEWAL).exists()
    assert not LifecycleRun.objects.exists()
    assert Subscription.objects.filter(status=Status.DISABLED).count() == 0


def test_one_tenants_run_leaves_the_others_and_the_days_record(make, other_tenant):
    mine = make(activated=at(2027, 1, 5))
    other_profile = BillingProfileFactory(tenant=other_tenant)
    theirs = SubscriptionFactory(billing_profile=other_profile, plan=mine.plan)
    theirs = services.subscription_activate(subscription=theirs, actor=SYSTEM, now=at(2027, 1, 5))
    assert run(day(2027, 2, 5), tenant=mine.tenant).renewed == 1
    assert renewals(mine) and not renewals(theirs)
    assert not LifecycleRun.objects.exists()


def test_the_queries_do_not_grow_with_the_subscriptions():
    """Two tenants alike but for their size, each swept alone on the same day (renewals,
    expiries, timeouts and their e-mails): the same number of queries."""
    on = day(2027, 2, 5)

    def queries(n):
        profile = BillingProfileFactory(tenant=TenantFactory(country="US"))
        plan = PlanFactory(app=AppFactory(pricing_model=PricingModel.PER_SEAT), prices={"USD": 900})
        for _ in range(n):
            for auto_renew in (True, False):
                sub = SubscriptionFactory(billing_profile=profile, plan=plan, unit_amount=900)
                sub = services.subscription_activate(
                    subscription=sub, actor=SYSTEM, now=at(2027, 1, 5)
                )
                Subscription.objects.filter(pk=sub.pk).update(
                    auto_renew=auto_renew, scheduled_quantity=2 if auto_renew else None
                )
            pending = SubscriptionFactory(billing_profile=profile, plan=plan)
            Subscription.objects.filter(pk=pending.pk).update(created_at=at(2026, 12, 1))
        with CaptureQueriesContext(connection) as captured:
            counts = run(on, tenant=profile.tenant)
        assert counts.changed == 3 * n
        return len(captured)

    assert queries(2) == queries(20)


def test_the_command_prints_the_summary_and_refuses_bad_input(make, tenant):
    make(activated=at(2027, 1, 5))
    out = io.StringIO()
    call_command("run_lifecycle", "--date", "2027-02-05", "--dry-run", stdout=out)
    assert out.getvalue() == (
        "Dry run, nothing written: renewed 1, expired 0, timed out 0, unchanged 0.\n"
    )
    call_command("run_lifecycle", "--date", "2027-02-05", stdout=out)
    assert out.getvalue().endswith("renewed 1, expired 0, timed out 0, unchanged 0.\n")
    with pytest.raises(CommandError, match="'2027-02-30' is not a date like 2027-01-31"):
        call_command("run_lifecycle", "--date", "2027-02-30")
    with pytest.raises(CommandError, match="No tenant has the slug 'nope'"):
        call_command("run_lifecycle", "--tenant", "nope")
    out = io.StringIO()
    call_command("run_lifecycle", "--date", "2027-02-05", "--tenant", tenant.slug, stdout=out)
    assert out.getvalue() == "renewed 0, expired 0, timed out 0, unchanged 1.\n"


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_overlapping_chunks_renew_each_app_once(make):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    subs = [make(activated=at(2027, 1, 5)) for _ in range(30)]
    ids = sorted(sub.pk for sub in subs)
    on, now = day(2027, 2, 5), at(2027, 2, 5, 0, 15)
    results = []
    errors = run_together(
        lambda: results.append(sweep.sweep_chunk(on, ids[0], ids[-1], now=now)),
        lambda: results.append(sweep.sweep_chunk(on, ids[10], ids[-1], now=now)),
        lambda: results.append(sweep.sweep_chunk(on, ids[0], ids[19], now=now)),
    )
    assert errors == []
    assert sum(result.renewed for result in results) == 30
    for sub in subs:
        assert renewals(sub) == [(4500, day(2027, 2, 5), day(2027, 3, 5))]


def test_the_demos_periodic_runner_runs_beats_schedule_in_process(make):
    sub = make(activated=at(2026, 1, 1))  # long overdue: renewed once, from its old end
    out = io.StringIO()
    call_command("run_periodic", "--once", stdout=out)
    assert " ran lifecycle-sweep\n" in out.getvalue()
    assert " ran publisher-secret-warnings\n" in out.getvalue()
    today = sweep.utc_day()
    assert LifecycleRun.objects.get(day=today).finished_at is not None
    assert renewals(sub)[0][1] == day(2026, 2, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's integer range")
def test_a_row_the_database_refuses_holds_back_no_other_and_the_day_still_finishes(
    make, caplog, monkeypatch
):
    """A renewal whose amount overflows the charge's integer (10,000 licenses at a price
    risen to 3,000.00 a license) fails its chunk: the chunk is done again in halves, the bad
    row is logged and left, and every other subscription renews."""
    from subscriptions.tasks import lifecycle_sweep

    subs = [make(activated=at(2027, 1, 5)) for _ in range(7)]
    bad = subs[3]
    Subscription.objects.filter(pk=bad.pk).update(quantity=10_000)
    Price.objects.filter(plan=bad.plan).update(amount=300_000)
    counts = run(day(2027, 2, 5))
    assert (counts.renewed, counts.failed) == (6, 1)
    assert "1 could not be moved: see the log" in str(counts)
    assert f"subscription id {bad.pk} can't be moved" in caplog.text
    assert LifecycleRun.objects.get(day=day(2027, 2, 5)).failed == [bad.pk]
    bad.refresh_from_db()
    assert (bad.term_end, renewals(bad)) == (day(2027, 2, 5), [])
    for sub in subs[:3] + subs[4:]:
        assert renewals(sub) == [(4500, day(2027, 2, 5), day(2027, 3, 5))]
    # Through the tasks, the finish does not wait for it: the day is marked swept at once.
    LifecycleRun.objects.all().delete()
    monkeypatch.setattr("subscriptions.tasks.utc_day", lambda moment=None: day(2027, 2, 5))
    lifecycle_sweep.apply().get()
    swept = LifecycleRun.objects.get(day=day(2027, 2, 5))
    assert swept.finished_at is not None and swept.failed == [bad.pk]


def test_eager_catching_up_of_many_missed_days_loops_instead_of_recursing(make):
    """The demo runs Celery eager: 200 missed days are swept one after the other."""
    from subscriptions.tasks import lifecycle_sweep

    today = sweep.utc_day()
    LifecycleRun.objects.create(
        day=today - datetime.timedelta(days=200),
        started_at=at(2026, 1, 1),
        finished_at=at(2026, 1, 1),
    )
    sub = make(activated=at(2026, 1, 1))
    lifecycle_sweep.apply().get()
    assert LifecycleRun.objects.filter(finished_at__isnull=False).count() == 201
    assert renewals(sub)


def test_the_demos_periodic_runner_logs_a_failing_job_and_runs_the_others(make, settings, caplog):
    sub = make(activated=at(2026, 1, 1))
    every_minute = crontab()
    settings.CELERY_BEAT_SCHEDULE = {
        "no-such-task": {"task": "subscriptions.tasks.no_such_task", "schedule": every_minute},
        "failing": {
            "task": "subscriptions.tasks.lifecycle_chunk",
            "schedule": every_minute,
            "args": ("not a day", 1, 2),
        },
        **{"lifecycle-sweep": settings.CELERY_BEAT_SCHEDULE["lifecycle-sweep"]},
    }
    out = io.StringIO()
    call_command("run_periodic", "--once", stdout=out)
    assert out.getvalue().endswith(" ran lifecycle-sweep\n")
    assert "Periodic job no-such-task could not run." in caplog.text
    assert "Periodic job failing failed:" in caplog.text
    assert renewals(sub)  # the sweep still ran


def test_the_sweep_sends_the_days_emails_once(
    make, admin, mailoutbox, django_capture_on_commit_callbacks
):
    expiring = make(activated=at(2027, 1, 5), auto_renew=False)
    with django_capture_on_commit_callbacks(execute=True):
        run(day(2027, 2, 5))
    [notice] = mailoutbox
    assert expiring.name in notice.subject and admin.email in notice.to
    with django_capture_on_commit_callbacks(execute=True):
        sweep.run_lifecycle(day=day(2027, 2, 5), now=at(2027, 2, 5, 6))
    assert len(mailoutbox) == 1
