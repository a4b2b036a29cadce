import uuid

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from portal.models import Membership, Role, Tenant, TenantOwnedQuerySet
from portal.regions import COUNTRY_CHOICES, REGIONS, TAX_ID, Region


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    CHECK_WIRE = "check_wire", "Check or wire transfer"


class ProfileRole(models.TextChoices):
    """Roles on one billing profile, as in the Microsoft billing profile model, strongest first."""

    OWNER = "owner", "Owner"
    CONTRIBUTOR = "contributor", "Contributor"
    INVOICE_MANAGER = "invoice_manager", "Invoice manager"
    READER = "reader", "Reader"

    @classmethod
    def strongest(cls, *roles: str | None) -> str | None:
        held = [role for role in roles if role]
        return min(held, key=cls.values.index) if held else None


# What a tenant-wide role amounts to on every profile of the tenant. A `member` has nothing
# tenant-wide: only the roles granted on a profile.
TENANT_ROLE_ON_PROFILES = {
    Role.ADMIN: ProfileRole.OWNER,
    Role.BILLING_ADMIN: ProfileRole.OWNER,
    Role.READER: ProfileRole.READER,
}


def _currency_matches_country() -> Q:
    """CHECK: the currency is the bill-to country's, from the one region table."""
    by_currency: dict[str, list[str]] = {}
    for region in REGIONS.values():
        by_currency.setdefault(region.currency.code, []).append(region.code)
    condition = Q()
    for currency, countries in sorted(by_currency.items()):
        condition |= Q(currency=currency, country__in=sorted(countries))
    return condition


class BillingProfileQuerySet(TenantOwnedQuerySet):
    def visible_to(self, membership: Membership):
        """The tenant's profiles the member may see, each with `held_role`: the role granted
        to them on it (None if none). Tenant admins, billing admins and readers see them all;
        a member only those where they hold a role."""
        profiles = self.for_tenant(membership.tenant)
        if membership.is_effective:  # a partner's user: billing admin, owns every profile
            return profiles.annotate(held_role=models.Value(None, models.CharField()))
        held = BillingProfileRole.objects.filter(profile=OuterRef("pk"), user=membership.user_id)
        profiles = profiles.annotate(held_role=Subquery(held.values("role")[:1]))
        if membership.role in TENANT_ROLE_ON_PROFILES:
            return profiles
        return profiles.filter(held_role__isnull=False)


