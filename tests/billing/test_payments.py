"""Check and wire payments: `manage.py record_payment` and the Django admin record a full or
partial payment through one form and service; it lowers the amount due, pays the invoice
in full once nothing is due, is audited and shown on the invoice's page. An overpayment,
another currency, a void invoice, a credit note or a bad amount is refused in one line and
changes nothing."""

import datetime
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing.models import Invoice, InvoiceKind, InvoiceStatus, Payment
from billing.signals import invoice_paid
from portal.models import AuditEvent
from tests.factories import BillingProfileFactory, PlanFactory, UserFactory, billed

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return PlanFactory(app__name="Ledger Pro", name="Team")


@pytest.fixture
def invoice(tenant, plan):
    """Contoso HQ's November invoice: 90.00 USD (Contoso is in the US: no tax)."""
    profile = BillingProfileFactory(tenant=tenant, name="Contoso HQ")
    billed(profile, plan, 9000, 11)
    return Invoice.objects.get(billing_profile=profile, kind=InvoiceKind.INVOICE)


def record(number, *args):
    out = StringIO()
    call_command("record_payment", number, *args, stdout=out)
    return out.getvalue().strip()


def refused(number, *args) -> str:
    with pytest.raises(CommandError) as caught:
        record(number, *args)
    return str(caught.value)


def major(invoice, amount):
    """`amount` minor units of the invoice's currency as the command takes it."""
    return f"{amount // 100}.{amount % 100:02d}"


def test_a_partial_then_the_rest_pays_the_invoice_in_full(
    invoice, django_capture_on_commit_callbacks
):
    due = invoice.amount_due
    heard = []

    def listener(sender, invoice_id, **kwargs):
        heard.append(invoice_id)

    invoice_paid.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = record(invoice.number, "--amount", "10.00", "--reference", "CHK 1001")
        invoice.refresh_from_db()
        assert invoice.amount_paid == 1000 and invoice.amount_due == due - 1000
        assert invoice.status == InvoiceStatus.OPEN and heard == []
        assert first.startswith(f"Recorded 10.00 {invoice.currency} on {invoice.number}")
        assert first.endswith("still due.")

        with django_capture_on_commit_callbacks(execute=True):
            rest = record(
                invoice.number.lower(),
                "--amount", major(invoice, due - 1000),
                "--reference", "WIRE  77  42",
                "--date", "2026-12-03",
            )  # fmt: skip
    finally:
        invoice_paid.disconnect(listener)
    invoice.refresh_from_db()
    assert rest.endswith("paid in full.")
    assert (invoice.amount_paid, invoice.amount_due, invoice.status) == (due, 0, "paid")
    assert heard == [invoice.pk]
    payments = list(invoice.payments.order_by("pk"))
    assert [(p.amount, p.reference, p.method) for p in payments] == [
        (1000, "CHK 1001", "check_wire"),
        (due - 1000, "WIRE 77 42", "check_wire"),
    ]
    assert payments[1].received_on == datetime.date(2026, 12, 3)
    audited = AuditEvent.objects.filter(verb="invoice.payment", target_id=str(invoice.uuid))
    assert audited.count() == 2
    assert audited.latest("pk").data["reference"] == "WIRE 77 42"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--amount", "1000000", "--reference", "X"], "is more than the"),
        (["--amount", "10", "--currency", "EUR", "--reference", "X"], "billed in USD"),
        (["--amount", "10", "--currency", "XYZ", "--reference", "X"], "--currency: XYZ is not"),
        (["--amount", "-5", "--reference", "X"], "--amount: '-5' is not an amount like"),
        (["--amount", "0", "--reference", "X"], "not an amount above zero"),
        (["--amount", "1.234", "--reference", "X"], "USD amounts have 2 decimals"),
        (["--amount", "ten", "--reference", "X"], "is not an amount like 123.45"),
        (["--amount", "10", "--reference", "   "], "--reference: This field is required."),
        (["--amount", "10", "--reference", "X\x07"], "--reference:"),
        (["--amount", "10", "--reference", "X", "--date", "2026-13-01"], "--date: Enter a valid"),
        (["--amount", "10", "--reference", "X", "--date", "2999-01-01"], "ahead of today"),
    ],
)
def test_a_bad_payment_is_refused_in_one_line_and_changes_nothing(invoice, args, says):
    message = refused(invoice.number, *args)
    assert says in message and "\n" not in message
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0 and not Payment.objects.exists()
    assert not AuditEvent.objects.filter(verb="invoice.payment").exists()


