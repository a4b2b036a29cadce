"""seed_demo's apps: every status and way of buying, in contoso; a few in EUR in fabrikam."""

from django.core.management import call_command

from billing.models import Charge
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import BoughtVia, Proposal, Subscription


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
    charged = Charge.objects.count()
    call_command("seed_demo", "--force")
    assert Subscription.objects.count() == contoso.count() + fabrikam.count()
    assert Charge.objects.count() == charged
    assert Proposal.objects.count() == 1
