"""Lifecycle e-mails: each is due at its point (a missed point caught up later), sent once
to the tenant's admins and the billing profile's owners, never again on a rerun, and says
the app, the date and the amount."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import ProfileRole
from portal.models import Role
from publishers.models import PricingModel, Term
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import Notice, NoticeKind
from subscriptions.models.notice import CLAIM_LEASE
from subscriptions.notices import notices_send
from subscriptions.tasks import send_notice
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    BillingProfileRoleFactory,
    MembershipFactory,
    PlanFactory,
    SubscriptionFactory,
    TenantFactory,
    UserFactory,
)

TERM_END = datetime.date(2027, 1, 2)
BOUGHT = datetime.datetime(2026, 12, 1, 23, 30, tzinfo=datetime.UTC)  # bought on 1 Dec (UTC)
K = NoticeKind


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant, name="Main")


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the notices of `day` as the sweep does, the e-mails sent after commit; the
    e-mails sent by this run."""

    def run(day, **kwargs):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            counts = notices_send(day=day, **kwargs)
        run.counts = counts
        return mail.outbox[before:]

    return run


def active(profile, *, term=Term.MONTHLY, term_end=TERM_END, auto_renew=True, **kwargs):
    plan = kwargs.pop("plan", None) or PlanFactory(
        term=term, app=AppFactory(name=kwargs.pop("app_name", "Ledger Pro"))
    )
    start = term_end - (days(365) if term == Term.ANNUAL else days(31))
    began = datetime.datetime.combine(start, datetime.time(9), tzinfo=datetime.UTC)
    return SubscriptionFactory(
        billing_profile=profile,
        plan=plan,
        term=term,
        status=kwargs.pop("status", Status.ACTIVE),
        activated_at=began,
        term_started_at=began,
        term_start=start,
        term_end=term_end,
        auto_renew=auto_renew,
        created_at=began - days(1),
        **kwargs,
    )


def pending(profile, *, created_at=BOUGHT):
    return SubscriptionFactory(
        billing_profile=profile,
        plan=PlanFactory(app=AppFactory(name="Ledger Pro")),
        created_at=created_at,
    )


def disabled(profile, *, on, reason=DisabledReason.EXPIRED, activated=True):
    sub = active(profile, term_end=on.date()) if activated else pending(profile)
    sub.status, sub.disabled_reason, sub.disabled_at = Status.DISABLED, reason, on
    sub.save()
    return sub


def kinds(emails_or_sub):
    return sorted(Notice.objects.filter(subscription=emails_or_sub).values_list("kind", "key"))


# Renewal reminders and expiry notices


def test_monthly_renewal_reminder_goes_7_days_before_the_term_ends_and_once(admin, profile, sweep):
    sub = active(profile)
    assert sweep(TERM_END - days(8)) == []
    sent = sweep(TERM_END - days(7))
    assert [e.subject for e in sent] == ["Ledger Pro renews on 2 January 2027 for $20.00"]
    assert sweep.counts[K.RENEWAL_REMINDER] == 1
    assert sweep(TERM_END - days(7)) == []  # the same day again
    assert sweep(TERM_END - days(6)) == []  # and the next
    assert sweep.counts[K.RENEWAL_REMINDER] == 0
    assert kinds(sub) == [(K.RENEWAL_REMINDER, TERM_END)]
    assert Notice.objects.get().sent_at is not None


def test_annual_renewal_reminder_goes_30_days_before(admin, profile, sweep):
    active(profile, term=Term.ANNUAL)
    assert sweep(TERM_END - days(31)) == []
    assert len(sweep(TERM_END - days(30))) == 1
    assert sweep(TERM_END - days(7)) == []  # no second one at the monthly point


def test_a_missed_point_is_caught_up_until_the_term_ends(admin, profile, sweep):
    active(profile)
    assert len(sweep(TERM_END - days(1))) == 1  # the sweep didn't run for six days
    other = active(profile, app_name="Inkwell")
    assert sweep(TERM_END) == []  # on the term's end it renews: too late to remind
    assert kinds(other) == []


def test_each_term_gets_its_own_reminder(admin, profile, sweep):
    sub = active(profile)
    assert len(sweep(TERM_END - days(7))) == 1
    sub.term_start, sub.term_end = TERM_END, datetime.date(2027, 2, 2)  # renewed
    sub.save()
    assert sweep(TERM_END) == []
    assert len(sweep(datetime.date(2027, 1, 26))) == 1
    assert [key for _, key in kinds(sub)] == [TERM_END, datetime.date(2027, 2, 2)]


