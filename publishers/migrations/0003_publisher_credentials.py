import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def give_client_ids(apps, schema_editor):
    Publisher = apps.get_model("publishers", "Publisher")
    for publisher in Publisher.objects.filter(client_id__isnull=True).only("pk"):
        publisher.client_id = uuid.uuid4()
        publisher.save(update_fields=["client_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("publishers", "0002_plan_bounds_one_rule"),
    ]

    operations = [
        # A unique value per existing row: added empty, filled, then made required and unique.
        migrations.AddField(
            model_name="publisher",
            name="client_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_client_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="publisher",
            name="client_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.CreateModel(
            name="PublisherSecret",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("secret_hash", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "hint",
                    models.CharField(
                        editable=False,
                        help_text="The secret's last characters, to tell it apart.",
                        max_length=8,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("expires_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("warned", models.JSONField(blank=True, default=list, editable=False)),
                (
                    "publisher",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="secrets",
                        to="publishers.publisher",
                    ),
                ),
            ],
            options={
                "ordering": ["publisher", "-created_at", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="publisher_secret_expires_after_creation",
                    )
                ],
            },
        ),
    ]
