"""The lifecycle sweep: what time does to subscriptions, one UTC day at a time.

On each day, for every subscription due (ARCHITECTURE.md, Subscription lifecycle):
- active with auto-renew on, its term ended: renewed (`subscriptions_renew_due`);
- active or suspended with auto-renew off, its term ended: disabled, expired
  (`subscriptions_expire_due`);
- pending set-up 30 days after its purchase: disabled, expired, nothing charged
  (`subscriptions_time_out_due`);
- suspended with auto-renew on, its term ended: unchanged (it renews once reinstated).

These are the set-based twins of the transition services: per chunk of subscription ids, one
`SELECT ... FOR UPDATE` of the rows due, one conditional `UPDATE` of them (`WHERE status IN`
the move's sources, from `lifecycle.MOVES`, and still due), and one `INSERT` each for their
charges and audit events; no query per subscription. A row another worker or a person holds
is waited for and then asked again whether it is still due, so two workers running the same
chunk move each subscription once.

Every condition is "due by the day" (`term_end <= day`), so a rerun of a day changes nothing
and an interrupted run's rerun finishes it. `LifecycleRun` records the days finished: days
missed are caught up in order, oldest first (`days_to_sweep`).
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.db import DataError, IntegrityError, transaction
from django.db.models import Case, DateField, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import Charge, ChargeKind
from billing.services import charges_create_many
from portal.audit import Actor, audit_event, audit_record_many
from portal.models import Tenant

from ..lifecycle import MOVES, SETUP_TIMEOUT, Status, Transition, sources
from ..models import LifecycleRun, Subscription
from ..notices import notices_send
from ..terms import term_end
from .common import describe_term, money, utc_day
from .dunning import dunning_day
from .outbox import tell_publishers

CHUNK_SIZE = 2_000
log = logging.getLogger(__name__)
ACTOR = Actor.system("lifecycle sweep")
TARGET = Subscription._meta.label_lower


@dataclass
class SweepCounts:
    renewed: int = 0
    expired: int = 0
    timed_out: int = 0
    unchanged: int = 0  # live subscriptions the run left as they were
    failed: int = 0  # due, and could not be moved (each logged): in `unchanged` too

    def __add__(self, other: "SweepCounts") -> "SweepCounts":
        return SweepCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def changed(self) -> int:
        return self.renewed + self.expired + self.timed_out

    def __str__(self) -> str:
        failed = f" ({self.failed} could not be moved: see the log)" if self.failed else ""
        return (
            f"renewed {self.renewed}, expired {self.expired}, "
            f"timed out {self.timed_out}, unchanged {self.unchanged}{failed}"
        )


# What is due on `day`: one condition per twin, each the move's sources and the rule's date.
def renew_due(day: datetime.date) -> Q:
    return Q(status__in=sources(Transition.RENEW), auto_renew=True, term_end__lte=day)


def expire_due(day: datetime.date) -> Q:
    # A pending subscription has no term end, so only active and suspended ones match.
    return Q(status__in=sources(Transition.EXPIRE), auto_renew=False, term_end__lte=day)


def time_out_due(day: datetime.date) -> Q:
    """Pending set-up whose last day to be set up (`setup_last_day`: 30 days after the UTC
    day of purchase) is before `day`: bought on 1 Dec, disabled by the sweep of 1 Jan."""
    cutoff = datetime.datetime.combine(day - SETUP_TIMEOUT, datetime.time.min, datetime.UTC)
    assert Status.PENDING_ACTIVATION in MOVES[Transition.EXPIRE].sources
    return Q(status=Status.PENDING_ACTIVATION, created_at__lt=cutoff)


def due(day: datetime.date) -> Q:
    return renew_due(day) | expire_due(day) | time_out_due(day)


def _scope(tenant: Tenant | None):
    subscriptions = Subscription.objects.all()
    return subscriptions.for_tenant(tenant) if tenant is not None else subscriptions


def plan_chunks(
    day: datetime.date,
    *,
    tenant: Tenant | None = None,
    chunk_size: int = CHUNK_SIZE,
    skip: list[int] = (),
) -> list[tuple[int, int, int]]:
    """The id ranges (first, last, how many) of the subscriptions due on `day`, in chunks
    of `chunk_size`: what the sweep's tasks are given; `skip`, ids left out (those the day
    could not move). One query of ids."""
    due_ids = _scope(tenant).filter(due(day)).exclude(pk__in=skip).order_by("pk")
    ids = list(due_ids.values_list("pk", flat=True))
    return [
        (part[0], part[-1], len(part))
        for part in (ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size))
    ]


def sweep_chunk(
    day: datetime.date, first: int, last: int, *, tenant: Tenant | None = None, now=None
) -> SweepCounts:
    """Move what is due on `day` among the subscriptions with ids in [first, last], in one
    transaction: all of the chunk or none of it, its counts added to the day's record in
    it too (not for one tenant's run). A subscription several terms behind (the sweep's
    first day, a long outage) renews term after term until it is not due."""
    now = now or timezone.now()
    rows = _scope(tenant).filter(pk__gte=first, pk__lte=last)
    with transaction.atomic():
        renewed = 0
        while moved := subscriptions_renew_due(rows, day=day, now=now):
            renewed += moved
        counts = SweepCounts(
            renewed=renewed,
            expired=subscriptions_expire_due(rows, day=day, now=now),
            timed_out=subscriptions_time_out_due(rows, day=day, now=now),
        )
        if tenant is None:
            day_count(day, counts)
    return counts


def sweep_range(
    day: datetime.date, first: int, last: int, *, tenant: Tenant | None = None, now=None
) -> SweepCounts:
    """`sweep_chunk`; when the database refuses a row of it (a value out of range, a rule
    it checks), the range again in halves, down to the one subscription, which is logged,
    recorded in the day's `failed` and left as it was: one bad row holds back no other."""
    try:
        return sweep_chunk(day, first, last, tenant=tenant, now=now)
    except (DataError, IntegrityError) as error:
        rows = _scope(tenant).filter(due(day), pk__gte=first, pk__lte=last).order_by("pk")
        ids = list(rows.values_list("pk", flat=True))
        if len(ids) > 1:
            middle = ids[len(ids) // 2]
            return sweep_range(day, ids[0], middle - 1, tenant=tenant, now=now) + sweep_range(
                day, middle, ids[-1], tenant=tenant, now=now
            )
        if not ids:
            raise  # no row of the range to blame
        log.error(
            "Lifecycle sweep of %s: subscription id %s can't be moved: %s", day, ids[0], error
        )
        if tenant is None:
            day_failed(day, ids[0])
        return SweepCounts(failed=1)


def _grouped(rows, key) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row["pk"])
    return groups