def test_auto_renew_off_gives_the_expiry_notice_not_the_reminder(admin, profile, sweep):
    sub = active(profile, auto_renew=False)
    assert sweep(TERM_END - days(8)) == []
    [sent] = sweep(TERM_END - days(7))
    assert sent.subject == "Ledger Pro expires after 1 January 2027"
    assert "Last day: 1 January 2027" in sent.body
    assert "turn auto-renew on" in sent.body
    assert sweep(TERM_END - days(3)) == []
    assert kinds(sub) == [(K.EXPIRY_NOTICE, TERM_END)]


def test_a_suspended_app_that_wont_renew_gets_the_expiry_notice_only(admin, profile, sweep):
    renewing = active(profile, status=Status.SUSPENDED)
    expiring = active(profile, status=Status.SUSPENDED, auto_renew=False, app_name="Inkwell")
    [sent] = sweep(TERM_END - days(7))
    assert sent.subject == "Inkwell expires after 1 January 2027"
    assert "suspended because an invoice is overdue" in sent.body
    assert kinds(renewing) == []
    assert kinds(expiring) == [(K.EXPIRY_NOTICE, TERM_END)]


def test_the_reminder_names_the_app_the_date_and_the_price_it_renews_at(admin, profile, sweep):
    plan = PlanFactory(app=AppFactory(name="Ledger Pro"), name="Team", prices={"USD": 500})
    sub = active(profile, plan=plan, quantity=5, scheduled_quantity=3, unit_amount=400)
    [sent] = sweep(TERM_END - days(7))
    html = sent.alternatives[0].content
    # The plan's price of the day (5.00, not the frozen 4.00), for the 3 licenses it keeps.
    assert sent.subject == "Ledger Pro renews on 2 January 2027 for $15.00"
    for text in (sent.body, html):
        assert "Ledger Pro" in text
        assert "2 January 2027" in text
        assert "$15.00" in text
        assert "3 (down from 5" in text
        assert f"http://testserver/t/contoso/billing/products/apps/{sub.uuid}/" in text
    assert "turn auto-renew off" in sent.body


def test_flat_rate_shows_unlimited_and_money_is_in_the_tenants_locale(db, sweep):
    tenant = TenantFactory(name="Fabrikam", slug="fabrikam", country="DE")
    MembershipFactory(tenant=tenant, role=Role.ADMIN)
    profile = BillingProfileFactory(tenant=tenant)
    app = AppFactory(name="Ledger Pro", pricing_model=PricingModel.FLAT_RATE)
    plan = PlanFactory(app=app, prices={"EUR": 110000})
    active(profile, plan=plan, unit_amount=110000)
    [sent] = sweep(TERM_END - days(7))
    assert "Licenses: Unlimited" in sent.body
    assert "1.100,00\xa0€" in sent.body


# Disabled notices


def test_an_expired_app_gets_a_disabled_notice_once_saying_why(admin, profile, sweep):
    on = datetime.datetime(2027, 1, 2, 0, 5, tzinfo=datetime.UTC)
    sub = disabled(profile, on=on)
    assert sweep(datetime.date(2027, 1, 1)) == []  # before it happened
    [sent] = sweep(datetime.date(2027, 1, 2))
    assert sent.subject == "Ledger Pro is disabled: its term ended without renewal"
    assert "disabled for Contoso on 2 January 2027" in sent.body
    assert "its term ended on 1 January 2027 with auto-renew off" in sent.body
    assert "$20.00" in sent.body
    assert "buy it again" in sent.body
    assert sweep(datetime.date(2027, 1, 3)) == []
    assert kinds(sub) == [(K.DISABLED_NOTICE, datetime.date(2027, 1, 2))]


def test_an_app_never_set_up_says_so_in_its_disabled_notice(admin, profile, sweep):
    on = datetime.datetime(2026, 12, 31, 1, tzinfo=datetime.UTC)
    disabled(profile, on=on, activated=False)
    [sent] = sweep(datetime.date(2027, 1, 5))  # caught up four days late
    assert sent.subject == "Ledger Pro is disabled: it wasn't set up within 30 days"
    assert "within 30 days of its purchase on 1 December 2026" in sent.body


