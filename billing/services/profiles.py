"""Billing profiles: create, edit, make default, delete."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import Actor
from portal.models import Tenant

from .. import stripe_gateway
from ..models import BillingProfile
from ._common import audit as _audit
from ._common import locked as _locked

log = logging.getLogger(__name__)


def _lock_tenant(tenant) -> None:
    """Changes to a tenant's set of profiles (which one is the default, their names) take
    the tenant's row lock first, so two requests cannot both pass the checks below."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk").get()


def _name_taken(profile: BillingProfile) -> bool:
    others = BillingProfile.objects.for_tenant(profile.tenant).exclude(pk=profile.pk)
    return others.filter(name__iexact=profile.name).exists()


def _editable(values: dict) -> dict:
    unknown = set(values) - set(BillingProfile.EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable on a billing profile: {', '.join(sorted(unknown))}")
    return values


def _name_error(profile: BillingProfile) -> ValidationError:
    return ValidationError({"name": f"There is already a profile named {profile.name}."})


def billing_profile_create(*, tenant, values: dict, payment_method: str, actor: Actor):
    """A new profile from validated form values; a tenant's first profile is its default."""
    profile = BillingProfile(tenant=tenant, payment_method=payment_method, **_editable(values))
    with transaction.atomic():
        _lock_tenant(tenant)
        if _name_taken(profile):
            raise _name_error(profile)
        profile.is_default = not BillingProfile.objects.for_tenant(tenant).exists()
        profile.save()
        _audit(
            profile,
            actor,
            "billing_profile.create",
            {
                "currency": profile.currency,
                "country": profile.country,
                "payment_method": payment_method,
                "default": profile.is_default,
            },
        )
    return profile


def billing_profile_update(*, profile: BillingProfile, values: dict, actor: Actor):
    """Save edited fields; the currency follows the country unless something uses the profile."""
    with transaction.atomic():
        _lock_tenant(profile.tenant)
        profile = _locked(profile)
        changed = {
            field: value
            for field, value in _editable(values).items()
            if getattr(profile, field) != value
        }
        if not changed:
            return profile
        for field, value in changed.items():
            setattr(profile, field, value)
        if _name_taken(profile):
            raise _name_error(profile)
        if "country" in changed and profile.region.currency.code != profile.currency:
            if refusal := profile.country_refusal(profile.country):
                raise ValidationError({"country": refusal})
            changed["currency"] = profile.region.currency.code
        profile.save(update_fields=[*changed, "currency", "updated_at"])
        _audit(profile, actor, "billing_profile.change", {"changed": sorted(changed)})
    return profile


def billing_profile_make_default(*, profile: BillingProfile, actor: Actor) -> BillingProfile:
    with transaction.atomic():
        _lock_tenant(profile.tenant)
        profile = _locked(profile)
        if profile.is_default:
            return profile
        if refusal := profile.default_refusal():  # a card profile without its card
            raise ValidationError(refusal)
        BillingProfile.objects.for_tenant(profile.tenant).filter(is_default=True).update(
            is_default=False
        )
        profile.is_default = True
        profile.save(update_fields=["is_default", "updated_at"])
        _audit(profile, actor, "billing_profile.make_default")
    return profile


def billing_profile_delete(*, profile: BillingProfile, actor: Actor) -> None:
    """Delete a profile nothing uses, and the default only when it is the last. Its Stripe
    customer (and card) is deleted once the deletion has committed."""
    with transaction.atomic():
        _lock_tenant(profile.tenant)
        profile = _locked(profile)
        uses = profile.uses()
        if uses:
            raise ValidationError(f"{profile.name} is still used by {', '.join(uses)}.")
        if refusal := profile.delete_refusal():
            raise ValidationError(refusal)
        _audit(profile, actor, "billing_profile.delete", {"currency": profile.currency})
        customer_id = profile.stripe_customer_id
        profile.delete()
        if customer_id:
            transaction.on_commit(lambda: _delete_customer_quietly(customer_id))


def _delete_customer_quietly(customer_id: str) -> None:
    """The profile is gone; a Stripe customer left behind holds a card nothing charges."""
    try:
        stripe_gateway.customer_delete(customer_id)
    except stripe_gateway.StripeFailure as error:
        log.warning("Could not delete Stripe customer %s: %s", customer_id, error)
