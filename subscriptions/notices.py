"""Lifecycle e-mails: which are due on a day, the record that each goes once, and their text.

The daily sweep calls `notices_send(day=...)` after its own transitions. Per kind, one
SELECT finds the subscriptions due (a window, so a day the sweep missed is caught up, and
NOT EXISTS on the notices already recorded) and one INSERT records them; then one SELECT
finds every notice still unsent and, once the transaction commits, one `send_notice` task
each sends it. The unique constraint on (subscription, kind, key) makes two sweeps at once
record an event once, and the task's claim makes it go once.

    renewal reminder    active, auto-renew on, the term ends within 30 days (annual) or 7
                        (monthly): the renewal day, the licenses and the price it renews at
    expiry notice       active or suspended, auto-renew off, the same points: the last day
    disabled notice     disabled as expired (term ended, or set-up never came) in the last
                        7 days, so a first deploy doesn't mail old history: buy it again
    set-up reminders    still pending 3 days after purchase, and again 14 days after (when
                        both points have passed unsent, only the 14-day one goes)
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import BillingProfileRole, ProfileRole
from portal.links import tenant_url
from portal.models import Membership, Role, Tenant
from portal.money import format_money, locale_for_country, money_locale
from publishers.models import Term

from .lifecycle import SETUP_TIMEOUT, DisabledReason, Status, setup_last_day
from .models import Notice, NoticeKind, Subscription

REMIND_BEFORE = {Term.ANNUAL: 30, Term.MONTHLY: 7}  # days before the term's end
DISABLED_WITHIN = 7  # days: a disabled notice older than this is never sent
SETUP_POINTS = {NoticeKind.SETUP_REMINDER: 3, NoticeKind.SETUP_LAST_REMINDER: 14}  # days
RESEND_WITHIN = datetime.timedelta(days=2)  # an unsent notice this recent is tried again
BATCH_SIZE = 2000  # rows per INSERT
SEND_BATCH = 200  # notices per task, sent over one mail connection


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _utc_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(datetime.UTC).date()


def _not_recorded(kind: str, key: str | None = None) -> Exists:
    """No notice of `kind` yet for the subscription's event, whose key is its field `key`
    (None: a kind the subscription can have once only)."""
    notices = Notice.objects.filter(subscription=OuterRef("pk"), kind=kind)
    return ~Exists(notices.filter(key=OuterRef(key)) if key else notices)


def _before_term_end(day: datetime.date) -> Q:
    """The term ends after `day` and no later than its reminder point's days ahead."""
    return Q(term_end__gt=day) & (
        Q(term=Term.ANNUAL, term_end__lte=day + datetime.timedelta(days=REMIND_BEFORE[Term.ANNUAL]))
        | Q(
            term=Term.MONTHLY,
            term_end__lte=day + datetime.timedelta(days=REMIND_BEFORE[Term.MONTHLY]),
        )
    )


@dataclass(frozen=True)
class _Due:
    """One kind's due subscriptions: the rows, and how to read the event's key from one."""

    kind: str
    rows: QuerySet
    fields: tuple[str, ...]

    def key(self, row: dict) -> datetime.date:
        if self.kind in (NoticeKind.RENEWAL_REMINDER, NoticeKind.EXPIRY_NOTICE):
            return row["term_end"]
        if self.kind == NoticeKind.DISABLED_NOTICE:
            return _utc_day(row["disabled_at"])
        return _utc_day(row["created_at"]) + datetime.timedelta(days=SETUP_POINTS[self.kind])


