"""Charges; on PostgreSQL two composite foreign keys hold each to its billing profile's
tenant and currency (SQLite, the demo, has neither; the service sets both from the profile).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

KEYS = """
ALTER TABLE billing_charge
    ADD CONSTRAINT charge_tenant_of_profile
    FOREIGN KEY (billing_profile_id, tenant_id)
    REFERENCES billing_billingprofile (id, tenant_id),
    ADD CONSTRAINT charge_currency_of_profile
    FOREIGN KEY (billing_profile_id, currency)
    REFERENCES billing_billingprofile (id, currency);
"""

DROP_KEYS = """
ALTER TABLE billing_charge
    DROP CONSTRAINT IF EXISTS charge_tenant_of_profile,
    DROP CONSTRAINT IF EXISTS charge_currency_of_profile;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_profile_id_currency"),
        ("portal", "0005_auditevent_operator"),
    ]

    operations = [
        migrations.CreateModel(
            name="Charge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subscription_uuid", models.UUIDField(db_index=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("purchase", "Purchase"),
                            ("renewal", "Renew"),
                            ("add_quantity", "Add quantity"),
                            ("remove_quantity", "Remove quantity"),
                            ("change_plan", "Change plan"),
                            ("cancel_credit", "Cancel"),
                        ],
                        max_length=20,
                    ),
                ),
                ("description", models.CharField(max_length=300)),
                ("quantity", models.PositiveIntegerField(blank=True, null=True)),
                ("unit_amount", models.PositiveIntegerField()),
                ("amount", models.IntegerField(help_text="Minor units; negative for a credit.")),
                ("currency", models.CharField(max_length=3)),
                ("period_start", models.DateField()),
                (
                    "period_end",
                    models.DateField(help_text="Excluded: the day after the last day served."),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "billing_profile",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="charges",
                        to="billing.billingprofile",
                    ),
                ),
                (
                    "credits",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="credited_by",
                        to="billing.charge",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="charges",
                        to="portal.tenant",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "purchase",
                                    "renewal",
                                    "add_quantity",
                                    "remove_quantity",
                                    "change_plan",
                                    "cancel_credit",
                                ],
                            )
                        ),
                        name="charge_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("amount__lte", 0),
                                ("kind__in", ("remove_quantity", "cancel_credit")),
                            ),
                            models.Q(
                                models.Q(
                                    ("kind__in", ("remove_quantity", "cancel_credit")),
                                    _negated=True,
                                ),
                                ("amount__gte", 0),
                            ),
                            _connector="OR",
                        ),
                        name="charge_credit_is_negative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("period_end__gt", models.F("period_start"))),
                        name="charge_period_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("credits__isnull", True),
                            ("kind__in", ("remove_quantity", "cancel_credit")),
                            _connector="OR",
                        ),
                        name="charge_only_credits_credit",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("kind__in", ["purchase", "renewal"])),
                        fields=("subscription_uuid", "period_start"),
                        name="charge_term_once",
                    ),
                ],
            },
        ),
        migrations.RunPython(_on_postgresql(KEYS), _on_postgresql(DROP_KEYS), elidable=False),
    ]