def _case(groups: dict, output_field) -> Case:
    """One value per group of ids: `CASE WHEN id IN (...) THEN value ...`."""
    return Case(
        *(When(pk__in=ids, then=Value(value)) for value, ids in groups.items()),
        output_field=output_field,
    )


def subscriptions_renew_due(subscriptions, *, day: datetime.date, now) -> int:
    """`subscription_renew` for every subscription of `subscriptions` due to renew on `day`:
    a new term from the old end (the anchor day kept), a scheduled decrease applied, the
    plan's price of the day taken (`renewal_unit_amount`), a renewal charge and an audit
    event each. The caller holds a transaction. How many renewed."""
    rows = list(
        subscriptions.filter(renew_due(day))
        .with_renewal_price()
        .select_for_update(of=("self",))
        .order_by("pk")
        .values(
            "pk",
            "uuid",
            "tenant_id",
            "billing_profile_id",
            "currency",
            "name",
            "term",
            "term_end",
            "activated_at",
            "quantity",
            "scheduled_quantity",
            "unit_amount",
            "renewal_quantity",
            "renewal_unit_amount",
            "renewal_amount",
            "plan_id",
            "plan__name",
            "plan__app__name",
        )
    )
    if not rows:
        return 0
    for row in rows:
        anchor = row["activated_at"].astimezone(datetime.UTC).day
        row["new_end"] = term_end(row["term_end"], row["term"], anchor_day=anchor)
    moved = Subscription.objects.filter(renew_due(day), pk__in=[row["pk"] for row in rows]).update(
        quantity=Coalesce("scheduled_quantity", "quantity"),
        scheduled_quantity=None,
        unit_amount=_case(_grouped(rows, lambda r: r["renewal_unit_amount"]), IntegerField()),
        term_start=F("term_end"),
        term_end=_case(_grouped(rows, lambda r: r["new_end"]), DateField()),
        term_started_at=now,
    )
    if moved != len(rows):  # the rows are locked: nothing else can have moved them
        raise RuntimeError(f"Renewed {moved} of the {len(rows)} subscriptions locked.")
    charges_create_many(
        [
            Charge(
                tenant_id=row["tenant_id"],
                billing_profile_id=row["billing_profile_id"],
                subscription_uuid=row["uuid"],
                plan_id=row["plan_id"],
                kind=ChargeKind.RENEWAL,
                description=describe_term(
                    row["plan__app__name"],
                    row["plan__name"],
                    row["renewal_quantity"],
                    row["term_end"],
                    row["new_end"],
                ),
                quantity=row["renewal_quantity"],
                unit_amount=row["renewal_unit_amount"],
                amount=row["renewal_amount"],
                currency=row["currency"],
                period_start=row["term_end"],
                period_end=row["new_end"],
                created_at=now,
            )
            for row in rows
        ]
    )
    _record(rows, Transition.RENEW, now, data=_renewal_data)
    tell_publishers(rows, Transition.RENEW, now)  # in this transaction
    return len(rows)