def notices_due(day: datetime.date, subscriptions: QuerySet) -> list[_Due]:
    """Each kind's subscriptions due a notice on `day` (UTC) and not yet given it."""
    # Set-up points: bought on a UTC day at least 3 (14) days before `day`.
    bought_3_days_ago = _midnight(day - datetime.timedelta(days=2))
    bought_14_days_ago = _midnight(day - datetime.timedelta(days=13))
    pending = subscriptions.filter(status=Status.PENDING_ACTIVATION)
    return [
        _Due(
            NoticeKind.RENEWAL_REMINDER,
            subscriptions.filter(
                _before_term_end(day), status=Status.ACTIVE, auto_renew=True
            ).filter(_not_recorded(NoticeKind.RENEWAL_REMINDER, "term_end")),
            ("pk", "term_end"),
        ),
        _Due(
            NoticeKind.EXPIRY_NOTICE,
            subscriptions.filter(
                _before_term_end(day),
                status__in=[Status.ACTIVE, Status.SUSPENDED],
                auto_renew=False,
            ).filter(_not_recorded(NoticeKind.EXPIRY_NOTICE, "term_end")),
            ("pk", "term_end"),
        ),
        _Due(
            NoticeKind.DISABLED_NOTICE,
            # Disabled on a UTC day in (day - 7, day]. No notice of this kind can exist for
            # another day (disabled is terminal), so "none yet" needs no key.
            subscriptions.filter(
                status=Status.DISABLED,
                disabled_reason=DisabledReason.EXPIRED,
                disabled_at__gte=_midnight(day - datetime.timedelta(days=DISABLED_WITHIN - 1)),
                disabled_at__lt=_midnight(day + datetime.timedelta(days=1)),
            ).filter(_not_recorded(NoticeKind.DISABLED_NOTICE)),
            ("pk", "disabled_at"),
        ),
        _Due(
            NoticeKind.SETUP_REMINDER,
            # Only until the 14-day point: past it, the 14-day reminder goes instead.
            pending.filter(
                created_at__lt=bought_3_days_ago, created_at__gte=bought_14_days_ago
            ).filter(_not_recorded(NoticeKind.SETUP_REMINDER)),
            ("pk", "created_at"),
        ),
        _Due(
            NoticeKind.SETUP_LAST_REMINDER,
            pending.filter(created_at__lt=bought_14_days_ago).filter(
                _not_recorded(NoticeKind.SETUP_LAST_REMINDER)
            ),
            ("pk", "created_at"),
        ),
    ]