def test_void_paid_unknown_and_credit_notes_are_refused(invoice, tenant, plan):
    assert refused("INV-2026-999999", "--amount", "1", "--reference", "X") == (
        "No issued invoice has the number INV-2026-999999."
    )
    record(invoice.number, "--amount", major(invoice, invoice.amount_due), "--reference", "A")
    assert refused(invoice.number, "--amount", "1", "--reference", "B").endswith(
        "is already paid in full."
    )
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID)
    assert "is void: nothing is due on it." in refused(
        invoice.number, "--amount", "1", "--reference", "C"
    )
    note = BillingProfileFactory(tenant=tenant)
    billed(note, plan, -500, 11, kind="cancel_credit")
    credit_note = Invoice.objects.get(billing_profile=note)
    assert credit_note.kind == InvoiceKind.CREDIT_NOTE
    assert "is not an issued invoice" in refused(
        credit_note.number, "--amount", "1", "--reference", "D"
    )
    assert Payment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_payments_recorded_at_once_never_pay_more_than_is_due(tenant, plan):
    """Both ask to pay 60 % of the invoice; the invoice row is locked, so the second finds
    only 40 % due and is refused."""
    profile = BillingProfileFactory(tenant=tenant)
    billed(profile, plan, 10000, 11)
    invoice = Invoice.objects.get(billing_profile=profile)
    amount = major(invoice, invoice.amount_due * 6 // 10)
    barrier, outcomes = threading.Barrier(2), []

    def pay(reference):
        barrier.wait()
        try:
            outcomes.append(record(invoice.number, "--amount", amount, "--reference", reference))
        except CommandError as error:
            outcomes.append(f"refused: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(f"R{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome.split()[0] for outcome in outcomes) == ["Recorded", "refused:"]
    invoice.refresh_from_db()
    assert invoice.amount_paid == int(amount.replace(".", ""))
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_the_admin_records_a_payment_with_the_same_form(client, invoice):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get("/admin/billing/payment/add/")
    assert page.status_code == 200 and b"Record payment" in page.content
    too_much = client.post(
        "/admin/billing/payment/add/",
        {"number": invoice.number, "amount": "999999", "reference": "X"},
    )
    assert too_much.status_code == 200 and b"is more than the" in too_much.content
    done = client.post(
        "/admin/billing/payment/add/",
        {"number": invoice.number, "amount": "12.50", "reference": "CHK 7"},
    )
    assert done.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.recorded_by) == (1250, operator)
    assert client.get(f"/admin/billing/invoice/{invoice.pk}/change/").status_code == 200
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    assert client.get("/admin/billing/payment/add/").status_code == 403


def test_the_invoice_page_shows_each_payment(login, admin, invoice):
    record(invoice.number, "--amount", "12.50", "--reference", "CHK 7", "--date", "2026-12-02")
    page = login(admin).get(f"/t/contoso/billing/bills/invoices/{invoice.uuid}/")
    text = page.content.decode()
    assert "Payments" in text and "CHK 7" in text and "Dec 2, 2026" in text
    assert "Check or wire" in text


def test_an_operator_voids_an_open_invoice_nothing_was_paid_on(client, invoice, tenant, plan):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    paid = BillingProfileFactory(tenant=tenant)
    billed(paid, plan, 3000, 11)
    partly = Invoice.objects.get(billing_profile=paid)
    record(partly.number, "--amount", "1.00", "--reference", "CHK 9")
    response = client.post(
        "/admin/billing/invoice/",
        {"action": "void", "_selected_action": [invoice.pk, partly.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert f"{invoice.number} is void; its number stays." in text
    assert f"{partly.number} has payments: correct it with a credit note instead." in text
    invoice.refresh_from_db()
    partly.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.number) == ("void", 0, invoice.number)
    assert partly.status == InvoiceStatus.OPEN
    assert AuditEvent.objects.filter(verb="invoice.void", target_id=str(invoice.uuid)).exists()
    assert "is void" in refused(invoice.number, "--amount", "1", "--reference", "X")
