"""The invoice run: each profile's uninvoiced charges of the month become one issued invoice,
credits net on it, a credit for a charge already invoiced becomes a credit note against its
invoice; numbers at issue, gapless per series and year; tax per line, half-up; issued
invoices immutable in the database itself; safe to run twice, and after an interruption."""

import datetime
import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from billing.models import Invoice, InvoiceCounter, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.services import charge_create, credit_create, invoice_profiles, invoicing_run
from billing.tasks import invoicing_run as invoicing_task
from billing.tax import REVERSE_CHARGE, line_tax, tax_treatment
from portal.models import AuditEvent
from tests.factories import BillingProfileFactory, PlanFactory, PublisherFactory

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.datetime(2026, 11, 10, 9, tzinfo=datetime.UTC)
RUN = datetime.date(2026, 12, 1)


@pytest.fixture
def plan():
    publisher = PublisherFactory(
        name="Quillfeather", legal_name="Quillfeather Labs Ltd.", address_line2="Floor 2"
    )
    return PlanFactory(app__publisher=publisher, app__name="Ledger Pro", name="Team")


def charge(profile, plan, amount=4500, kind="purchase", at=NOVEMBER, sub=None, **fields):
    values = {
        "profile": profile,
        "subscription_uuid": sub or uuid.uuid4(),
        "plan": plan,
        "kind": kind,
        "description": "Ledger Pro, Team: 5 licenses, Nov 10 2026 to Dec 10 2026",
        "quantity": 5,
        "unit_amount": 900,
        "amount": amount,
        "period_start": datetime.date(2026, 11, 10),
        "period_end": datetime.date(2026, 12, 10),
        "at": at,
    }
    return charge_create(**{**values, **fields})


def credit(debit, amount, at, kind="cancel_credit"):
    (made,) = credit_create(
        subscription_uuid=debit.subscription_uuid,
        term_end=debit.period_end,
        kind=kind,
        amount=amount,
        description="Canceled: Ledger Pro, Team",
        unit_amount=debit.unit_amount,
        period_start=debit.period_start,
        at=at,
    )
    return made


def test_each_profiles_charges_of_the_month_become_one_numbered_invoice(tenant, plan):
    hq, lab, idle = (BillingProfileFactory(tenant=tenant) for _ in range(3))
    charge(hq, plan, 4500)
    charge(hq, plan, 900, kind="add_quantity")
    charge(lab, plan, 1200)
    late = charge(hq, plan, 777, at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC))
    summary = invoicing_run(day=RUN)
    assert (summary.invoices, summary.credit_notes, summary.profiles) == (2, 0, 2)
    first, second = Invoice.objects.order_by("number")
    assert (first.number, second.number) == ("INV-2026-000001", "INV-2026-000002")
    assert first.billing_profile == hq and second.billing_profile == lab
    assert not idle.invoices.exists()  # nothing to bill: no invoice
    assert [line.transaction_type for line in first.lines.all()] == ["purchase", "add_quantity"]
    assert [line.get_transaction_type_display() for line in first.lines.all()] == [
        "Purchase",
        "Add quantity",
    ]
    assert (first.subtotal, first.tax, first.total, first.amount_due) == (5400, 0, 5400, 5400)
    assert first.status == InvoiceStatus.OPEN and first.issue_date == RUN
    assert (first.period_start, first.period_end) == (datetime.date(2026, 11, 1), RUN)
    assert first.due_date == RUN + datetime.timedelta(days=30)  # check/wire: net 30
    assert first.payment_terms.startswith("Net 30")
    line = first.lines.first()
    assert (line.app_name, line.plan_name, line.publisher_name) == (
        "Ledger Pro",
        "Team",
        "Quillfeather Labs Ltd.",
    )
    assert line.publisher_address == "1 Harbour Street\nFloor 2\nBristol BS1 4XE\nUnited Kingdom"
    assert first.bill_to["organization"] == "Contoso" and first.seller["vat_id"] == "IE6388047V"
    assert not InvoiceLine.objects.filter(charge=late).exists()  # December's: next run
    assert AuditEvent.objects.filter(verb="invoice.issue", tenant=tenant).count() == 2


def test_a_card_invoice_is_due_at_issue(tenant, plan):
    card = BillingProfileFactory(tenant=tenant, payment_method="card")
    charge(card, plan)
    invoicing_run(day=RUN)
    invoice = card.invoices.get()
    assert invoice.due_date == RUN and invoice.payment_terms.startswith("Due on receipt")