def test_no_disabled_notice_for_old_history_a_cancel_or_non_payment(admin, profile, sweep):
    on = datetime.datetime(2027, 1, 2, 12, tzinfo=datetime.UTC)
    disabled(profile, on=on - days(7))  # a week before: a first deploy mails no history
    disabled(profile, on=on, reason=DisabledReason.CANCELED)
    disabled(profile, on=on, reason=DisabledReason.NON_PAYMENT)
    assert sweep(on.date()) == []
    assert not Notice.objects.exists()
    kept = disabled(profile, on=on - days(6))  # the last day of the window
    assert len(sweep(on.date())) == 1
    assert kinds(kept) == [(K.DISABLED_NOTICE, (on - days(6)).date())]


# Set-up reminders


def test_setup_reminders_go_3_and_14_days_after_purchase_once_each(admin, profile, sweep):
    sub = pending(profile)  # bought on 1 December, UTC
    assert sweep(datetime.date(2026, 12, 3)) == []
    [first] = sweep(datetime.date(2026, 12, 4))
    assert first.subject == "Ledger Pro isn't set up yet: set it up in " + (
        f"{sub.plan.app.publisher.name}'s portal"
    )
    assert "bought for Contoso on 1 December 2026" in first.body
    assert "$20.00" in first.body
    assert "by 31 December 2026" in first.body
    assert sweep(datetime.date(2026, 12, 4)) == []
    assert sweep(datetime.date(2026, 12, 14)) == []
    [last] = sweep(datetime.date(2026, 12, 15))
    assert last.subject.startswith("Ledger Pro still isn't set up")
    assert sweep(datetime.date(2026, 12, 20)) == []
    assert kinds(sub) == [
        (K.SETUP_LAST_REMINDER, datetime.date(2026, 12, 15)),
        (K.SETUP_REMINDER, datetime.date(2026, 12, 4)),
    ]


def test_past_both_points_only_the_14_day_reminder_goes(admin, profile, sweep):
    sub = pending(profile)
    assert len(sweep(datetime.date(2026, 12, 20))) == 1
    assert sweep(datetime.date(2026, 12, 21)) == []
    assert kinds(sub) == [(K.SETUP_LAST_REMINDER, datetime.date(2026, 12, 15))]


def test_no_setup_reminder_once_set_up(admin, profile, sweep):
    active(profile)
    assert sweep(datetime.date(2026, 12, 20)) == []


# Who gets them


def test_admins_and_the_profiles_owners_get_one_email_each_address_once(
    admin, billing_admin, reader, member, profile, other_tenant, sweep
):
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.OWNER)
    BillingProfileRoleFactory(profile=profile, user=admin, role=ProfileRole.OWNER)
    BillingProfileRoleFactory(profile=profile, user=reader, role=ProfileRole.CONTRIBUTOR)
    gone = UserFactory(email="gone@contoso.example", is_active=False)
    MembershipFactory(tenant=profile.tenant, role=Role.ADMIN, user=gone)
    MembershipFactory(tenant=other_tenant, role=Role.ADMIN)
    elsewhere = BillingProfileFactory(tenant=profile.tenant)
    BillingProfileRoleFactory(profile=elsewhere, user=billing_admin, role=ProfileRole.OWNER)
    active(profile)
    [sent] = sweep(TERM_END - days(7))
    assert sent.to == ["admin@contoso.example", "finance@contoso.example"]


def test_one_tenant_only(admin, profile, other_tenant, sweep):
    active(profile)
    other = active(BillingProfileFactory(tenant=other_tenant), app_name="Inkwell")
    assert len(sweep(TERM_END - days(7), tenant=other_tenant)) == 0  # it has no admin
    assert kinds(other) == [(K.RENEWAL_REMINDER, TERM_END)]
    assert Notice.objects.count() == 1


# Dry run, once-only sending, query count


def test_a_dry_run_counts_and_writes_and_sends_nothing(admin, profile, sweep):
    active(profile)
    active(profile, auto_renew=False, app_name="Inkwell")
    pending(profile)
    assert sweep(TERM_END - days(7), dry_run=True) == []
    assert sweep.counts == {
        K.RENEWAL_REMINDER: 1,
        K.EXPIRY_NOTICE: 1,
        K.DISABLED_NOTICE: 0,
        K.SETUP_REMINDER: 0,
        K.SETUP_LAST_REMINDER: 1,
    }
    assert not Notice.objects.exists()
    assert len(sweep(TERM_END - days(7))) == 3


def test_a_notice_queued_twice_is_sent_once(admin, profile, sweep):
    active(profile)
    sweep(TERM_END - days(7))
    notice = Notice.objects.get()
    assert send_notice.delay(notice.pk).get() is False
    assert len(mail.outbox) == 1


