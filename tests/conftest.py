"""Personas, as healthchecks has alice, bob and charlie.

`tenant` (Contoso, US) has an admin, a billing admin, a reader and a member; Northwind is
its partner, with `partner_user` one of Northwind's admins; `other_admin` is the admin of
another tenant (Fabrikam, DE), who must see nothing of Contoso.
"""

import pytest
from django.core.cache import cache
from django.test import Client

from portal.models import Role
from tests.receivers import receiver  # noqa: F401  (a fixture for every test)

from .factories import MembershipFactory, PartnerRelationshipFactory, TenantFactory, UserFactory

pytest_plugins = ["tests.sandbox"]  # marketplace, quill, ledger: the sandbox publisher's


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the database is rolled back; the cache isn't)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files straight from static/, without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True  # receivers on loopback; the SSRF tests turn it off


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Contoso", slug="contoso", country="US")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Fabrikam", slug="fabrikam", country="DE")


@pytest.fixture
def partner_tenant(db, tenant):
    partner = TenantFactory(name="Northwind", slug="northwind", country="GB")
    PartnerRelationshipFactory(partner=partner, customer=tenant)
    return partner


def _member(tenant, role, email):
    return MembershipFactory(tenant=tenant, role=role, user=UserFactory(email=email)).user


@pytest.fixture
def admin(tenant):
    return _member(tenant, Role.ADMIN, "admin@contoso.example")


@pytest.fixture
def billing_admin(tenant):
    return _member(tenant, Role.BILLING_ADMIN, "billing@contoso.example")


@pytest.fixture
def reader(tenant):
    return _member(tenant, Role.READER, "reader@contoso.example")


@pytest.fixture
def member(tenant):
    return _member(tenant, Role.MEMBER, "finance@contoso.example")


@pytest.fixture
def partner_user(partner_tenant):
    return _member(partner_tenant, Role.ADMIN, "partner@northwind.example")


@pytest.fixture
def other_admin(other_tenant):
    return _member(other_tenant, Role.ADMIN, "admin@fabrikam.example")


@pytest.fixture
def login():
    """`login(user)` -> a test client signed in as that user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
