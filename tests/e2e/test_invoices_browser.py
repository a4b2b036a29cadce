"""Billing > Bills & payments in Chromium, as finance staff use it: signed in, they land on
the invoice list of the profile they manage, filter it in place (the URL follows), open an
invoice and download its PDF, which holds its number."""

import datetime

from playwright.sync_api import expect
from pypdf import PdfReader

from billing.models import ProfileRole

from ..factories import BillingProfileFactory, BillingProfileRoleFactory, PlanFactory, billed
from .conftest import sign_in


def test_finance_staff_list_filter_open_and_download_an_invoice(
    live_server, page, console_errors, screenshot, tenant, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    hq = BillingProfileFactory(tenant=tenant, name="Contoso HQ")
    lab = BillingProfileFactory(tenant=tenant, name="Contoso Lab")
    BillingProfileRoleFactory(profile=hq, user=member, role=ProfileRole.INVOICE_MANAGER)
    plan = PlanFactory(app__name="Ledger Pro", name="Team")
    billed(hq, plan, 4500, 9)
    billed(hq, plan, 9000, 10)
    billed(lab, plan, 1200, 10)  # not theirs: never shown

    sign_in(page, live_server, member)
    expect(page.get_by_role("heading", name="Bills & payments")).to_be_visible()
    rows = page.locator("table.invoices tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("2 documents in USD")).to_be_visible()
    screenshot(page, "invoices-list")

    page.get_by_label("From", exact=True).fill("2026-11-01")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(page).to_have_url(
        f"{live_server.url}/t/contoso/billing/bills/?date_from=2026-11-01&date_to=&status=&billing_profile="
    )
    number = hq.invoices.get(issue_date=datetime.date(2026, 11, 1)).number

    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    expect(page.get_by_text("$90.00").first).to_be_visible()
    screenshot(page, "invoice-detail")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    reader = PdfReader(download.value.path())
    text = "".join(pdf_page.extract_text() for pdf_page in reader.pages)
    assert number in text and "$90.00" in text
    assert console_errors == []
