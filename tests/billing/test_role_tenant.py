"""A billing profile role carries its profile's tenant, and the database holds them together."""

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import BillingProfileRole, ProfileRole
from billing.services import billing_profile_role_grant
from portal.audit import Actor
from tests.factories import BillingProfileFactory, BillingProfileRoleFactory
from tests.manage import manage, sqlite_env


def test_a_granted_role_carries_its_profiles_tenant(tenant, member, profile):
    grant = billing_profile_role_grant(
        profile=profile, user_id=member.pk, role=ProfileRole.READER, actor=Actor.system()
    )
    grant.refresh_from_db()
    assert grant.tenant == tenant


def test_save_copies_the_tenant_from_the_profile(tenant, other_tenant, member, profile):
    grant = BillingProfileRole(
        profile=profile, user=member, role=ProfileRole.READER, tenant=other_tenant
    )
    grant.save()
    grant.refresh_from_db()
    assert grant.tenant == tenant


def test_for_tenant_lists_only_that_tenants_roles(tenant, other_tenant, member, other_admin):
    ours = BillingProfileRoleFactory(
        profile=BillingProfileFactory(tenant=tenant), user=member, role=ProfileRole.READER
    )
    theirs = BillingProfileRoleFactory(
        profile=BillingProfileFactory(tenant=other_tenant), user=other_admin
    )
    assert list(BillingProfileRole.objects.for_tenant(tenant)) == [ours]
    assert list(BillingProfileRole.objects.for_tenant(other_tenant)) == [theirs]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the key is PostgreSQL's")
def test_database_refuses_a_role_of_another_tenant_than_its_profiles(
    tenant, other_tenant, invoice_manager, profile
):
    grant = BillingProfileRole.objects.for_tenant(tenant).get(user=invoice_manager)
    with (
        pytest.raises(IntegrityError, match="billing_role_tenant_of_profile"),
        transaction.atomic(),
    ):
        BillingProfileRole.objects.filter(pk=grant.pk).update(tenant=other_tenant)
    assert BillingProfileRole.objects.get(pk=grant.pk).tenant_id == tenant.pk


# Before 0002 a role had no tenant: a role saved then gets its profile's on migrating.
FILL = """
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", "billing", "0001", verbosity=0)
# The models as they were at billing 0001: a role without a tenant.
old = MigrationExecutor(connection).loader.project_state(("billing", "0001_billing_profiles")).apps
Tenant = old.get_model("portal", "Tenant")
tenant = Tenant.objects.create(name="Contoso", slug="contoso", country="US")
user = old.get_model("portal", "User").objects.create(email="finance@contoso.example")
profile = old.get_model("billing", "BillingProfile").objects.create(
    tenant=tenant, name="HQ", currency="USD", contact_name="C", email="ap@example.com",
    phone="+1 425 555 0100", address_line1="1 Main St", city="Redmond", state="WA",
    postal_code="98052", country="US", invoice_emails=[], payment_method="check_wire",
    is_default=True,
)
Role = old.get_model("billing", "BillingProfileRole")
Role.objects.create(profile=profile, user=user, role="reader")
call_command("migrate", "billing", verbosity=0)
from billing.models import BillingProfileRole
print([(r.tenant.slug, r.profile.name) for r in BillingProfileRole.objects.all()])
"""


@pytest.fixture
def scratch_postgresql():
    """A database of its own on the test run's PostgreSQL, dropped afterwards."""
    import os

    import psycopg

    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"portal_migration_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_gives_existing_roles_their_profiles_tenant_on_postgresql(scratch_postgresql):
    env = {"DATABASE_URL": scratch_postgresql}
    migrated = manage("migrate", "--no-input", "-v", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    result = manage("shell", "--no-imports", "-c", FILL, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('contoso', 'HQ')]"
    # The composite key is there: a role of another tenant than its profile's is refused.
    refused = manage("shell", "--no-imports", "-c", MISMATCH, env=env)
    assert "billing_role_tenant_of_profile" in refused.stderr, refused.stderr


MISMATCH = """
from billing.models import BillingProfileRole
from portal.models import Tenant
other = Tenant.objects.create(name="Fabrikam", slug="fabrikam", country="DE")
BillingProfileRole.objects.filter(tenant__slug="contoso").update(tenant=other)
"""


def test_migration_gives_existing_roles_their_profiles_tenant_on_sqlite(tmp_path):
    env = sqlite_env(tmp_path, "roles.sqlite3")
    migrated = manage("migrate", "--no-input", "-v", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    result = manage("shell", "--no-imports", "-c", FILL, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('contoso', 'HQ')]"