def test_credits_net_on_the_invoice_of_the_same_run(tenant, plan):
    profile = BillingProfileFactory(tenant=tenant)
    debit = charge(profile, plan, 4500)
    credit(debit, 1500, NOVEMBER + datetime.timedelta(days=1), kind="remove_quantity")
    invoicing_run(day=RUN)
    invoice = profile.invoices.get()
    assert [line.amount for line in invoice.lines.all()] == [4500, -1500]
    assert (invoice.kind, invoice.total, invoice.amount_due) == ("invoice", 3000, 3000)


def test_a_credit_for_a_charge_already_invoiced_is_a_credit_note_against_its_invoice(tenant, plan):
    profile = BillingProfileFactory(tenant=tenant)
    debit = charge(profile, plan, 4500)
    invoicing_run(day=RUN)
    invoice = profile.invoices.get()
    credit(debit, 4500, datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC))
    charge(profile, plan, 900, at=datetime.datetime(2026, 12, 4, tzinfo=datetime.UTC))
    summary = invoicing_run(day=datetime.date(2027, 1, 1))
    assert (summary.invoices, summary.credit_notes) == (1, 1)
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.number == "CN-2027-000001" and note.corrects == invoice
    assert (note.total, note.amount_due, note.status) == (-4500, 0, InvoiceStatus.PAID)
    assert [line.transaction_type for line in note.lines.all()] == ["cancel_credit"]
    invoice.refresh_from_db()
    assert (invoice.amount_due, invoice.status) == (0, InvoiceStatus.PAID)  # fully credited
    january = profile.invoices.get(kind=InvoiceKind.INVOICE, issue_date=datetime.date(2027, 1, 1))
    assert january.number == "INV-2027-000001" and january.total == 900  # a new year's series


def test_a_total_below_zero_is_a_credit_note_instead(tenant, plan):
    profile = BillingProfileFactory(tenant=tenant)
    charge(profile, plan, 4500)
    invoicing_run(day=RUN)
    invoice = profile.invoices.get()
    # A cheaper plan's difference names no debit: it nets on the next document.
    charge(
        profile,
        plan,
        -2000,
        kind="change_plan",
        at=datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC),
    )
    invoicing_run(day=datetime.date(2027, 1, 1))
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert (note.total, note.corrects, note.number) == (-2000, invoice, "CN-2027-000001")
    invoice.refresh_from_db()
    assert invoice.amount_due == 2500


def test_a_credit_for_a_charge_a_credit_note_billed_nets_as_more_credit(tenant, plan):
    """A month whose cheaper plan outweighs a license added bills both on a credit note;
    a later decrease of that license is more credit for the customer, never credit taken
    back from that note."""
    profile = BillingProfileFactory(tenant=tenant)
    added = charge(profile, plan, 3000, kind="add_quantity")
    charge(profile, plan, -10000, kind="change_plan")
    invoicing_run(day=RUN)
    first = profile.invoices.get()
    assert (first.kind, first.amount_due) == (InvoiceKind.CREDIT_NOTE, 7000)
    credit(added, 2000, datetime.datetime(2026, 12, 10, tzinfo=datetime.UTC), "remove_quantity")
    invoicing_run(day=datetime.date(2027, 1, 1))
    second = profile.invoices.exclude(pk=first.pk).get()
    first.refresh_from_db()
    assert second.kind == InvoiceKind.CREDIT_NOTE and second.corrects_id != first.pk
    assert first.amount_due + second.amount_due == 9000


def test_a_credit_note_gives_back_the_tax_charged_not_todays(other_tenant, plan):
    """Billed with the reverse charge; the VAT number removed before the cancellation: the
    credit note reverses 0 % VAT, as the invoice charged, and says the reverse charge."""
    profile = BillingProfileFactory(tenant=other_tenant, tax_id="DE136695976")
    debit = charge(profile, plan, 10000)
    invoicing_run(day=RUN)
    invoice = profile.invoices.get()
    assert invoice.tax == 0
    profile.tax_id = ""
    profile.save()
    credit(debit, 10000, datetime.datetime(2026, 12, 10, tzinfo=datetime.UTC))
    invoicing_run(day=datetime.date(2027, 1, 1))
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert (note.total, note.tax, note.tax_note) == (-10000, 0, REVERSE_CHARGE)
    invoice.refresh_from_db()
    assert (invoice.amount_due, note.amount_due, note.status) == (0, 0, InvoiceStatus.PAID)


