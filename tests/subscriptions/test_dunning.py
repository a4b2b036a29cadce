"""Non-payment, with an injected clock through all its days: a check/wire invoice unpaid 14
days past due, or a card invoice whose day-7 retry was declined, suspends the subscriptions
billed on it (Suspend webhook); paid in full, they are reinstated (Reinstate), renewing from
the old term end when the suspension ran over it; still unpaid 60 days after suspension,
they are disabled for non-payment (Unsubscribe) and the invoice is uncollectible. Each step
is e-mailed to the tenant's admins and the invoice recipients once; a rerun does nothing."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from billing.models import (
    Charge,
    Invoice,
    InvoiceNotice,
    InvoiceStatus,
    PaymentMethod,
)
from billing.services import invoicing_run
from billing.tasks import card_charges_sweep
from portal.audit import Actor
from publishers.models import WebhookEvent
from subscriptions import services
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.services import sweep
from subscriptions.services.dunning import dunning_day
from tests.billing.conftest import DECLINES_CHARGES, card_profile
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
day = datetime.date


def at(on: datetime.date, hour=0, minute=15):
    return datetime.datetime(on.year, on.month, on.day, hour, minute, tzinfo=UTC)


def sweep_on(on: datetime.date):
    """The lifecycle sweep of `on`, as beat runs it (the missed days before it too)."""
    return sweep.run_lifecycle(day=on, now=at(on))


@pytest.fixture
def plan():
    publisher = PublisherFactory(name="Quillfeather", webhook_url="http://127.0.0.1:9/hooks")
    return PlanFactory(app=AppFactory(publisher=publisher, name="Ledger Pro"), plan_id="team")


def active(profile, plan, name="Ledger Pro"):
    """Activated on Jan 10 2027: a month's term to Feb 10, charged then."""
    made = SubscriptionFactory(billing_profile=profile, plan=plan, name=name)
    return services.subscription_activate(
        subscription=made, actor=Actor.system("publisher"), now=at(day(2027, 1, 10), 9)
    )


