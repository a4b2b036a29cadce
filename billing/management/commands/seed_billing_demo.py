from django.conf import settings
from django.core.management.base import CommandError

from billing import services
from billing.models import BillingProfile, BillingProfileRole, PaymentMethod, ProfileRole
from billing.stripe_gateway import StripeFailure
from portal.audit import Actor
from portal.management.demo import DemoCommand
from portal.models import Tenant, User

PROFILES = [
    # tenant, name, payment method, values
    (
        "contoso",
        "Contoso HQ",
        PaymentMethod.CARD,
        {
            "contact_name": "Avery Admin",
            "email": "ap@contoso.example",
            "phone": "+1 425 555 0100",
            "address_line1": "1 Microsoft Way",
            "city": "Redmond",
            "state": "WA",
            "postal_code": "98052",
            "country": "US",
            "invoice_emails": ["ap@contoso.example", "finance@contoso.example"],
            "tax_id": "91-1144442",
        },
    ),
    (
        "contoso",
        "Contoso Research",
        PaymentMethod.CHECK_WIRE,
        {
            "contact_name": "Riley Reader",
            "email": "research-ap@contoso.example",
            "phone": "+1 617 555 0142",
            "address_line1": "200 Innovation Drive",
            "address_line2": "Building 4",
            "city": "Boston",
            "state": "MA",
            "postal_code": "02210",
            "country": "US",
            "invoice_emails": ["research-ap@contoso.example"],
            "po_number": "PO-2026-0042",
        },
    ),
    (
        "fabrikam",
        "Fabrikam GmbH",
        PaymentMethod.CHECK_WIRE,
        {
            "contact_name": "Frieda Admin",
            "email": "buchhaltung@fabrikam.example",
            "phone": "+49 30 5550 1234",
            "address_line1": "Friedrichstraße 123",
            "city": "Berlin",
            "postal_code": "10117",
            "country": "DE",
            "invoice_emails": ["buchhaltung@fabrikam.example"],
            "tax_id": "DE136695976",
        },
    ),
]

# e-mail, tenant, profile, role
ROLES = [("finance@contoso.example", "contoso", "Contoso HQ", ProfileRole.INVOICE_MANAGER)]


class Command(DemoCommand):
    help = (
        "Give the demo tenants their billing profiles: contoso's Contoso HQ (card: Stripe's "
        "test Visa 4242, saved through the local Stripe server; default) and Contoso Research "
        "(check/wire, with a PO number), with finance@contoso.example as invoice manager on "
        "Contoso HQ, and fabrikam's Fabrikam GmbH (EUR). The card is saved again whenever "
        "Stripe no longer knows it. Needs the tenants and people of seed_demo. Safe to run "
        "twice; refuses to run with DEBUG off unless given --force."
    )

    def seed(self, **options):
        actor = Actor.system("seed_demo")
        profiles = {}
        for slug, name, method, values in PROFILES:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"No tenant {slug!r}: run seed_demo first.")
            profile = BillingProfile.objects.for_tenant(tenant).filter(name=name).first()
            if profile is None:
                profile = services.billing_profile_create(
                    tenant=tenant,
                    values={"name": name, **values},
                    payment_method=method,
                    actor=actor,
                )
            profiles[name] = profile
            if method == PaymentMethod.CARD:
                self._card(profile, actor)
        for email, _tenant, name, role in ROLES:
            user = User.objects.get(email=email)
            if not BillingProfileRole.objects.filter(profile=profiles[name], user=user).exists():
                services.billing_profile_role_grant(
                    profile=profiles[name], user_id=user.pk, role=role, actor=actor
                )
        self.stdout.write(f"Billing profiles ready: {', '.join(profiles)}.")

    def _card(self, profile, actor):
        """Save the test Visa unless Stripe still knows the card on file."""
        try:
            if not (profile.has_card and services.billing_profile_card_known(profile=profile)):
                profile = services.billing_profile_demo_card(profile=profile, actor=actor)
                self.stdout.write(f"{profile.name}: saved {profile.card_label} at Stripe.")
        except (StripeFailure, services.CardSetupError) as error:
            raise CommandError(
                f"{profile.name}: {error} Is the local Stripe server running "
                f"(scripts/localstripe, STRIPE_API_BASE={settings.STRIPE_API_BASE})?"
            ) from None