def test_credit_lowers_only_an_open_invoice(tenant, plan):
    """A void invoice's amount due is not lowered by a credit note: the credit stays the
    customer's."""
    profile = BillingProfileFactory(tenant=tenant)
    debit = charge(profile, plan, 4500)
    invoicing_run(day=RUN)
    invoice = profile.invoices.get()
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID)
    credit(debit, 4500, datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC))
    invoicing_run(day=datetime.date(2027, 1, 1))
    note = profile.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    invoice.refresh_from_db()
    assert (invoice.amount_due, invoice.status) == (4500, InvoiceStatus.VOID)
    assert (note.amount_due, note.status) == (4500, InvoiceStatus.OPEN)


def test_a_second_run_issues_nothing_and_an_interrupted_run_finishes_the_rest(tenant, plan):
    profiles = [BillingProfileFactory(tenant=tenant) for _ in range(3)]
    for profile in profiles:
        charge(profile, plan)
    with pytest.raises(RuntimeError), transaction.atomic():  # the run dies mid-chunk
        invoice_profiles([profiles[0].pk], day=RUN)
        raise RuntimeError("worker killed")
    assert not Invoice.objects.exists() and not InvoiceCounter.objects.filter(last__gt=0).exists()
    invoice_profiles([profiles[1].pk], day=RUN)  # one chunk done before the process stopped
    summary = invoicing_run(day=RUN)  # run again: what is left
    assert summary.invoices == 2
    assert invoicing_run(day=RUN).invoices == 0  # and again: nothing
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert InvoiceLine.objects.count() == 3  # each charge billed once