def test_a_notice_claimed_by_a_worker_lost_before_sending_is_sent_by_the_next_sweep(
    admin, profile, sweep, settings
):
    active(profile)
    settings.MAILERS = {"default": {"BACKEND": "tests.subscriptions.test_notices.DownBackend"}}
    sweep(TERM_END - days(7))  # recorded, not sent
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    notice = Notice.objects.get()
    claimed = timezone.now()
    Notice.objects.filter(pk=notice.pk).update(claimed_at=claimed)  # a worker took it, died
    assert send_notice.delay(notice.pk).get() is False  # the redelivered task: a live claim
    assert sweep(TERM_END - days(6)) == []
    Notice.objects.filter(pk=notice.pk).update(claimed_at=claimed - CLAIM_LEASE)
    assert len(sweep(TERM_END - days(5))) == 1  # the claim ran out: sent, once
    assert sweep(TERM_END - days(4)) == []
    notice.refresh_from_db()
    assert notice.sent_at is not None


def test_a_notice_whose_send_failed_is_sent_by_the_next_sweep(
    admin, profile, sweep, settings, django_capture_on_commit_callbacks
):
    active(profile)
    settings.MAILERS = {"default": {"BACKEND": "tests.subscriptions.test_notices.DownBackend"}}
    assert sweep(TERM_END - days(7)) == []  # the task logs the error and retries later
    notice = Notice.objects.get()
    assert notice.sent_at is None  # the claim was given back
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert len(sweep(TERM_END - days(6))) == 1
    notice.refresh_from_db()
    assert notice.sent_at is not None
    assert sweep(TERM_END - days(5)) == []


def test_a_batch_sends_the_others_when_one_notice_fails_and_the_failed_one_goes_later(
    admin, tenant, sweep, settings
):
    ok, refused = (BillingProfileFactory(tenant=tenant, name=name) for name in ("Ok", "Refused"))
    owner = MembershipFactory(tenant=tenant, user=UserFactory(email="refused@contoso.example"))
    BillingProfileRoleFactory(profile=refused, user=owner.user, role=ProfileRole.OWNER)
    sent_one = active(ok, app_name="Inkwell")
    failed_one = active(refused, app_name="Quill")
    settings.MAILERS = {"default": {"BACKEND": "tests.subscriptions.test_notices.RefusingBackend"}}
    assert [e.subject.split()[0] for e in sweep(TERM_END - days(7))] == ["Inkwell"]
    (sent, unsent) = (Notice.objects.get(subscription=s) for s in (sent_one, failed_one))
    assert sent.sent_at is not None and unsent.sent_at is None  # its claim given back
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert [e.subject.split()[0] for e in sweep(TERM_END - days(6))] == ["Quill"]


class RefusingBackend(locmem.EmailBackend):
    """A mail server that refuses one address."""

    def send_messages(self, messages):
        if any("refused@contoso.example" in message.to for message in messages):
            raise smtplib.SMTPRecipientsRefused({"refused@contoso.example": (550, b"no")})
        return super().send_messages(messages)


class DownBackend(BaseEmailBackend):
    """A mail server that is down."""

    def open(self):
        raise ConnectionRefusedError("the mail server is down")

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def _due_of_every_kind(profile, n):
    """`n` subscriptions due each kind of notice on TERM_END - 7 days."""
    on = datetime.datetime.combine(TERM_END - days(8), datetime.time(), tzinfo=datetime.UTC)
    plan = PlanFactory(term=Term.MONTHLY)
    for _ in range(n):
        active(profile, plan=plan)
        active(profile, plan=plan, auto_renew=False)
        disabled(profile, on=on)
        SubscriptionFactory(billing_profile=profile, plan=plan, created_at=on - days(3))
        SubscriptionFactory(billing_profile=profile, plan=plan, created_at=on - days(30))


def test_the_query_count_is_fixed_whatever_the_number_of_subscriptions(
    admin, profile, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def queries(day):
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks() as sends,
        ):
            counts = notices_send(day=day)
        return len(captured), counts, len(sends)

    _due_of_every_kind(profile, 1)
    few, counts, sends = queries(TERM_END - days(7))
    assert set(counts.values()) == {1} and sends == 1  # one task sends a batch
    Notice.objects.all().delete()
    _due_of_every_kind(profile, 40)
    many, counts, sends = queries(TERM_END - days(7))
    assert set(counts.values()) == {41} and sends == 2  # 205 notices: batches of 200
    assert many == few
    with django_assert_max_num_queries(few):
        notices_send(day=TERM_END - days(7))  # the rerun: nothing due, nothing to send
