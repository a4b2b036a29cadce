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

call_command("migrate", "billing", "0001", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO portal_tenant (uuid, name, slug, country, created_at)"
        " VALUES ('00000000000000000000000000000001', 'Contoso', 'contoso', 'US', '2026-01-01')"
    )
    tenant_id = cursor.lastrowid
    cursor.execute(
        "INSERT INTO portal_user (uuid, email, full_name, password, is_staff, is_active,"
        " is_superuser, date_joined) VALUES ('00000000000000000000000000000002',"
        " 'finance@contoso.example', '', '!', 0, 1, 0, '2026-01-01')"
    )
    user_id = cursor.lastrowid
    cursor.execute(
        "INSERT INTO billing_billingprofile (uuid, tenant_id, name, currency, contact_name,"
        " email, phone, address_line1, address_line2, city, state, postal_code, country,"
        " invoice_emails, po_number, tax_id, payment_method, stripe_customer_id,"
        " stripe_payment_method_id, card_brand, card_last4, is_default, created_at,"
        " updated_at) VALUES ('00000000000000000000000000000003', %s, 'HQ', 'USD', 'C',"
        " 'ap@example.com', '+1 425 555 0100', '1 Main St', '', 'Redmond', 'WA', '98052',"
        " 'US', '[]', '', '', 'check_wire', '', '', '', '', 1, '2026-01-01', '2026-01-01')",
        [tenant_id],
    )
    cursor.execute(
        "INSERT INTO billing_billingprofilerole (uuid, profile_id, user_id, role, granted_at)"
        " VALUES ('00000000000000000000000000000004', %s, %s, 'reader', '2026-01-01')",
        [cursor.lastrowid, user_id],
    )
call_command("migrate", "billing", verbosity=0)
from billing.models import BillingProfileRole
print([(r.tenant.slug, r.profile.name) for r in BillingProfileRole.objects.all()])
"""


def test_migration_gives_existing_roles_their_profiles_tenant_on_sqlite(tmp_path):
    env = sqlite_env(tmp_path, "roles.sqlite3")
    migrated = manage("migrate", "--no-input", "-v", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    result = manage("shell", "--no-imports", "-c", FILL, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('contoso', 'HQ')]"
