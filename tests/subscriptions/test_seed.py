"""seed_demo's apps: every status and way of buying, in contoso; a few in EUR in fabrikam."""

import datetime

from django.core.management import call_command
from django.utils import timezone

from billing.models import Charge, Invoice
from portal.models import Membership
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import BoughtVia, Proposal, Subscription
from subscriptions.renewals import Action, outlook, renewals_ahead
from subscriptions.services.common import utc_day


def test_seed_demo_gives_contoso_every_status_and_fabrikam_its_own(
    db, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):  # the PDFs' tasks (eager)
        call_command("seed_demo", "--force")
    contoso = Subscription.objects.filter(tenant__slug="contoso")
    assert set(contoso.values_list("status", flat=True)) == set(Status.values)
    disabled = contoso.filter(status=Status.DISABLED)
    assert set(disabled.values_list("disabled_reason", flat=True)) == set(DisabledReason.values)
    pending = contoso.filter(status=Status.PENDING_ACTIVATION)
    assert {s.is_per_seat for s in pending} == {True, False}
    assert contoso.filter(bought_via=BoughtVia.PARTNER).count() == 2
    assert contoso.filter(scheduled_quantity__isnull=False).count() == 1
    assert {s.term for s in contoso.active()} == {"P1M", "P1Y"}
    fabrikam = Subscription.objects.filter(tenant__slug="fabrikam")
    assert fabrikam.exists() and set(fabrikam.values_list("currency", flat=True)) == {"EUR"}
    assert Proposal.objects.open().filter(tenant__slug="contoso").count() == 1
    # Billing > Renewals has something in each of its first four months, in both tenants.
    today = utc_day(timezone.now())
    ahead = renewals_ahead(contoso, today)
    months = {sub.term_end.replace(day=1) for sub in ahead}
    first = (today + datetime.timedelta(days=1)).replace(day=1)
    expected = {(first + datetime.timedelta(days=31 * k)).replace(day=1) for k in range(4)}
    assert expected <= months, months
    assert {outlook(sub).action for sub in ahead} == set(Action.values)
    assert renewals_ahead(fabrikam, today).exists()
    # Three months of invoices on contoso's two profiles, one credit note, PDFs rendered;
    # finance@contoso.example sees Contoso HQ's only.
    invoices = Invoice.objects.filter(tenant__slug="contoso")
    assert len({invoice.issue_date for invoice in invoices}) == 3
    assert set(invoices.values_list("billing_profile__name", flat=True)) == {
        "Contoso HQ",
        "Contoso Research",
    }
    assert set(invoices.values_list("billing_profile__payment_method", flat=True)) == {
        "card",
        "check_wire",
    }
    assert invoices.filter(kind="credit_note", corrects__isnull=False).count() == 1
    assert all(invoice.pdf_file and invoice.pdf_sha256 for invoice in invoices)
    finance = Membership.objects.get(user__email="finance@contoso.example")
    shown = set(Invoice.objects.visible_to(finance).values_list("billing_profile__name", flat=True))
    assert shown == {"Contoso HQ"}
    charged, issued = Charge.objects.count(), Invoice.objects.count()
    call_command("seed_demo", "--force")
    assert Subscription.objects.count() == contoso.count() + fabrikam.count()
    assert Charge.objects.count() == charged and Invoice.objects.count() == issued
    assert Proposal.objects.count() == 1