def _renewal_data(row) -> dict:
    """What `subscription_renew` records of a renewal: the licenses when a scheduled
    decrease applied, the unit price when it changed."""
    data = {}
    if row["scheduled_quantity"] is not None:
        data["quantity"] = row["scheduled_quantity"]
    if row["renewal_unit_amount"] != row["unit_amount"]:
        data["unit_amount"] = money(row["renewal_unit_amount"], row["currency"])
    return data


def _disable(subscriptions, transition: str, now, why: str) -> int:
    """Disable every subscription of `subscriptions` (already filtered to those due) by
    `transition`, with its reason and an audit event each. How many."""
    move = MOVES[transition]
    rows = list(
        subscriptions.select_for_update(of=("self",))
        .order_by("pk")
        .values("pk", "uuid", "tenant_id", "name", "status")
    )
    if not rows:
        return 0
    moved = subscriptions.filter(
        status__in=move.sources, pk__in=[row["pk"] for row in rows]
    ).update(status=move.target, disabled_reason=move.reason, disabled_at=now, suspended_for=None)
    if moved != len(rows):
        raise RuntimeError(f"Disabled {moved} of the {len(rows)} subscriptions locked.")
    _record(rows, transition, now, data=lambda row: {"why": why}, target=move.target)
    tell_publishers(rows, transition, now)  # in this transaction
    return len(rows)


def subscriptions_expire_due(subscriptions, *, day: datetime.date, now) -> int:
    """`subscription_expire` for those whose term ended by `day` with auto-renew off."""
    why = "The term ended with auto-renew off."
    return _disable(subscriptions.filter(expire_due(day)), Transition.EXPIRE, now, why)


def subscriptions_time_out_due(subscriptions, *, day: datetime.date, now) -> int:
    """`subscription_expire` for those still pending set-up 30 days after their purchase."""
    why = "It wasn't set up in the publisher's portal within 30 days of its purchase."
    return _disable(subscriptions.filter(time_out_due(day)), Transition.EXPIRE, now, why)


def _record(rows, transition: str, now, *, data: Callable[[dict], dict], target=None) -> None:
    """The audit events `_move` would write, one per row, in one statement."""
    audit_record_many(
        [
            audit_event(
                tenant_id=row["tenant_id"],
                actor=ACTOR,
                verb=f"subscription.{transition}",
                target_type=TARGET,
                target_id=str(row["uuid"]),
                at=now,
                data={
                    "name": row["name"],
                    **({"from": row["status"], "to": target} if target else {}),
                    **data(row),
                },
            )
            for row in rows
        ]
    )