def notices_send(
    *, day: datetime.date, tenant: Tenant | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Record the lifecycle e-mails due on `day` (UTC) for every tenant (or `tenant`'s
    subscriptions) and send each once the transaction commits; the number recorded per
    kind. A rerun records and sends nothing again. An unsent notice of the last two days
    (its task lost, or out of retries) is sent again. `dry_run`: the numbers that would be
    recorded; nothing is written or sent. A fixed number of queries, whatever the number of
    subscriptions (one INSERT per 2,000 notices)."""
    subscriptions = Subscription.objects.order_by()
    if tenant is not None:
        subscriptions = subscriptions.for_tenant(tenant)
    counts = {}
    with transaction.atomic():
        for due in notices_due(day, subscriptions):
            if dry_run:
                counts[due.kind] = due.rows.count()
                continue
            rows = list(due.rows.values(*due.fields))
            Notice.objects.bulk_create(
                [
                    Notice(subscription_id=row["pk"], kind=due.kind, key=due.key(row))
                    for row in rows
                ],
                batch_size=BATCH_SIZE,
                ignore_conflicts=True,  # another sweep recorded it first
            )
            counts[due.kind] = len(rows)
        if not dry_run:
            _send_unsent(tenant)
    return counts


def _send_unsent(tenant: Tenant | None) -> None:
    """Every notice recorded lately and not yet sent gets a task, after commit. A notice
    queued twice (two sweeps, or a retry still waiting) goes once: the task claims it."""
    from .tasks import send_notices  # the tasks module imports this one

    unsent = Notice.objects.filter(
        sent_at__isnull=True, created_at__gte=timezone.now() - RESEND_WITHIN
    )
    if tenant is not None:
        unsent = unsent.filter(subscription__tenant=tenant)
    ids = list(unsent.order_by("pk").values_list("pk", flat=True))
    for batch in (ids[i : i + SEND_BATCH] for i in range(0, len(ids), SEND_BATCH)):
        transaction.on_commit(lambda batch=batch: send_notices.delay(batch), robust=True)


# What each kind's e-mail says: its template (templates/subscriptions/email/) and subject.
SUBJECTS = {
    NoticeKind.RENEWAL_REMINDER: "{name} renews on {date} for {amount}",
    NoticeKind.EXPIRY_NOTICE: "{name} expires after {date}",
    NoticeKind.DISABLED_NOTICE: "{name} is disabled: {why}",
    NoticeKind.SETUP_REMINDER: "{name} isn't set up yet: set it up in {publisher}'s portal",
    NoticeKind.SETUP_LAST_REMINDER: "{name} still isn't set up: set it up in {publisher}'s portal",
}
TEMPLATES = {
    NoticeKind.RENEWAL_REMINDER: "renewal_reminder",
    NoticeKind.EXPIRY_NOTICE: "expiry_notice",
    NoticeKind.DISABLED_NOTICE: "disabled_notice",
    NoticeKind.SETUP_REMINDER: "setup_reminder",
    NoticeKind.SETUP_LAST_REMINDER: "setup_reminder",
}


@dataclass(frozen=True)
class Email:
    subject: str
    body: str
    html: str
    to: list[str]


def notice_recipients(subscription: Subscription) -> list[str]:
    """Who hears of the subscription's lifecycle: the tenant's admins and the owners of its
    billing profile, active people only, each address once, sorted."""
    admins = Membership.objects.for_tenant(subscription.tenant_id).filter(
        role=Role.ADMIN, user__is_active=True
    )
    owners = BillingProfileRole.objects.filter(
        profile_id=subscription.billing_profile_id, role=ProfileRole.OWNER, user__is_active=True
    )
    emails = {*admins.values_list("user__email", flat=True)}
    emails |= {*owners.values_list("user__email", flat=True)}
    return sorted(emails, key=str.lower)


def _licenses(quantity: int | None) -> str:
    return "Unlimited" if quantity is None else f"{quantity:,}"


def notice_email(notice: Notice) -> Email:
    """The e-mail of `notice`, as its subscription stands now, with money in the tenant's
    locale."""
    subscription = (
        Subscription.objects.with_renewal_price()
        .select_related("plan__app__publisher", "tenant", "billing_profile")
        .get(pk=notice.subscription_id)
    )
    tenant = subscription.tenant
    url = settings.PORTAL_BASE_URL + tenant_url(
        "subscriptions:detail", tenant.slug, subscription_uuid=subscription.uuid
    )
    timed_out = subscription.activated_at is None  # expired before set-up: the 30-day timeout
    bought_on = _utc_day(subscription.created_at)
    context = {
        "subscription": subscription,
        "notice": notice,
        "url": url,
        "publisher": subscription.plan.app.publisher.name,
        "timed_out": timed_out,
        "bought_on": bought_on,
        "setup_deadline": setup_last_day(subscription.created_at),
        "licenses": _licenses(subscription.quantity),
        "renewal_licenses": _licenses(subscription.renewal_quantity),
        "decrease_at_renewal": subscription.scheduled_quantity is not None,
    }
    with money_locale(locale_for_country(tenant.country)):
        amount = format_money(subscription.renewal_amount, subscription.currency)
        context["renewal_amount"] = amount
        context["term_amount"] = format_money(subscription.term_amount, subscription.currency)
        template = f"subscriptions/email/{TEMPLATES[notice.kind]}"
        body = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    date = {
        NoticeKind.RENEWAL_REMINDER: subscription.term_end,
        NoticeKind.EXPIRY_NOTICE: subscription.last_day,
    }.get(notice.kind)
    why = (
        f"it wasn't set up within {SETUP_TIMEOUT.days} days"
        if timed_out
        else "its term ended without renewal"
    )
    subject = SUBJECTS[notice.kind].format(
        name=subscription.name,
        date=f"{date:%-d %B %Y}" if date else "",
        amount=amount,
        why=why,
        publisher=context["publisher"],
    )
    return Email(subject, body, html, notice_recipients(subscription))
