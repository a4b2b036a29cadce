"""Every write to the catalog: one function per use case.

The Django admin, commands and tests call these; each owns its transaction.
"""

from dataclasses import dataclass

from django.db import transaction

from portal.audit import Actor, audit_record
from portal.models import Tenant

from .catalog_file import AppSpec, Catalog, CatalogError, PlanSpec, PublisherSpec
from .models import App, Plan, Price, Publisher, new_webhook_secret, pricing_model_refusal


def publisher_rotate_webhook_secret(*, publisher: Publisher, actor: Actor) -> Publisher:
    """Give the publisher a new webhook signing secret; the old one stops working at once.
    Audited as an operator record, without the secret."""
    with transaction.atomic():
        publisher.webhook_secret = new_webhook_secret()
        publisher.save(update_fields=["webhook_secret"])
        audit_record(
            tenant=None,
            actor=actor,
            verb="publisher.webhook_secret_rotate",
            target=publisher,
            data={"name": publisher.name},
        )
    return publisher


@dataclass
class CatalogSummary:
    """What a catalog load found in the file, and what it did to the rows."""

    publishers: int = 0
    apps: int = 0
    plans: int = 0
    prices: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0  # prices of named plans that the file no longer lists

    def count(self, created: bool, changed: bool):
        if created:
            self.created += 1
        elif changed:
            self.changed += 1
        else:
            self.unchanged += 1

    def __str__(self):
        removed = f", {self.removed} removed" if self.removed else ""
        return (
            f"{self.publishers} publishers, {self.apps} apps, {self.plans} plans, "
            f"{self.prices} prices ({self.created} created, {self.changed} changed, "
            f"{self.unchanged} unchanged{removed})"
        )


class _DryRun(Exception):
    pass


def catalog_load(*, catalog: Catalog, dry_run: bool = False) -> CatalogSummary:
    """Create or update the publishers, apps, plans and prices of a checked catalog, all or
    nothing. A row whose values already match is not written. Webhook secrets are kept.
    With dry_run, everything is done and counted, then rolled back."""
    summary = CatalogSummary()
    try:
        with transaction.atomic():
            tenants = _tenants(catalog)
            for publisher_spec in catalog.publishers:
                publisher = _publisher(publisher_spec, summary)
                for app_spec in publisher_spec.apps:
                    app = _app(publisher, app_spec, summary)
                    for plan_spec in app_spec.plans:
                        _plan(app, plan_spec, tenants, summary)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return summary


def _get_or_create(queryset, keys: dict, values: dict):
    """(row, created, changed): the row of `keys` created with `values`, or updated to them
    with one UPDATE of the fields that differ (none when all match)."""
    row, created = queryset.select_for_update().get_or_create(**keys, defaults=values)
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not created and changed:
        for name in changed:
            setattr(row, name, values[name])
        row.save(update_fields=changed)
    return row, created, bool(changed) and not created


def _tenants(catalog: Catalog) -> dict[str, Tenant]:
    slugs = {
        slug
        for publisher in catalog.publishers
        for app in publisher.apps
        for plan in app.plans
        for slug in plan.private_for
    }
    tenants = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=slugs)}
    if missing := sorted(slugs - set(tenants)):  # deleted since the file was checked
        raise CatalogError([f"{catalog.name}: unknown tenant {slug!r}" for slug in missing])
    return tenants


def _publisher(spec: PublisherSpec, summary: CatalogSummary) -> Publisher:
    publisher, created, changed = _get_or_create(
        Publisher.objects, {"slug": spec.slug}, spec.values
    )
    summary.publishers += 1
    summary.count(created, changed)
    return publisher


def _app(publisher: Publisher, spec: AppSpec, summary: CatalogSummary) -> App:
    saved = App.objects.keeping_pricing_model().filter(publisher=publisher, offer_id=spec.offer_id)
    kept = saved.values_list("pricing_model", flat=True).first()
    if refusal := pricing_model_refusal(kept=kept, wanted=spec.values["pricing_model"]):
        raise CatalogError([f"{spec.where}.pricing_model: {refusal}"])  # changed since checked
    app, created, changed = _get_or_create(
        App.objects, {"publisher": publisher, "offer_id": spec.offer_id}, spec.values
    )
    summary.apps += 1
    summary.count(created, changed)
    return app


def _plan(app: App, spec: PlanSpec, tenants: dict, summary: CatalogSummary) -> Plan:
    values = spec.values | {"is_private": bool(spec.private_for)}
    plan, created, changed = _get_or_create(
        Plan.objects, {"app": app, "plan_id": spec.plan_id}, values
    )
    allowed = {tenants[slug].pk for slug in spec.private_for}
    current = set() if created else set(plan.allowed_tenants.values_list("pk", flat=True))
    if current != allowed:
        plan.allowed_tenants.set(allowed)
        changed = changed or not created
    summary.plans += 1
    summary.count(created, changed)
    _prices(plan, spec.prices, summary, new=created)
    return plan


def _prices(plan: Plan, amounts: dict[str, int], summary: CatalogSummary, *, new: bool):
    """The file is the truth about a plan's prices: create, update, and remove the others."""
    saved = {} if new else {price.currency: price for price in plan.prices.all()}
    missing = [
        Price(plan=plan, currency=currency, amount=amount)
        for currency, amount in amounts.items()
        if currency not in saved
    ]
    Price.objects.bulk_create(missing)
    summary.created += len(missing)
    for currency, amount in amounts.items():
        price = saved.get(currency)
        if price is None:
            continue
        if price.amount != amount:
            price.amount = amount
            price.save(update_fields=["amount"])
            summary.changed += 1
        else:
            summary.unchanged += 1
    summary.prices += len(amounts)
    gone = [price.pk for currency, price in saved.items() if currency not in amounts]
    if gone:
        summary.removed += Price.objects.filter(pk__in=gone).delete()[0]