def days_to_sweep(until: datetime.date) -> list[datetime.date]:
    """The days from the one after the last day finished up to `until`, oldest first;
    just `until` when it is already finished, or nothing was ever swept."""
    last = LifecycleRun.objects.filter(finished_at__isnull=False).order_by("-day").first()
    if last is None or last.day >= until:
        return [until]
    return [last.day + datetime.timedelta(days=n) for n in range(1, (until - last.day).days + 1)]


def day_start(day: datetime.date, now=None) -> None:
    LifecycleRun.objects.get_or_create(day=day, defaults={"started_at": now or timezone.now()})


def day_count(day: datetime.date, counts: SweepCounts) -> None:
    """Add what a chunk moved to the day's record."""
    LifecycleRun.objects.filter(day=day).update(
        renewed=F("renewed") + counts.renewed,
        expired=F("expired") + counts.expired,
        timed_out=F("timed_out") + counts.timed_out,
    )


def day_failed(day: datetime.date, subscription_id: int) -> None:
    with transaction.atomic():
        run = LifecycleRun.objects.select_for_update().filter(day=day).first()
        if run is not None and subscription_id not in run.failed:
            run.failed.append(subscription_id)
            run.save(update_fields=["failed"])


def failed_ids(day: datetime.date) -> list[int]:
    """The subscriptions the sweep of `day` could not move."""
    return LifecycleRun.objects.filter(day=day).values_list("failed", flat=True).first() or []


def day_finish(day: datetime.date, now=None) -> None:
    """Every chunk of `day` is done: the day counts as swept."""
    LifecycleRun.objects.filter(day=day).update(finished_at=now or timezone.now())


def live(tenant: Tenant | None = None):
    return _scope(tenant).exclude(status=Status.DISABLED)


def dry_run_counts(day: datetime.date, *, tenant: Tenant | None = None) -> SweepCounts:
    """What sweeping up to `day` would do, written nowhere: every condition is "due by the
    day", so the last day's counts hold the days before it."""
    scope = _scope(tenant)
    counts = SweepCounts(
        renewed=scope.filter(renew_due(day)).count(),
        expired=scope.filter(expire_due(day)).count(),
        timed_out=scope.filter(time_out_due(day)).count(),
    )
    counts.unchanged = live(tenant).count() - counts.changed
    return counts


def run_lifecycle(
    *,
    day: datetime.date | None = None,
    tenant: Tenant | None = None,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[datetime.date, int, int], None] | None = None,
    now=None,
) -> SweepCounts:
    """Sweep every day not yet swept up to `day` (default: today, UTC), oldest first, in
    this process, chunk by chunk; `progress(day, moved, total)` hears of each day's start
    (0 moved of its `total` due) and then of each chunk. A run for
    one `tenant` sweeps only `day` and leaves the record of days alone (it is ops' repair,
    not the day's sweep). `dry_run` counts and writes nothing."""
    now = now or timezone.now()
    until = day or utc_day(now)
    if dry_run:
        return dry_run_counts(until, tenant=tenant)
    days = [until] if tenant is not None else days_to_sweep(until)
    total = SweepCounts()
    for each in days:
        if tenant is None:
            day_start(each, now)
        chunks = plan_chunks(each, tenant=tenant, chunk_size=chunk_size)
        due_count = sum(chunk[2] for chunk in chunks)
        if progress is not None:
            progress(each, 0, due_count)
        for first, last, size in chunks:
            total += sweep_range(each, first, last, tenant=tenant, now=now)
            if progress is not None:
                progress(each, size, due_count)
        if tenant is None:  # non-payment steps are invoices', not a tenant's repair
            dunning_day(each, now=now)
        notices_send(day=each, tenant=tenant)  # the day's e-mails, after its moves
        if tenant is None:
            day_finish(each, now)
    # Live and not renewed by this run (whose renewals all started their terms `now`).
    total.unchanged = live(tenant).exclude(term_started_at=now).count()
    return total
