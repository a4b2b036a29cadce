"""Each charge names the plan bought, for its invoice line: added empty and filled from the
charge's subscription here, required by 0007 (in a transaction of its own: PostgreSQL
won't alter a table with the deferred checks of this one's updates pending)."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    Charge = apps.get_model("billing", "Charge")
    Subscription = apps.get_model("subscriptions", "Subscription")
    plans = dict(Subscription.objects.values_list("uuid", "plan_id"))
    charges = list(Charge.objects.filter(plan__isnull=True).only("pk", "subscription_uuid"))
    for charge in charges:
        charge.plan_id = plans[charge.subscription_uuid]
    Charge.objects.bulk_update(charges, ["plan"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_change_plan_either_sign"),
        ("publishers", "0005_webhook_secret_overlap"),
        ("subscriptions", "0010_operation_requested_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="charge",
            name="plan",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="publishers.plan",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
