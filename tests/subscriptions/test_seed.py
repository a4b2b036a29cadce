"""seed_demo's apps: every status and way of buying, in contoso; a few in EUR in fabrikam."""

import datetime

from django.core.management import call_command
from django.utils import timezone

from billing.models import Charge
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import BoughtVia, Proposal, Subscription
from subscriptions.renewals import Action, outlook, renewals_ahead
from subscriptions.services.common import utc_day


def test_seed_demo_gives_contoso_every_status_and_fabrikam_its_own(db):
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
    charged = Charge.objects.count()
    call_command("seed_demo", "--force")
    assert Subscription.objects.count() == contoso.count() + fabrikam.count()
    assert Charge.objects.count() == charged
    assert Proposal.objects.count() == 1
