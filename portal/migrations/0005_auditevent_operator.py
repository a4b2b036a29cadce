"""Operator-side audit records have no tenant.

Dropping NOT NULL leaves the append-only trigger of 0002 in place (it fires on row UPDATE and
DELETE, not on schema changes), so operator records are append-only too.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_invitation")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="tenant",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="audit_events",
                to="portal.tenant",
            ),
        ),
    ]