def webhooks(subscription) -> list[str]:
    return list(
        WebhookEvent.objects.filter(subscription=subscription)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def notices(invoice) -> list[str]:
    return list(invoice.notices.order_by("pk").values_list("kind", flat=True))


@pytest.fixture
def check_wire(tenant, admin, plan):
    profile = BillingProfileFactory(tenant=tenant, invoice_emails=["ap@contoso.example"])
    subscription = active(profile, plan)
    invoicing_run(day=day(2027, 2, 1))  # due net 30: Mar 3
    invoice = Invoice.objects.get(billing_profile=profile)
    assert invoice.due_date == day(2027, 3, 3)
    return subscription, invoice


def test_check_wire_suspension_payment_and_reinstatement(check_wire, login, admin):
    subscription, invoice = check_wire
    sweep_on(day(2027, 3, 16))  # 13 days past due: nothing yet
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE and notices(invoice) == []
    sweep_on(day(2027, 3, 17))
    sweep_on(day(2027, 3, 17))  # a rerun of the day
    subscription.refresh_from_db()
    invoice.refresh_from_db()
    assert subscription.status == Status.SUSPENDED and subscription.suspended_for == invoice
    assert f"invoice {invoice.number} is overdue" in subscription.status_meaning
    assert invoice.suspended_on == day(2027, 3, 17)
    assert webhooks(subscription) == ["Renew", "Renew", "Suspend"]  # Feb 10, Mar 10
    page = login(admin).get(f"/t/contoso/billing/products/apps/{subscription.uuid}/")
    text = page.content.decode()
    assert f"Suspended: invoice {invoice.number} is overdue." in text
    assert f'href="/t/contoso/billing/bills/invoices/{invoice.uuid}/">Pay invoice' in text
    assert notices(invoice) == ["suspended"]
    sweep_on(day(2027, 4, 19))  # suspended, it doesn't renew when its term ends, Apr 10
    subscription.refresh_from_db()
    assert subscription.term_end == day(2027, 4, 10)

    call_command(
        "record_payment",
        invoice.number,
        "--amount", f"{invoice.amount_due / 100:.2f}",
        "--reference", "WIRE 5521",
        stdout=StringIO(),
    )  # fmt: skip
    # The payment's signal goes after commit (not here): the day's sweep reinstates, and
    # the term that ended while suspended renews from its old end.
    counts = dunning_day(day(2027, 4, 20), now=at(day(2027, 4, 20), 8))
    assert counts.reinstated == 1
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE and subscription.suspended_for is None
    assert (subscription.term_start, subscription.term_end) == (day(2027, 4, 10), day(2027, 5, 10))
    assert Charge.objects.filter(subscription_uuid=subscription.uuid, kind="renewal").count() == 3
    assert webhooks(subscription) == ["Renew", "Renew", "Suspend", "Reinstate", "Renew"]
    assert notices(invoice) == ["suspended", "reinstated"]
    assert dunning_day(day(2027, 4, 21), now=at(day(2027, 4, 21))).reinstated == 0


def test_still_unpaid_60_days_after_suspension_is_disabled_and_uncollectible(
    check_wire, django_capture_on_commit_callbacks
):
    subscription, invoice = check_wire
    with django_capture_on_commit_callbacks(execute=True):
        sweep_on(day(2027, 3, 17))
    sent = [message for message in mail.outbox if invoice.number in message.subject]
    assert len(sent) == 1 and "its apps are suspended" in sent[0].subject
    assert sorted(sent[0].to) == ["admin@contoso.example", "ap@contoso.example"]
    assert "Suspended: Ledger Pro" in sent[0].body and "IBAN" in sent[0].body
    dunning_day(day(2027, 5, 15), now=at(day(2027, 5, 15)))  # 59 days: not yet
    subscription.refresh_from_db()
    assert subscription.status == Status.SUSPENDED
    with django_capture_on_commit_callbacks(execute=True):
        counts = dunning_day(day(2027, 5, 16), now=at(day(2027, 5, 16)))
    assert counts.disabled == 1
    subscription.refresh_from_db()
    invoice.refresh_from_db()
    assert subscription.status == Status.DISABLED
    assert subscription.disabled_reason == DisabledReason.NON_PAYMENT
    assert subscription.suspended_for is None
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE and invoice.amount_due > 0
    assert webhooks(subscription) == ["Renew", "Renew", "Suspend", "Unsubscribe"]
    assert notices(invoice) == ["suspended", "written_off"]
    assert "its apps are disabled" in mail.outbox[-1].subject
    with django_capture_on_commit_callbacks(execute=True):
        again = dunning_day(day(2027, 5, 17), now=at(day(2027, 5, 17)))
    assert (again.suspended, again.reinstated, again.disabled) == (0, 0, 0)
    assert InvoiceNotice.objects.count() == 2
    assert webhooks(subscription).count("Unsubscribe") == 1


def pay(invoice):
    invoice.refresh_from_db()
    amount = f"{invoice.amount_due // 100}.{invoice.amount_due % 100:02d}"
    call_command(
        "record_payment", invoice.number, "--amount", amount, "--reference", "W", stdout=StringIO()
    )


def test_a_subscription_on_two_overdue_invoices_waits_on_both(check_wire):
    subscription, february = check_wire
    sweep_on(day(2027, 2, 10))  # the Feb 10 renewal
    invoicing_run(day=day(2027, 3, 1))  # bills it: due Mar 31
    march = Invoice.objects.get(billing_profile=february.billing_profile, issue_date__month=3)
    sweep_on(day(2027, 3, 17))  # February's overdue: suspended for it
    sweep_on(day(2027, 4, 14))  # March's overdue too: nothing more to suspend, no e-mail
    march.refresh_from_db()
    assert march.suspended_on == day(2027, 4, 14) and notices(march) == []
    pay(february)
    assert dunning_day(day(2027, 4, 15), now=at(day(2027, 4, 15))).reinstated == 0
    subscription.refresh_from_db()
    assert subscription.status == Status.SUSPENDED and subscription.suspended_for == march
    pay(march)
    assert dunning_day(day(2027, 4, 16), now=at(day(2027, 4, 16))).reinstated == 1
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE


def test_a_card_invoice_whose_day_7_retry_is_declined_suspends_and_pay_now_reinstates(
    tenant, admin, plan, django_capture_on_commit_callbacks
):
    profile = card_profile(tenant, DECLINES_CHARGES)
    subscription = active(profile, plan)
    with django_capture_on_commit_callbacks(execute=True):
        invoicing_run(day=day(2027, 2, 1))  # charged at once: declined
    invoice = Invoice.objects.get(billing_profile=profile)
    assert invoice.payment_method == PaymentMethod.CARD
    for offset in range(0, 8):
        on = day(2027, 2, 1) + datetime.timedelta(days=offset)
        with django_capture_on_commit_callbacks(execute=True):
            card_charges_sweep(on.isoformat())
            dunning_day(on, now=at(on, 1))
        subscription.refresh_from_db()
        expected = Status.SUSPENDED if offset == 7 else Status.ACTIVE
        assert subscription.status == expected, on
    assert invoice.card_attempts.count() == 5
    assert notices(invoice) == [*["card_declined"] * 5, "suspended"]
    assert webhooks(subscription) == ["Suspend"]
    # A good card through the service Pay now uses: paid, the signal reinstates at once.
    from billing.services.card_charges import card_payment_record

    invoice.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        card_payment_record(invoice=invoice, amount=invoice.amount_due, payment_intent_id="pi_x1")
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE
    assert webhooks(subscription) == ["Suspend", "Reinstate"]
    assert notices(invoice)[-1] == "reinstated"
    reinstated = [m for m in mail.outbox if "its apps work again" in m.subject]
    assert len(reinstated) == 1