def test_tenant_scope_and_dry_run_write_nothing_else(tenant, other_tenant, plan):
    ours = BillingProfileFactory(tenant=tenant)
    theirs = BillingProfileFactory(tenant=other_tenant)
    charge(ours, plan)
    charge(theirs, plan)
    out = StringIO()
    call_command("run_invoicing", "--date", "2026-12-01", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Dry run, nothing written: would issue 2 invoices")
    assert not Invoice.objects.exists()
    out = StringIO()
    call_command("run_invoicing", "--date", "2026-12-01", "--tenant", "contoso", stdout=out)
    assert "Issued 1 invoice and 0 credit notes for 1 billing profile" in out.getvalue()
    assert "November 2026" in out.getvalue()
    assert ours.invoices.count() == 1 and not theirs.invoices.exists()
    for args, message in (
        (("--date", "2026-13-01"), "--date '2026-13-01' is not a date"),
        (("--tenant", "nobody"), "No tenant has the slug 'nobody'"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("run_invoicing", *args)


def test_the_beat_task_sends_a_chunk_per_profiles_and_bills_them(tenant, plan, settings):
    for _ in range(3):
        charge(BillingProfileFactory(tenant=tenant), plan)
    assert invoicing_task.delay("2026-12-01").get() == 1  # one chunk (eager: done)
    assert Invoice.objects.count() == 3
    assert invoicing_task.delay("2026-12-02").get() == 0  # the days after: nothing left


# Tax: the bill-to country's rate from the region table, per line, half-up.

TAX_CASES = [
    # country, tax id, amount, expected rate, expected tax, reverse charge
    ("US", "", 4500, "0", 0, False),
    ("GB", "", 4500, "20", 900, False),
    ("CA", "", 1010, "5", 51, False),  # 50.5 -> 51: half-up
    ("CA", "", -1010, "5", -51, False),  # a credit mirrors its debit
    ("AU", "", 1005, "10", 101, False),
    ("DE", "", 999, "19", 190, False),  # 189.81 -> 190
    ("DE", "DE136695976", 999, "0", 0, True),  # an EU business elsewhere than the seller
    ("DE", "DE136695975", 999, "19", 190, False),  # its check digits are wrong: no reverse
    ("IE", "IE6388047V", 1000, "23", 230, False),  # the seller's own country: VAT
    ("FI", "", 1001, "25.5", 255, False),  # 255.255
    ("CH", "CHE-123.456.788 MWST", 1000, "8.1", 81, False),  # not in the EU
    ("NO", "NO974761076MVA", 1000, "25", 250, False),
]


@pytest.mark.parametrize(("country", "tax_id", "amount", "rate", "tax", "reverse"), TAX_CASES)
def test_tax_per_region_rounded_half_up(country, tax_id, amount, rate, tax, reverse):
    treatment = tax_treatment(country=country, tax_id=tax_id)
    assert treatment.rate == Decimal(rate) and treatment.reverse_charge is reverse
    assert line_tax(amount, treatment.rate) == tax
    assert (treatment.note == REVERSE_CHARGE) is reverse


def test_an_eu_business_invoice_says_reverse_charge_and_totals_add_up(other_tenant, plan):
    business = BillingProfileFactory(tenant=other_tenant, tax_id="DE136695976")
    consumer = BillingProfileFactory(tenant=other_tenant)
    for profile in (business, consumer):
        for amount in (999, 1001, 333):
            charge(profile, plan, amount)
        charge(profile, plan, 333, kind="add_quantity")
    invoicing_run(day=RUN)
    reverse, taxed = business.invoices.get(), consumer.invoices.get()
    assert (reverse.tax, reverse.tax_note, reverse.tax_label) == (0, REVERSE_CHARGE, "VAT 0%")
    assert taxed.tax_label == "VAT 19%" and not taxed.tax_note
    for invoice in (reverse, taxed):
        lines = list(invoice.lines.all())
        assert invoice.subtotal == sum(line.amount for line in lines)
        assert invoice.tax == sum(line.tax for line in lines)
        assert invoice.total == sum(line.total for line in lines)
    assert [line.tax for line in taxed.lines.all()] == [190, 190, 63, 63]


# Immutability, enforced by PostgreSQL itself.


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger")
def test_the_database_refuses_to_change_or_delete_an_issued_invoice(tenant, plan):
    profile = BillingProfileFactory(tenant=tenant)
    charge(profile, plan)
    invoicing_run(day=RUN)
    invoice = profile.invoices.get()

    def refused(sql):
        with (
            pytest.raises(DatabaseError, match="issued"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [invoice.pk])

    refused("UPDATE billing_invoice SET number = 'INV-2026-999999' WHERE id = %s")
    refused("UPDATE billing_invoice SET total = 1, subtotal = 1 WHERE id = %s")
    refused("UPDATE billing_invoice SET issue_date = '2026-12-02' WHERE id = %s")
    refused("UPDATE billing_invoice SET bill_to = '{}' WHERE id = %s")
    refused("UPDATE billing_invoice SET status = 'draft' WHERE id = %s")
    refused("DELETE FROM billing_invoice WHERE id = %s")
    refused("UPDATE billing_invoiceline SET amount = 1 WHERE invoice_id = %s")
    refused("DELETE FROM billing_invoiceline WHERE invoice_id = %s")
    refused(
        "INSERT INTO billing_invoiceline (invoice_id, charge_id, position, transaction_type,"
        " description, subscription_uuid, app_name, plan_name, publisher_name,"
        " publisher_address, period_start, period_end, unit_amount, amount, tax_rate, tax)"
        " SELECT %s, id, 9, kind, '', subscription_uuid, '', '', '', '', period_start,"
        " period_end, 0, 0, 0, 0 FROM billing_charge LIMIT 1"
    )
    with connection.cursor() as cursor:  # what may move: status, amounts paid and due, PDF
        cursor.execute(
            "UPDATE billing_invoice SET status = 'paid', amount_paid = total, amount_due = 0,"
            " pdf_sha256 = 'abc' WHERE id = %s",
            [invoice.pk],
        )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.number) == ("paid", 0, "INV-2026-000001")


def test_a_charge_is_billed_by_one_line_only(tenant, plan):
    profile = BillingProfileFactory(tenant=tenant)
    billed = charge(profile, plan)
    invoicing_run(day=RUN)
    line = InvoiceLine.objects.get(charge=billed)
    draft = Invoice.objects.create(
        tenant=tenant,
        billing_profile=profile,
        period_start=datetime.date(2026, 12, 1),
        period_end=datetime.date(2027, 1, 1),
        currency="USD",
        payment_method=profile.payment_method,
        payment_terms="",
    )
    fields = {f.attname: getattr(line, f.attname) for f in InvoiceLine._meta.concrete_fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(**{**fields, "id": None, "invoice_id": draft.pk})
