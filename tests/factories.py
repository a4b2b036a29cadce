"""Factories take the tenant explicitly; children copy it from their parent."""

import factory

from portal.models import Membership, PartnerRelationship, Role, Tenant, User

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
