"""Billing > Bills & payments: the invoices of the profiles a member may see, filtered,
totalled per currency, paginated; an invoice's page and its lines as CSV. Another
profile's or tenant's invoice is 404, also as CSV."""

import csv
import datetime
import io
import uuid

import pytest

from billing.models import Invoice, ProfileRole
from billing.services import credit_create, invoicing_run
from tests.factories import (
    BillingProfileFactory,
    BillingProfileRoleFactory,
    PlanFactory,
    billed,
)

pytestmark = pytest.mark.django_db

LIST = "/t/contoso/billing/bills/"


@pytest.fixture
def plan():
    return PlanFactory(app__name="Ledger Pro", name="Team", app__publisher__name="Quillfeather")


@pytest.fixture
def books(tenant, plan, member):
    """Contoso HQ (the finance member is its invoice manager) with invoices for Sep, Oct,
    Nov and a credit note; Lab with one, the finance member holding no role on it."""
    hq = BillingProfileFactory(tenant=tenant, name="Contoso HQ")
    lab = BillingProfileFactory(tenant=tenant, name="Contoso Lab")
    BillingProfileRoleFactory(profile=hq, user=member, role=ProfileRole.INVOICE_MANAGER)
    billed(hq, plan, 4500, 9)
    october = billed(hq, plan, 9000, 10)
    credit_create(
        subscription_uuid=october.subscription_uuid,
        term_end=october.period_end,
        kind="remove_quantity",
        amount=1800,
        description="Removed: 1 license",
        unit_amount=1800,
        period_start=datetime.date(2026, 11, 2),
        at=datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC),
    )
    billed(hq, plan, 900, 11)
    billed(lab, plan, 1200, 11)
    return hq, lab


def test_the_finance_member_lists_only_the_profile_they_hold_a_role_on(login, member, books):
    hq, lab = books
    page = login(member).get(LIST)
    html = page.content.decode()
    assert page.status_code == 200
    numbers = [invoice.number for invoice in Invoice.objects.filter(billing_profile=hq)]
    assert all(number in html for number in numbers)
    assert lab.invoices.get().number not in html
    assert html.index("INV-2026-000003") < html.index("INV-2026-000001")  # newest first
    assert "Credit note" in html and "Bills &amp; payments" in html


def test_another_profiles_or_tenants_invoice_is_404_also_as_csv(login, member, other_admin, books):
    hq, lab = books
    theirs = lab.invoices.get()
    ours = hq.invoices.filter(kind="invoice").first()
    finance = login(member)
    for path in ("", "lines.csv"):
        assert finance.get(f"{LIST}invoices/{theirs.uuid}/{path}").status_code == 404
        assert finance.get(f"{LIST}invoices/{ours.uuid}/{path}").status_code == 200
        stranger = login(other_admin)
        assert (
            stranger.get(f"/t/fabrikam/billing/bills/invoices/{ours.uuid}/{path}").status_code
            == 404
        )


def test_a_member_with_no_role_sees_no_entry_and_no_list(login, tenant, books):
    from tests.factories import MembershipFactory, UserFactory

    nobody = MembershipFactory(tenant=tenant, role="member", user=UserFactory()).user
    client = login(nobody)
    assert "Bills &amp; payments" not in client.get("/t/contoso/").content.decode()
    assert client.get(LIST).status_code == 404


