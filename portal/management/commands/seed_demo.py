from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from portal import services
from portal.audit import Actor
from portal.management.demo import DemoCommand
from portal.models import Membership, Role, Tenant, User

PASSWORD = "demo-password-1"

TENANTS = [
    # slug, name, country
    ("contoso", "Contoso", "US"),
    ("fabrikam", "Fabrikam", "DE"),
    ("northwind", "Northwind Partners", "GB"),
]

PEOPLE = [
    # e-mail, name, tenant, role
    ("admin@contoso.example", "Avery Admin", "contoso", Role.ADMIN),
    ("billing@contoso.example", "Blake Billing", "contoso", Role.BILLING_ADMIN),
    ("reader@contoso.example", "Riley Reader", "contoso", Role.READER),
    ("finance@contoso.example", "Finley Finance", "contoso", Role.MEMBER),
    ("admin@fabrikam.example", "Frieda Admin", "fabrikam", Role.ADMIN),
    ("partner@northwind.example", "Parker Partner", "northwind", Role.ADMIN),
]

PARTNERS = [("northwind", "contoso")]


class Command(DemoCommand):
    help = (
        "Load the fixed demo data the README lists: tenants contoso, fabrikam and northwind, "
        "their people (password demo-password-1), northwind's partner relationship with "
        "contoso, the demo catalog (load_catalog --demo), billing profiles "
        "(seed_billing_demo, which needs the local Stripe server) and apps "
        "(seed_subscriptions_demo). Safe to run twice; refuses to "
        "run with DEBUG off unless given --force."
    )

    def seed(self, **options):
        actor = Actor.system("seed_demo")
        with transaction.atomic():
            tenants = {
                slug: self._tenant(slug, name, country, actor) for slug, name, country in TENANTS
            }
            for email, name, slug, role in PEOPLE:
                self._person(email, name, tenants[slug], role, actor)
            for partner, customer in PARTNERS:
                services.partner_relationship_create(
                    partner=tenants[partner], customer=tenants[customer], actor=actor
                )
            # The catalog's own command loads its demo file (a private plan names contoso).
            call_command("load_catalog", "--demo", stdout=self.stdout)
        # Billing profiles, with the demo card saved at the local Stripe server.
        call_command("seed_billing_demo", "--force", stdout=self.stdout)
        call_command("seed_subscriptions_demo", "--force", stdout=self.stdout)
        call_command("seed_invoices_demo", "--force", stdout=self.stdout)
        # The sandbox publisher plays the catalog's publishers: their landing pages and its
        # API secrets, every run (PORTAL_BASE_URL may have changed).
        call_command("seed_sandbox_publishers", "--force", stdout=self.stdout)
        self.stdout.write(f"Demo data ready. Log in at {settings.PORTAL_BASE_URL}/ as:")
        for email, _, slug, role in PEOPLE:
            self.stdout.write(f"  {email:<28} {role.label:<14} {slug:<10} password: {PASSWORD}")

    def _tenant(self, slug, name, country, actor):
        tenant = Tenant.objects.filter(slug=slug).first()
        return tenant or services.tenant_create(name=name, country=country, slug=slug, actor=actor)

    def _person(self, email, name, tenant, role, actor):
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": name})
        if not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        membership = Membership.objects.filter(user=user, tenant=tenant).first()
        if membership is None:
            services.member_add(tenant=tenant, email=email, role=role, actor=actor)
        elif membership.role != role:
            services.member_change_role(membership=membership, role=role, actor=actor)
