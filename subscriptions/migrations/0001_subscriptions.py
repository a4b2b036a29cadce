"""Subscriptions, and on PostgreSQL two composite foreign keys to the billing profile:
(billing_profile_id, tenant_id) -> (id, tenant_id), so a subscription is its profile's
tenant's, and (billing_profile_id, currency) -> (id, currency), so it is billed in its
profile's currency and a profile that bills one keeps its currency (an update of the
profile's currency is refused while a subscription points at it). SQLite (the demo) has
neither key; the services keep both facts there, as everywhere.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

KEYS = """
ALTER TABLE subscriptions_subscription
    ADD CONSTRAINT subscription_tenant_of_profile
    FOREIGN KEY (billing_profile_id, tenant_id)
    REFERENCES billing_billingprofile (id, tenant_id),
    ADD CONSTRAINT subscription_currency_of_profile
    FOREIGN KEY (billing_profile_id, currency)
    REFERENCES billing_billingprofile (id, currency);
"""

DROP_KEYS = """
ALTER TABLE subscriptions_subscription
    DROP CONSTRAINT IF EXISTS subscription_tenant_of_profile,
    DROP CONSTRAINT IF EXISTS subscription_currency_of_profile;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("billing", "0004_charges"),
        ("portal", "0005_auditevent_operator"),
        ("publishers", "0002_plan_bounds_one_rule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Subscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "uuid",
                    models.UUIDField(
                        default=uuid.uuid4,
                        editable=False,
                        help_text="The id publishers see.",
                        unique=True,
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                (
                    "pricing_model",
                    models.CharField(
                        choices=[("flat_rate", "Flat rate"), ("per_seat", "Per license")],
                        editable=False,
                        max_length=10,
                    ),
                ),
                (
                    "term",
                    models.CharField(choices=[("P1M", "Monthly"), ("P1Y", "Annual")], max_length=3),
                ),
                (
                    "quantity",
                    models.PositiveIntegerField(
                        blank=True, help_text="Empty: unlimited.", null=True
                    ),
                ),
                (
                    "scheduled_quantity",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="A decrease that applies at the next renewal.",
                        null=True,
                    ),
                ),
                ("unit_amount", models.PositiveIntegerField()),
                ("currency", models.CharField(max_length=3)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending_activation", "Pending set-up"),
                            ("active", "Active"),
                            ("suspended", "Suspended"),
                            ("disabled", "Disabled"),
                        ],
                        default="pending_activation",
                        max_length=20,
                    ),
                ),
                (
                    "disabled_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("canceled", "Canceled"),
                            ("expired", "Expired"),
                            ("non_payment", "Not paid"),
                        ],
                        max_length=20,
                    ),
                ),
                ("term_start", models.DateField(blank=True, null=True)),
                ("term_end", models.DateField(blank=True, null=True)),
                ("auto_renew", models.BooleanField(default=True)),
                (
                    "bought_via",
                    models.CharField(
                        choices=[
                            ("direct", "Bought in the Marketplace"),
                            ("partner", "Bought by a partner"),
                            ("proposal", "Bought from a proposal"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("activated_at", models.DateTimeField(blank=True, null=True)),
                ("term_started_at", models.DateTimeField(blank=True, null=True)),
                ("disabled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "billing_profile",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="subscriptions",
                        to="billing.billingprofile",
                    ),
                ),
                (
                    "bought_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "bought_by_partner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="portal.tenant",
                    ),
                ),
                (
                    "plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="subscriptions",
                        to="publishers.plan",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="subscriptions",
                        to="portal.tenant",
                    ),
                ),
            ],
            options={
                "ordering": ["name", "pk"],
                "indexes": [
                    models.Index(
                        fields=["tenant", "status"], name="subscriptio_tenant__4cdd65_idx"
                    ),
                    models.Index(fields=["status", "term_end"], name="subscription_due"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                ["pending_activation", "active", "suspended", "disabled"],
                            )
                        ),
                        name="subscription_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("term__in", ["P1M", "P1Y"])),
                        name="subscription_term_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("pricing_model", "flat_rate"),
                                ("quantity__isnull", True),
                                ("scheduled_quantity__isnull", True),
                            ),
                            models.Q(
                                models.Q(
                                    ("scheduled_quantity__isnull", True),
                                    models.Q(
                                        ("scheduled_quantity__gte", 1),
                                        ("scheduled_quantity__lt", models.F("quantity")),
                                    ),
                                    _connector="OR",
                                ),
                                ("pricing_model", "per_seat"),
                                ("quantity__gte", 1),
                                ("quantity__isnull", False),
                                ("quantity__lte", 10000),
                            ),
                            _connector="OR",
                        ),
                        name="subscription_quantity_fits",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("disabled_at__isnull", False),
                                ("disabled_reason__in", ["canceled", "expired", "non_payment"]),
                                ("status", "disabled"),
                            ),
                            models.Q(
                                models.Q(("status", "disabled"), _negated=True),
                                ("disabled_at__isnull", True),
                                ("disabled_reason", ""),
                            ),
                            _connector="OR",
                        ),
                        name="subscription_disabled_has_reason",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("activated_at__isnull", True),
                                ("status", "pending_activation"),
                                ("term_end__isnull", True),
                                ("term_start__isnull", True),
                                ("term_started_at__isnull", True),
                            ),
                            models.Q(
                                ("activated_at__isnull", False),
                                ("status__in", ["active", "suspended"]),
                                ("term_end__gt", models.F("term_start")),
                                ("term_end__isnull", False),
                                ("term_start__isnull", False),
                                ("term_started_at__isnull", False),
                            ),
                            ("status", "disabled"),
                            _connector="OR",
                        ),
                        name="subscription_term_when_activated",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("bought_via__in", ["direct", "partner", "proposal"]),
                            models.Q(
                                models.Q(
                                    ("bought_by_partner__isnull", False), ("bought_via", "partner")
                                ),
                                models.Q(
                                    models.Q(("bought_via", "partner"), _negated=True),
                                    ("bought_by_partner__isnull", True),
                                ),
                                _connector="OR",
                            ),
                        ),
                        name="subscription_bought_via_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(_on_postgresql(KEYS), _on_postgresql(DROP_KEYS), elidable=False),
    ]
