"""Factories take the tenant explicitly; children copy it from their parent."""

import factory

from billing.models import BillingProfile, BillingProfileRole, PaymentMethod, ProfileRole
from portal.models import Invitation, Membership, PartnerRelationship, Role, Tenant, User
from publishers.models import App, Category, Plan, Price, PricingModel, Publisher, Term
from subscriptions.models import BoughtVia, Subscription

PASSWORD = "correct-horse-battery"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    country = "US"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = None  # required: say which tenant
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class PartnerRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerRelationship

    partner = None
    customer = None


class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publisher

    name = factory.Sequence(lambda n: f"Publisher {n}")
    slug = factory.Sequence(lambda n: f"publisher-{n}")
    legal_name = factory.LazyAttribute(lambda p: f"{p.name} Ltd.")
    address_line1 = "1 Harbour Street"
    city = "Bristol"
    postal_code = "BS1 4XE"
    country = "GB"
    support_url = factory.LazyAttribute(lambda p: f"https://{p.slug}.example/support")
    support_email = factory.LazyAttribute(lambda p: f"support@{p.slug}.example")
    landing_page_url = factory.LazyAttribute(lambda p: f"https://{p.slug}.example/activate")


class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = App

    publisher = factory.SubFactory(PublisherFactory)
    offer_id = factory.Sequence(lambda n: f"offer-{n}")
    name = factory.Sequence(lambda n: f"App {n}")
    summary = "Keeps your team's work in one place."
    description = "A longer description of what the app does."
    category = Category.PRODUCTIVITY
    pricing_model = PricingModel.PER_SEAT
    is_published = True


class PlanFactory(factory.django.DjangoModelFactory):
    """A plan of `app` with prices: `PlanFactory(app=app, prices={"USD": 400})`."""

    class Meta:
        model = Plan
        skip_postgeneration_save = True

    app = factory.SubFactory(AppFactory)
    plan_id = factory.Sequence(lambda n: f"plan-{n}")
    name = "Standard"
    term = Term.MONTHLY
    min_quantity = factory.LazyAttribute(lambda p: 1 if p.app.is_per_seat else None)
    max_quantity = factory.LazyAttribute(lambda p: 500 if p.app.is_per_seat else None)

    @factory.post_generation
    def prices(plan, create, extracted, **kwargs):
        for currency, amount in (extracted or {"USD": 400}).items():
            Price.objects.create(plan=plan, currency=currency, amount=amount)


class BillingProfileFactory(factory.django.DjangoModelFactory):
    """A check/wire profile of `tenant`, in its country: `BillingProfileFactory(tenant=t)`."""

    class Meta:
        model = BillingProfile

    tenant = None  # required: say which tenant
    name = factory.Sequence(lambda n: f"Profile {n}")
    contact_name = "Casey Contact"
    email = "ap@example.com"
    phone = "+1 425 555 0100"
    address_line1 = "1 Main Street"
    city = "Redmond"
    state = "WA"
    postal_code = "98052"
    country = factory.LazyAttribute(lambda p: p.tenant.country)
    invoice_emails = factory.LazyFunction(lambda: ["ap@example.com"])
    payment_method = PaymentMethod.CHECK_WIRE


class BillingProfileRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingProfileRole

    profile = None  # required
    tenant = factory.LazyAttribute(lambda r: r.profile.tenant)  # the profile's, always
    user = None  # required: a member of the profile's tenant
    role = ProfileRole.READER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    tenant = None  # required: say which tenant
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A pending subscription of `billing_profile`'s tenant to a plan:
    `SubscriptionFactory(billing_profile=profile)`; per-license plans get 5 licenses."""

    class Meta:
        model = Subscription

    billing_profile = None  # required: it sets the tenant and the currency
    tenant = factory.LazyAttribute(lambda s: s.billing_profile.tenant)
    plan = factory.SubFactory(PlanFactory)
    name = factory.LazyAttribute(lambda s: s.plan.app.name)
    quantity = factory.LazyAttribute(lambda s: 5 if s.plan.app.is_per_seat else None)
    unit_amount = 400
    currency = factory.LazyAttribute(lambda s: s.billing_profile.currency)
    bought_via = BoughtVia.DIRECT


def bearer(publisher) -> dict:
    """The Authorization header of a Fulfillment API call by `publisher`, with a new secret's
    token."""
    from portal.audit import Actor
    from publishers.credentials import token_for
    from publishers.models import PublisherSecret
    from publishers.services import publisher_secret_create

    publisher_secret_create(publisher=publisher, actor=Actor.system())
    secret = PublisherSecret.objects.filter(publisher=publisher).latest("created_at")
    return {"Authorization": f"Bearer {token_for(secret)}"}


def billed(profile, plan, amount, month, *, kind="purchase", year=2026):
    """A charge made through the service on the 10th of `month`, then the invoice run of
    the 1st after it: the profile's invoice for that month (the run's others too)."""
    import datetime
    import uuid

    from billing.services import charge_create, invoicing_run

    made = datetime.datetime(year, month, 10, tzinfo=datetime.UTC)
    charge = charge_create(
        profile=profile,
        subscription_uuid=uuid.uuid4(),
        plan=plan,
        kind=kind,
        description=f"{plan.app.name}, {plan.name}: 5 licenses, from {made:%b} 10",
        quantity=5,
        unit_amount=abs(amount) // 5,
        amount=amount,
        period_start=made.date(),
        period_end=made.date() + datetime.timedelta(days=30),
        at=made,
    )
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    invoicing_run(day=following)
    return charge
