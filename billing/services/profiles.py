"""Billing profiles: create, edit, make default, delete."""

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import Actor

from .. import stripe_gateway
from ..models import BillingProfile
from ._common import audit as _audit
from ._common import locked as _locked

EDITABLE_FIELDS = (
    "name",
    "contact_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "invoice_emails",
    "po_number",
    "tax_id",
)


def _name_taken(profile: BillingProfile) -> bool:
    others = BillingProfile.objects.for_tenant(profile.tenant).exclude(pk=profile.pk)
    return others.filter(name__iexact=profile.name).exists()


def billing_profile_create(*, tenant, values: dict, payment_method: str, actor: Actor):
    """A new profile from validated form values; a tenant's first profile is its default."""
    profile = BillingProfile(tenant=tenant, payment_method=payment_method, **values)
    if _name_taken(profile):
        raise ValidationError({"name": f"There is already a profile named {profile.name}."})
    with transaction.atomic():
        # Lock the tenant's profiles so two first profiles cannot both become the default.
        existing = list(
            BillingProfile.objects.for_tenant(tenant).select_for_update().values_list("pk")
        )
        profile.is_default = not existing
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
        profile = _locked(profile)
        changed = {
            field: value for field, value in values.items() if getattr(profile, field) != value
        }
        if not changed:
            return profile
        for field, value in changed.items():
            setattr(profile, field, value)
        if _name_taken(profile):
            raise ValidationError({"name": f"There is already a profile named {profile.name}."})
        if "country" in changed and profile.region.currency.code != profile.currency:
            if profile.currency_is_fixed:
                raise ValidationError(
                    {
                        "country": f"This profile is in use, so it stays billed in "
                        f"{profile.currency}: choose a country billed in {profile.currency}."
                    }
                )
            changed["currency"] = profile.region.currency.code
        profile.save(update_fields=[*changed, "currency", "updated_at"])
        _audit(profile, actor, "billing_profile.change", {"changed": sorted(changed)})
    return profile


def billing_profile_make_default(*, profile: BillingProfile, actor: Actor) -> BillingProfile:
    with transaction.atomic():
        profiles = BillingProfile.objects.for_tenant(profile.tenant).select_for_update()
        list(profiles.values_list("pk"))  # lock them all: the one-default rule spans rows
        profile = _locked(profile)
        if profile.is_default:
            return profile
        profiles.filter(is_default=True).update(is_default=False)
        profile.is_default = True
        profile.save(update_fields=["is_default", "updated_at"])
        _audit(profile, actor, "billing_profile.make_default")
    return profile


def billing_profile_delete(*, profile: BillingProfile, actor: Actor) -> None:
    """Delete a profile nothing uses. Its Stripe customer (and card) is deleted first, so a
    Stripe failure leaves the profile as it was."""
    uses = profile.uses()
    if uses:
        raise ValidationError(f"{profile.name} is still used by {', '.join(uses)}.")
    if profile.is_default and BillingProfile.objects.for_tenant(profile.tenant).count() > 1:
        raise ValidationError(
            f"{profile.name} is the default profile: make another profile the default first."
        )
    if profile.stripe_customer_id:
        stripe_gateway.customer_delete(profile.stripe_customer_id)
    with transaction.atomic():
        profile = _locked(profile)
        _audit(profile, actor, "billing_profile.delete", {"currency": profile.currency})
        profile.delete()
