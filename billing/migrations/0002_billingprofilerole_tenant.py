"""A billing profile role carries its tenant, copied from its profile, like every
tenant-owned row.

Added nullable, filled from each role's profile, then made required. On PostgreSQL a
composite foreign key (profile_id, tenant_id) -> billing profile (id, tenant_id) makes the
database refuse a role whose tenant is not its profile's; SQLite (the demo) has no such key,
and the model copies the tenant on save there as everywhere.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

ADD_KEY = """
ALTER TABLE billing_billingprofilerole
    ADD CONSTRAINT billing_role_tenant_of_profile
    FOREIGN KEY (profile_id, tenant_id)
    REFERENCES billing_billingprofile (id, tenant_id)
    ON DELETE CASCADE;
"""

DROP_KEY = """
ALTER TABLE billing_billingprofilerole DROP CONSTRAINT IF EXISTS billing_role_tenant_of_profile;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


def _fill_tenant(apps, schema_editor):
    BillingProfile = apps.get_model("billing", "BillingProfile")
    BillingProfileRole = apps.get_model("billing", "BillingProfileRole")
    profile_tenant = BillingProfile.objects.filter(pk=OuterRef("profile_id")).values("tenant_id")
    BillingProfileRole.objects.update(tenant_id=Subquery(profile_tenant[:1]))
    if schema_editor.connection.vendor == "postgresql":
        # The update queued the new key's deferred checks; run them now, or PostgreSQL
        # refuses the ALTER TABLE below ("pending trigger events").
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_billing_profiles"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingprofilerole",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="billing_profile_roles",
                to="portal.tenant",
            ),
        ),
        migrations.RunPython(_fill_tenant, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="billingprofilerole",
            name="tenant",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="billing_profile_roles",
                to="portal.tenant",
            ),
        ),
        migrations.AddConstraint(
            model_name="billingprofile",
            constraint=models.UniqueConstraint(
                fields=("id", "tenant"), name="billing_profile_id_tenant"
            ),
        ),
        migrations.RunPython(_on_postgresql(ADD_KEY), _on_postgresql(DROP_KEY), elidable=False),
    ]
