"""Every write to the catalog: one function per use case.

The Django admin, commands and tests call these; each owns its transaction.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from portal.audit import Actor, audit_record
from portal.models import Tenant

from .catalog_file import AppSpec, Catalog, CatalogError, PlanSpec, PublisherSpec
from .credentials import token_for
from .models import (
    App,
    Plan,
    Price,
    Publisher,
    PublisherSecret,
    new_webhook_secret,
    pricing_model_refusal,
)
from .models.credentials import DEFAULT_LIFETIME, WARN_DAYS, new_client_secret, secret_hash

log = logging.getLogger(__name__)


def publisher_rotate_webhook_secret(*, publisher: Publisher, actor: Actor) -> Publisher:
    """Give the publisher a new webhook signing secret. Webhooks carry a signature by each,
    the new and the old, for WEBHOOK_SECRET_OVERLAP (a day), then by the new one only: the
    publisher deploys it meanwhile. Audited as an operator record, without the secret."""
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        publisher.previous_webhook_secret = publisher.webhook_secret
        publisher.webhook_secret = new_webhook_secret()
        publisher.webhook_secret_rotated_at = timezone.now()
        publisher.save(
            update_fields=["webhook_secret", "previous_webhook_secret", "webhook_secret_rotated_at"]
        )
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


# Publishers' API credentials (models/credentials.py, credentials.py).


def publisher_secret_create(
    *, publisher: Publisher, actor: Actor, lifetime=DEFAULT_LIFETIME, now=None
) -> tuple[PublisherSecret, str]:
    """A new client secret for the publisher, and the secret itself: shown this once, kept
    only as its hash. The publisher's other secrets keep working (rotation)."""
    now = now or timezone.now()
    secret = new_client_secret()
    with transaction.atomic():
        record = PublisherSecret.objects.create(
            publisher=publisher,
            secret_hash=secret_hash(secret),
            hint=secret[-4:],
            created_at=now,
            expires_at=now + lifetime,
        )
        audit_record(
            tenant=None,
            actor=actor,
            verb="publisher.secret_create",
            target=publisher,
            data={
                "name": publisher.name,
                "secret": f"…{record.hint}",
                "expires": f"{record.expires_at:%Y-%m-%d}",
            },
        )
    return record, secret


def publisher_secret_revoke(*, secret: PublisherSecret, actor: Actor, now=None) -> PublisherSecret:
    """The secret stops working at once, and so do the tokens issued with it."""
    with transaction.atomic():
        record = PublisherSecret.objects.select_for_update().get(pk=secret.pk)
        if record.revoked_at is None:
            record.revoked_at = now or timezone.now()
            record.save(update_fields=["revoked_at"])
            audit_record(
                tenant=None,
                actor=actor,
                verb="publisher.secret_revoke",
                target=record.publisher,
                data={"name": record.publisher.name, "secret": f"…{record.hint}"},
            )
    return record


def token_issue(*, client_id: str, client_secret: str, now=None) -> str | None:
    """An access token for a publisher's client id and one of its usable secrets, or None
    when they don't match (which part was wrong is not said)."""
    now = now or timezone.now()
    try:
        client = uuid.UUID(client_id)
    except (ValueError, TypeError, AttributeError):
        return None
    secret = (
        PublisherSecret.objects.usable(now)
        .filter(
            secret_hash=secret_hash(client_secret),
            publisher__client_id=client,
            publisher__is_active=True,
        )
        .first()
    )
    if secret is None:
        return None
    PublisherSecret.objects.filter(pk=secret.pk).update(last_used_at=now)
    return token_for(secret)


def publisher_secret_warnings(*, now=None) -> int:
    """E-mail each publisher's contacts about a secret that expires within 30, 7 or 1 days,
    once for each point (a missed day is caught up with one e-mail, the nearest point's);
    how many e-mails were sent. Revoked secrets get none. A warning is marked sent only
    once sent; one that fails is logged, and tried again by the next day's run."""
    now = now or timezone.now()
    today = now.astimezone(datetime.UTC).date()
    soon = PublisherSecret.objects.filter(
        revoked_at__isnull=True,
        expires_at__gt=now,
        expires_at__lt=now + datetime.timedelta(days=max(WARN_DAYS) + 1),
    )
    sent = 0
    for secret_id in soon.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                secret = (
                    PublisherSecret.objects.select_for_update()
                    .select_related("publisher")
                    .get(pk=secret_id)
                )
                days = (secret.expires_at.astimezone(datetime.UTC).date() - today).days
                due = [p for p in WARN_DAYS if days <= p and p not in secret.warned]
                if not due:
                    continue
                _warn(secret, days)
                secret.warned = sorted({*secret.warned, *due}, reverse=True)
                secret.save(update_fields=["warned"])
                sent += 1
        except Exception:
            log.exception("The expiry warning of publisher secret %s was not sent.", secret_id)
    return sent


def _warn(secret: PublisherSecret, days: int) -> None:
    publisher = secret.publisher
    to = publisher.contact_emails or [publisher.support_email]
    when = f"{secret.expires_at.astimezone(datetime.UTC):%-d %B %Y, %H:%M} UTC"
    in_days = "tomorrow" if days <= 1 else f"in {days} days"
    send_mail(
        f"Your marketplace API client secret …{secret.hint} expires {in_days}",
        render_to_string(
            "publishers/secret_expiry_email.txt",
            {"publisher": publisher, "secret": secret, "when": when, "in_days": in_days},
        ),
        None,
        to,
    )