class BillingProfile(models.Model):
    """How a tenant pays: who is billed, where, in which currency, and by what means.

    Only a card's display data is kept here; the card itself lives at Stripe.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="billing_profiles")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, editable=False)

    contact_name = models.CharField("Contact name", max_length=150)
    email = models.EmailField("Contact e-mail", max_length=254)
    phone = models.CharField(max_length=30)
    address_line1 = models.CharField("Address line 1", max_length=200)
    address_line2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField("State or province", max_length=100, blank=True)
    postal_code = models.CharField("Postal code", max_length=20)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES)

    invoice_emails = models.JSONField("Invoice e-mail recipients", default=list)
    po_number = models.CharField("PO number", max_length=50, blank=True)
    tax_id = models.CharField(TAX_ID, max_length=40, blank=True)

    payment_method = models.CharField(
        max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CHECK_WIRE
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True, editable=False)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True, editable=False)
    card_brand = models.CharField(max_length=20, blank=True, editable=False)
    card_last4 = models.CharField(max_length=4, blank=True, editable=False)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    is_default = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BillingProfileQuerySet.as_manager()

    # What people edit; the services keep the rest (currency, card, default).
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

    class Meta:
        ordering = ["-is_default", "name", "pk"]
        constraints = [
            # What a role's composite foreign key (profile, tenant) points at, so a role is
            # always of its profile's tenant (the key itself: migration 0002, PostgreSQL).
            models.UniqueConstraint(fields=["id", "tenant"], name="billing_profile_id_tenant"),
            # What a subscription's composite foreign key (profile, currency) points at: a
            # subscription is billed in its profile's currency, and a profile that bills one
            # keeps its currency (subscriptions migration 0001, PostgreSQL).
            models.UniqueConstraint(fields=["id", "currency"], name="billing_profile_id_currency"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(is_default=True),
                name="billing_profile_one_default_per_tenant",
            ),
            models.UniqueConstraint("tenant", Lower("name"), name="billing_profile_name_unique_ci"),
            models.CheckConstraint(condition=~Q(name=""), name="billing_profile_name_given"),
            models.CheckConstraint(
                condition=Q(country__in=sorted(REGIONS)),
                name="billing_profile_country_supported",
            ),
            models.CheckConstraint(
                condition=_currency_matches_country(),
                name="billing_profile_currency_of_country",
            ),
            models.CheckConstraint(
                condition=Q(payment_method__in=PaymentMethod.values),
                name="billing_profile_payment_method_valid",
            ),
            # A card on file has its display data, and display data has a card behind it.
            models.CheckConstraint(
                condition=(
                    Q(stripe_payment_method_id="", card_last4="")
                    | (~Q(stripe_payment_method_id="") & Q(card_last4__regex=r"^[0-9]{4}$"))
                ),
                name="billing_profile_card_whole",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.currency = self.region.currency.code
        super().save(*args, **kwargs)

    @property
    def region(self) -> Region:
        return REGIONS[self.country]

    @property
    def has_card(self) -> bool:
        return bool(self.stripe_payment_method_id)

    @property
    def pays_by_card(self) -> bool:
        return self.payment_method == PaymentMethod.CARD

    @property
    def needs_card(self) -> bool:
        """Set to pay by card, with no card on file (never added, or Stripe lost it)."""
        return self.pays_by_card and not self.has_card

    @property
    def can_pay_by_card(self) -> bool:
        """Pays by card and has one on file to charge."""
        return self.pays_by_card and self.has_card

    def default_refusal(self) -> str:
        """Why this profile can't become the tenant's default ("" when it can)."""
        if self.is_default:
            return f"{self.name} is already the default billing profile."
        if self.needs_card:
            return (
                f"{self.name} pays by card but has no card yet: "
                "add one before making it the default."
            )
        return ""

    def delete_refusal(self) -> str:
        """Why the profile can't be deleted, short of what uses it ("" when it can)."""
        if self.is_default and BillingProfile.objects.for_tenant(self.tenant_id).count() > 1:
            return f"{self.name} is the default profile: make another profile the default first."
        return ""

    @property
    def card_label(self) -> str:
        """ "Visa ending 4242", or "" without a card."""
        if not self.has_card:
            return ""
        return f"{self.card_brand.replace('_', ' ').title()} ending {self.card_last4}"

    @property
    def card_expiry(self) -> str:
        if not (self.card_exp_month and self.card_exp_year):
            return ""
        return f"{self.card_exp_month:02d}/{self.card_exp_year}"

    @property
    def address_lines(self) -> list[str]:
        locality = " ".join(part for part in (self.city, self.state, self.postal_code) if part)
        lines = [self.address_line1, self.address_line2, locality, self.region.name]
        return [line for line in lines if line]

    def uses(self) -> list[str]:
        """What depends on this profile (subscriptions, charges, invoices), as people name
        it; empty when nothing does. Any model that points at a profile counts, except its
        roles, so a new one cannot be forgotten here."""
        found = []
        for relation in self._meta.related_objects:
            if relation.related_model is BillingProfileRole or relation.many_to_many:
                continue
            rows = relation.related_model._base_manager.filter(**{relation.field.name: self})
            if rows.exists():
                found.append(str(relation.related_model._meta.verbose_name_plural))
        return found

    @property
    def currency_is_fixed(self) -> bool:
        """The currency (so the country's region) may no longer change once anything uses
        the profile."""
        return self.pk is not None and bool(self.uses())

    def country_refusal(self, country: str) -> str:
        """Why the profile can't move to `country` ("" when it can): once it is in use its
        currency is fixed, so only a country billed in the same currency will do. The form,
        the service and the page ask this one method."""
        proposed = REGIONS[country].currency.code
        if not self.currency or proposed == self.currency or not self.currency_is_fixed:
            return ""
        return (
            f"This profile is in use, so it stays billed in {self.currency}: "
            f"choose a country billed in {self.currency}."
        )


class BillingProfileRoleQuerySet(TenantOwnedQuerySet):
    def for_profile(self, profile: BillingProfile):
        return self.filter(profile=profile)


class BillingProfileRole(models.Model):
    """A role granted to one person on one billing profile of their tenant.

    `tenant` is copied from the profile on save; on PostgreSQL a composite foreign key
    (profile_id, tenant_id) -> billing profile (id, tenant_id) refuses any other.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="billing_profile_roles", editable=False
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    profile = models.ForeignKey(BillingProfile, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_profile_roles"
    )
    role = models.CharField(max_length=20, choices=ProfileRole.choices)
    granted_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = BillingProfileRoleQuerySet.as_manager()

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "user"], name="billing_role_one_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=ProfileRole.values), name="billing_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} is {self.get_role_display()} of {self.profile}"

    def save(self, *args, **kwargs):
        self.tenant_id = self.profile.tenant_id
        super().save(*args, **kwargs)


class StripeEvent(models.Model):
    """A Stripe webhook event handled once: a replay of the same id changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_id} {self.type}"