def test_filters_and_totals_per_currency(login, admin, books, other_tenant, plan):
    client = login(admin)
    everything = client.get(LIST).content.decode()
    assert "5 documents in USD" in everything
    november = client.get(LIST, {"date_from": "2026-12-01", "date_to": "2026-12-01"})
    html = november.content.decode()
    assert "INV-2026-000004" in html and "INV-2026-000001" not in html
    assert "CN-2026-000001" in html  # the credit note issued with it
    _hq, lab = books
    only_lab = client.get(LIST, {"billing_profile": str(lab.uuid)}).content.decode()
    assert "1 document in USD" in only_lab and "$12.00" in only_lab
    paid = client.get(LIST, {"status": "paid"}).content.decode()
    assert "CN-2026-000001" in paid and "Applied" in paid and "INV-2026-000001" not in paid
    wrong = client.get(LIST, {"date_from": "2026-12-02", "date_to": "2026-12-01"})
    assert "The end date is before the start date." in wrong.content.decode()
    assert "INV-2026" not in wrong.content.decode()
    assert client.get(LIST, {"billing_profile": str(uuid.uuid4())}).status_code == 200
    partial = client.get(
        LIST, {"status": "open"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert partial.content.decode().lstrip().startswith('<div id="results">')


def test_the_list_pages_and_its_queries_do_not_grow(
    login, admin, tenant, plan, django_assert_max_num_queries
):
    profile = BillingProfileFactory(tenant=tenant)
    for month in range(1, 12):
        billed(profile, plan, 100 * month, month)
    client = login(admin)
    with django_assert_max_num_queries(14):
        first = client.get(LIST)
    assert "Page 1 of" not in first.content.decode()  # 11 invoices: one page of 25
    for month in range(1, 12):
        billed(BillingProfileFactory(tenant=tenant), plan, 100, month)
        billed(BillingProfileFactory(tenant=tenant), plan, 100, month)
    with django_assert_max_num_queries(14):
        second = client.get(LIST, {"page": "2"})
    assert "Page 2 of 2" in second.content.decode()


def test_the_invoice_page_shows_its_summary_lines_and_credit_notes(login, member, books):
    hq, _lab = books
    october = hq.invoices.get(number="INV-2026-000002")
    html = login(member).get(f"{LIST}invoices/{october.uuid}/").content.decode()
    assert "Invoice INV-2026-000002" in html and "$90.00" in html
    assert "Ledger Pro" in html and "Purchase" in html
    assert "CN-2026-000001" in html  # its credit note, which lowered what is due
    assert "$72.00" in html
    note = hq.invoices.get(kind="credit_note")
    shown = login(member).get(f"{LIST}invoices/{note.uuid}/").content.decode()
    assert "Credit note CN-2026-000001" in shown and "Invoice INV-2026-000002" in shown
    assert "Remove quantity" in shown and "-$18.00" in shown


def test_the_csv_has_the_lines_in_major_units(login, member, books):
    hq, _lab = books
    note = hq.invoices.get(kind="credit_note")
    response = login(member).get(f"{LIST}invoices/{note.uuid}/lines.csv")
    assert response["Content-Disposition"] == 'attachment; filename="CN-2026-000001.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["Document"], row["Number"], row["Transaction type"]) == (
        "Credit note",
        "CN-2026-000001",
        "Remove quantity",
    )
    assert (row["Amount"], row["Tax"], row["Total"], row["Currency"]) == (
        "-18.00",
        "0.00",
        "-18.00",
        "USD",
    )
    everything = login(member).get(f"{LIST}invoices.csv")
    lines = b"".join(everything.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 4  # HQ's lines only: Sep, Oct, Nov, the credit


def test_the_app_page_links_each_charge_to_the_invoice_that_billed_it(login, admin, tenant, plan):
    from portal.audit import Actor
    from subscriptions import services
    from tests.factories import SubscriptionFactory

    profile = BillingProfileFactory(tenant=tenant)
    sub = services.subscription_activate(
        subscription=SubscriptionFactory(billing_profile=profile, plan=plan),
        actor=Actor.system(),
        now=datetime.datetime(2026, 11, 3, tzinfo=datetime.UTC),
    )
    page = f"/t/contoso/billing/products/apps/{sub.uuid}/"
    assert "Not yet invoiced" in login(admin).get(page).content.decode()
    invoicing_run(day=datetime.date(2026, 12, 1))
    invoice = profile.invoices.get()
    html = login(admin).get(page).content.decode()
    assert f'href="/t/contoso/billing/bills/invoices/{invoice.uuid}/">{invoice.number}</a>' in html


def test_finance_staff_land_on_bills_and_payments(client, member, admin, books):
    client.force_login(member)
    assert client.get("/", follow=False)["Location"] == LIST
    client.force_login(admin)
    assert client.get("/", follow=False)["Location"] == "/t/contoso/"
