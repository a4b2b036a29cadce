"""Downloading a period: a zip of a profile's invoices issued between two dates, each PDF
and one CSV of their lines, built in the background while its page shows the progress;
only of a profile the member may see, also when the request is crafted."""

import csv
import datetime
import io
import zipfile

import pytest

from billing.models import ExportStatus, InvoiceExport, ProfileRole
from billing.services import invoice_export_build
from tests.factories import (
    BillingProfileFactory,
    BillingProfileRoleFactory,
    PlanFactory,
    billed,
)

pytestmark = pytest.mark.django_db

BILLS = "/t/contoso/billing/bills/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def books(tenant, member):
    """Contoso HQ (the finance member's) with invoices on Oct 1, Nov 1 and Dec 1 2026; Lab's."""
    hq = BillingProfileFactory(tenant=tenant, name="Contoso HQ")
    lab = BillingProfileFactory(tenant=tenant, name="Contoso Lab")
    BillingProfileRoleFactory(profile=hq, user=member, role=ProfileRole.INVOICE_MANAGER)
    plan = PlanFactory(app__name="Ledger Pro")
    for month in (9, 10, 11):
        billed(hq, plan, 4500, month)
        billed(lab, plan, 4500, month)
    return hq, lab


def ask(client, profile, date_from="2026-10-15", date_to="2026-12-31"):
    data = {
        "export-billing_profile": str(profile.uuid),
        "export-date_from": date_from,
        "export-date_to": date_to,
    }
    return client.post(f"{BILLS}exports/", data)


def test_a_period_is_built_in_the_background_and_downloaded_as_one_zip(
    login, member, books, django_capture_on_commit_callbacks
):
    hq, _lab = books
    finance = login(member)
    with django_capture_on_commit_callbacks(execute=True) as queued:  # the task: eager here
        response = ask(finance, hq)
    assert len(queued) == 1
    export = InvoiceExport.objects.get()
    assert response["Location"] == f"{BILLS}exports/{export.uuid}/"
    page = finance.get(response["Location"]).content.decode()
    assert "Ready:" in page and "2 documents" in page and "Download ZIP" in page
    download = finance.get(f"{BILLS}exports/{export.uuid}/download/")
    assert (
        'filename="invoices-contoso-hq-2026-10-15-2026-12-31.zip"'
        in download["Content-Disposition"]
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    numbers = sorted(
        hq.invoices.filter(issue_date__gte="2026-10-15").values_list("number", flat=True)
    )
    assert sorted(archive.namelist()) == sorted([f"{n}.pdf" for n in numbers] + ["invoices.csv"])
    assert all(archive.read(f"{n}.pdf").startswith(b"%PDF") for n in numbers)
    rows = list(csv.DictReader(io.StringIO(archive.read("invoices.csv").decode())))
    assert sorted({row["Number"] for row in rows}) == numbers


def test_the_page_shows_progress_until_it_is_built(login, member, books):
    hq, _lab = books
    finance = login(member)
    ask(finance, hq)  # its task would go once this commits: not here, so it waits
    export = InvoiceExport.objects.get()
    waiting = finance.get(f"{BILLS}exports/{export.uuid}/").content.decode()
    assert "Waiting for a worker" in waiting and 'hx-trigger="every 1s"' in waiting
    assert finance.get(f"{BILLS}exports/{export.uuid}/download/").status_code == 404
    assert invoice_export_build(export.pk) is True
    assert invoice_export_build(export.pk) is False  # a second worker given it: nothing
    htmx = {"HX-Request": "true", "HX-Target": "progress"}
    done = finance.get(f"{BILLS}exports/{export.uuid}/", headers=htmx).content.decode()
    assert done.lstrip().startswith('<section class="panel" id="progress"')
    assert "every 1s" not in done and "Download ZIP" in done


def test_a_build_whose_worker_died_is_built_by_the_next_and_a_lost_one_says_so(
    login, member, books
):
    hq, _lab = books
    finance = login(member)
    ask(finance, hq)
    export = InvoiceExport.objects.get()
    now = datetime.datetime.now(datetime.UTC)
    # A worker claimed it and was killed; the task given again a minute later waits.
    InvoiceExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=now - datetime.timedelta(minutes=1)
    )
    assert invoice_export_build(export.pk) is False
    InvoiceExport.objects.filter(pk=export.pk).update(
        heartbeat_at=now - datetime.timedelta(minutes=6)
    )
    assert invoice_export_build(export.pk) is True
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.done == export.total == 2
    # Another whose task was lost altogether: after 15 minutes its page stops waiting.
    ask(finance, hq)
    lost = InvoiceExport.objects.exclude(pk=export.pk).get()
    InvoiceExport.objects.filter(pk=lost.pk).update(created_at=now - datetime.timedelta(minutes=16))
    page = finance.get(f"{BILLS}exports/{lost.uuid}/").content.decode()
    assert "It stopped before it was built. Ask for it again." in page
    assert "every 1s" not in page


def test_only_a_profile_the_member_may_see_and_two_dates_in_order(
    login, member, other_admin, books
):
    hq, lab = books
    finance = login(member)
    refused = ask(finance, lab)  # crafted: Lab is not among the form's choices
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    backwards = ask(finance, hq, "2026-12-31", "2026-10-01")
    assert "The end date is before the start date." in backwards.content.decode()
    assert not InvoiceExport.objects.exists()
    theirs = InvoiceExport.objects.create(
        tenant=lab.tenant,
        billing_profile=lab,
        date_from=datetime.date(2026, 1, 1),
        date_to=datetime.date(2026, 12, 31),
        status=ExportStatus.DONE,
    )
    assert finance.get(f"{BILLS}exports/{theirs.uuid}/").status_code == 404
    assert finance.get(f"{BILLS}exports/{theirs.uuid}/download/").status_code == 404
    elsewhere = f"/t/fabrikam/billing/bills/exports/{theirs.uuid}/"
    assert login(other_admin).get(elsewhere).status_code == 404
