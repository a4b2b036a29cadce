"""seed_demo's billing profiles, with the demo card saved at the local Stripe server."""

from django.core.management import call_command

from billing import stripe_gateway
from billing.models import BillingProfile, ProfileRole
from portal.models import AuditEvent


def profiles():
    return {p.name: p for p in BillingProfile.objects.select_related("tenant")}


def test_seed_demo_gives_contoso_and_fabrikam_their_profiles(db):
    call_command("seed_demo", "--force")
    seeded = profiles()
    hq, research, fabrikam = (
        seeded["Contoso HQ"],
        seeded["Contoso Research"],
        seeded["Fabrikam GmbH"],
    )
    assert hq.is_default and hq.card_label == "Visa ending 4242" and hq.pays_by_card
    assert stripe_gateway.payment_method_card(hq.stripe_payment_method_id).last4 == "4242"
    assert not research.pays_by_card and research.po_number
    assert (fabrikam.tenant.slug, fabrikam.currency) == ("fabrikam", "EUR")
    assert [(r.user.email, r.role) for r in hq.roles.all()] == [
        ("finance@contoso.example", ProfileRole.INVOICE_MANAGER)
    ]
    assert not research.roles.exists()


def test_seeding_twice_changes_nothing_unless_stripe_forgot_the_card(db):
    call_command("seed_demo", "--force")
    before = AuditEvent.objects.count()
    call_command("seed_demo", "--force")
    assert AuditEvent.objects.count() == before
    hq = profiles()["Contoso HQ"]
    stripe_gateway.customer_delete(hq.stripe_customer_id)  # the local server's state erased
    call_command("seed_demo", "--force")
    again = profiles()["Contoso HQ"]
    assert again.card_last4 == "4242" and again.stripe_customer_id != hq.stripe_customer_id
