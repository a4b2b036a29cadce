"""What the ops commands share: reading --date and --tenant, refusing a bad one in a line."""

import datetime

from django.core.management.base import CommandError

from portal.models import Tenant


def day_option(value: str, example: str = "2027-01-31") -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date like {example}.") from None


def tenant_option(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"No tenant has the slug {slug!r}.")
    return tenant
