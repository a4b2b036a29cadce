"""The catalog: publishers, their apps (offers), plans and prices."""

import base64
import secrets
import uuid
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.core.validators import (
    FileExtensionValidator,
    RegexValidator,
    validate_email,
)
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.text import capfirst

from portal.regions import CURRENCIES

from ..addresses import webhook_url_problem
from ..cache import catalog_changed, invited_plan_ids

MIN_SEATS, MAX_SEATS = 1, 10_000  # a per-license plan's quantity bounds lie between these
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


def new_webhook_secret() -> str:
    """`whsec_` + standard base64 of 32 random bytes (Standard Webhooks); the key is the bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_email_list(value):
    # Codes of our own: a JSONField puts "Value must be valid JSON." over code "invalid".
    if not isinstance(value, list):
        raise ValidationError("Give a list of e-mail addresses.", code="not_a_list")
    for item in value:
        try:
            validate_email(item if isinstance(item, str) else "")
        except ValidationError:
            raise ValidationError(f"{item!r} is not an e-mail address.", code="email") from None


class CatalogQuerySet(models.QuerySet):
    """The catalog models' queryset: writes that send no signal still move the catalog
    version on (publishers.cache), so the Marketplace's cache never outlives them. Saves,
    deletes and m2m changes are announced by the signals publishers.apps connects."""

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            catalog_changed(using=self.db)
        return created

    def bulk_update(self, objs, *args, **kwargs):
        rows = super().bulk_update(objs, *args, **kwargs)
        if rows:
            catalog_changed(using=self.db)
        return rows

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            catalog_changed(using=self.db)
        return rows

    update.alters_data = True

    def delete(self):
        deleted = super().delete()
        if deleted[0]:
            catalog_changed(using=self.db)
        return deleted

    delete.alters_data = True
    delete.queryset_only = True


class MarketplaceSort(models.TextChoices):
    NAME = "name", "Name"
    LOWEST_PRICE = "price", "Lowest price"


class PricingModel(models.TextChoices):
    FLAT_RATE = "flat_rate", "Flat rate"
    PER_SEAT = "per_seat", "Per license"


class Term(models.TextChoices):
    MONTHLY = "P1M", "Monthly"
    ANNUAL = "P1Y", "Annual"


# The database's statement of quantity_bounds_problem: the plan_quantity_bounds constraint.
QUANTITY_BOUNDS = Q(
    pricing_model=PricingModel.FLAT_RATE, min_quantity__isnull=True, max_quantity__isnull=True
) | Q(
    pricing_model=PricingModel.PER_SEAT,
    min_quantity__isnull=False,  # NULL would make the CHECK pass
    max_quantity__isnull=False,
    min_quantity__gte=MIN_SEATS,
    max_quantity__gte=F("min_quantity"),
    max_quantity__lte=MAX_SEATS,
)


def quantity_bounds_problem(pricing_model, min_quantity, max_quantity) -> tuple[str, str] | None:
    """(field, message) for what is wrong with a plan's quantity bounds under its app's pricing
    model, or None: per-license plans give MIN_SEATS <= min <= max <= MAX_SEATS, flat-rate plans
    neither. The rule's one home: Plan.clean and the catalog file ask it, and QUANTITY_BOUNDS,
    the database's constraint, says the same in SQL (a test holds the two together)."""
    if pricing_model == PricingModel.FLAT_RATE:
        if min_quantity is not None or max_quantity is not None:
            return "min_quantity", "Flat-rate plans have unlimited licenses: leave empty."
    elif pricing_model == PricingModel.PER_SEAT:
        if min_quantity is None or max_quantity is None:
            return "min_quantity", "Per-license plans need a minimum and a maximum."
        if min_quantity > max_quantity:
            return "max_quantity", "The maximum is below the minimum."
        if min_quantity < MIN_SEATS or max_quantity > MAX_SEATS:
            field = "min_quantity" if min_quantity < MIN_SEATS else "max_quantity"
            return field, f"Per-license plans have {MIN_SEATS} to {MAX_SEATS:,} licenses."
    return None


def pricing_model_refusal(*, kept: str | None, wanted: str) -> str | None:
    """Why an app may not take the pricing model `wanted`, or None. `kept` is the saved
    pricing model of an app with plans (App.objects.keeping_pricing_model()), None for an app
    without plans or not saved: an app with plans keeps its pricing model, since their
    quantity bounds follow it. The rule's one home: App.clean, the catalog file and the
    catalog load ask it."""
    if kept is not None and kept != wanted:
        return f"the app has plans, so it keeps its pricing model {kept!r}"
    return None


class Category(models.TextChoices):
    ANALYTICS = "analytics", "Analytics"
    COLLABORATION = "collaboration", "Collaboration"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    DEVELOPER_TOOLS = "developer_tools", "Developer tools"
    FINANCE = "finance", "Finance"
    HUMAN_RESOURCES = "human_resources", "Human resources"
    MARKETING = "marketing", "Marketing"
    PRODUCTIVITY = "productivity", "Productivity"
    PROJECT_MANAGEMENT = "project_management", "Project management"
    SALES = "sales", "Sales"
    SECURITY = "security", "Security"


class Publisher(models.Model):
    """A company that sells apps through the marketplace."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    legal_name = models.CharField(max_length=200)
    address_line1 = models.CharField("address", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField("state or province", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}\Z", "Two capital letters, e.g. GB.")],
        help_text="ISO 3166-1 alpha-2 code, e.g. US",
    )
    support_url = models.URLField()
    support_email = models.EmailField()
    contact_emails = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_email_list],
        help_text='Addresses for operational notices, e.g. ["ops@publisher.example"].',
    )
    landing_page_url = models.URLField(
        help_text="Where admins are sent to activate and manage the publisher's apps."
    )
    # The OAuth client id its API clients send to /api/oauth2/token (with a PublisherSecret).
    client_id = models.UUIDField(default=uuid4, unique=True, editable=False)
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(
        max_length=60, unique=True, default=new_webhook_secret, editable=False
    )
    # The secret before the last rotation: webhooks are signed with both for
    # WEBHOOK_SECRET_OVERLAP after it, so the publisher can deploy the new one meanwhile.
    previous_webhook_secret = models.CharField(max_length=60, blank=True, editable=False)
    webhook_secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    auto_provisioning = models.BooleanField(
        default=False, help_text="Sent a Subscribe webhook after each purchase."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CatalogQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(webhook_secret__startswith="whsec_"), name="publisher_secret_whsec"
            ),
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="publisher_country_iso"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.contact_emails in (None, ""):
            self.contact_emails = []  # blank: no operational contacts
        validate_email_list(self.contact_emails)  # blank values skip field validators
        if self.webhook_url and (problem := webhook_url_problem(self.webhook_url)):
            raise ValidationError({"webhook_url": problem})

    @property
    def postal_address(self) -> str:
        """One line per part, as an invoice prints it."""
        city_line = " ".join(p for p in (self.postal_code, self.city, self.state) if p)
        parts = [self.legal_name, self.address_line1, self.address_line2, city_line, self.country]
        return "\n".join(p for p in parts if p)

    @property
    def webhook_key(self) -> bytes:
        """The HMAC key: the decoded bytes of the secret."""
        return base64.b64decode(self.webhook_secret.removeprefix("whsec_"))


class AppQuerySet(CatalogQuerySet):
    def keeping_pricing_model(self):
        """Apps whose pricing model may no longer change: those with plans."""
        return self.filter(Exists(Plan.objects.filter(app=OuterRef("pk"))))

    def offered_to(self, tenant):
        """Published apps of active publishers with at least one plan the tenant may buy.

        A semi-join, not a grouped one: a page of apps sorted by name stops after the first
        matches however large the catalog.
        """
        offered = Price.objects.offered_to(tenant).filter(plan__app=OuterRef("pk"))
        return self.filter(Exists(offered), is_published=True, publisher__is_active=True)

    def with_cheapest_offer(self, tenant):
        """Annotate each app's lowest price on offer to the tenant (`from_amount`) and that
        plan's term (`from_term`; a tie goes to the shorter term). Subqueries, so a page of
        24 costs 24 index lookups; a COUNT leaves them out."""
        cheapest = (
            Price.objects.offered_to(tenant)
            .filter(plan__app=OuterRef("pk"))
            .order_by("amount", "plan__term")
        )
        return self.annotate(
            from_amount=Subquery(cheapest.values("amount")[:1]),
            from_term=Subquery(cheapest.values("plan__term")[:1]),
        )

    def sorted_by(self, sort: str):
        """In the Marketplace's order: by name, or lowest price first (`with_cheapest_offer`
        annotates it); ties by name, then by id, so pages never repeat an app."""
        if sort == MarketplaceSort.LOWEST_PRICE:
            return self.order_by("from_amount", "name", "pk")
        return self.order_by("name", "pk")

    def matching(self, *, text="", category="", pricing_model=""):
        """Apps whose name or publisher contains `text`, of a category and pricing model."""
        apps = self
        if text.strip():
            apps = apps.filter(
                Q(name__icontains=text.strip()) | Q(publisher__name__icontains=text.strip())
            )
        if category:
            apps = apps.filter(category=category)
        if pricing_model:
            apps = apps.filter(pricing_model=pricing_model)
        return apps


class App(models.Model):
    """An offer: one app of a publisher, sold under one or more plans."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="apps")
    offer_id = models.SlugField(
        max_length=50, help_text="Stable identifier in the publisher API; never change it."
    )
    name = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    description = models.TextField()
    category = models.CharField(max_length=30, choices=Category.choices)
    # Raster images only: an SVG or HTML "logo" served from our origin could carry script.
    logo = models.FileField(
        upload_to="logos/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"])],
    )
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["publisher", "offer_id"], name="app_offer_unique"),
            models.CheckConstraint(
                condition=Q(pricing_model__in=PricingModel.values), name="app_pricing_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="app_category_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["is_published", "name", "id"], name="app_published_name_id")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        kept = None
        if self.pk:
            saved = App.objects.keeping_pricing_model().filter(pk=self.pk)
            kept = saved.values_list("pricing_model", flat=True).first()
        if refusal := pricing_model_refusal(kept=kept, wanted=self.pricing_model):
            raise ValidationError({"pricing_model": f"{capfirst(refusal)}."})

    @property
    def is_per_seat(self) -> bool:
        return self.pricing_model == PricingModel.PER_SEAT


def _visible(tenant, plan_ref="pk") -> Q:
    """Public plans, and private plans meant for this tenant (`plan_ref` names the plan).

    The invitations come from the catalog cache: a short list, not a subquery in every
    catalog query."""
    prefix = "" if plan_ref == "pk" else "plan__"
    return Q(**{f"{prefix}is_private": False}) | Q(**{f"{plan_ref}__in": invited_plan_ids(tenant)})


class PlanQuerySet(CatalogQuerySet):
    def visible_to(self, tenant):
        return self.filter(_visible(tenant))

    def offered_to(self, tenant):
        """Plans the tenant may buy: visible to it, on sale, priced in its currency, of a
        published app of an active publisher."""
        priced = Price.objects.filter(plan=OuterRef("pk"), currency=tenant.currency)
        return self.on_sale_to(tenant).filter(Exists(priced))

    def on_sale_to(self, tenant):
        """Plans the tenant may buy at some price: `offered_to` but for the price in its
        currency (a proposal's price is negotiated)."""
        return self.visible_to(tenant).filter(
            is_stop_sell=False, app__is_published=True, app__publisher__is_active=True
        )

    def with_price(self, currency):
        """Annotate each plan's price in the currency (`amount`, minor units)."""
        price = Price.objects.filter(plan=OuterRef("pk"), currency=currency)
        return self.annotate(amount=Subquery(price.values("amount")[:1]))


class Plan(models.Model):
    """How an app is sold: a term, and for per-license apps the quantity bounds."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="plans")
    plan_id = models.SlugField(
        max_length=50, help_text="Stable identifier in the publisher API; never change it."
    )
    name = models.CharField("display name", max_length=200)
    description = models.TextField(blank=True)
    term = models.CharField(max_length=3, choices=Term.choices)
    # Copied from the app on save, so the database can check the bounds against it. The
    # bounds have no field validators: Plan.clean asks quantity_bounds_problem, one message.
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices, editable=False)
    min_quantity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Per-license plans only.",
    )
    max_quantity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Per-license plans only.",
    )
    is_private = models.BooleanField(
        default=False, help_text="Offered only to the tenants listed below."
    )
    allowed_tenants = models.ManyToManyField(
        "portal.Tenant", blank=True, related_name="private_plans"
    )
    is_stop_sell = models.BooleanField(
        "stop sell", default=False, help_text="No new purchases; subscriptions continue."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["app_id", "term", "name"]
        constraints = [
            models.UniqueConstraint(fields=["app", "plan_id"], name="plan_id_unique_per_app"),
            models.CheckConstraint(condition=Q(term__in=Term.values), name="plan_term_valid"),
            models.CheckConstraint(
                condition=QUANTITY_BOUNDS,
                name="plan_quantity_bounds",
                violation_error_message=(
                    f"Per-license plans need {MIN_SEATS} ≤ minimum ≤ maximum ≤ {MAX_SEATS:,} "
                    "licenses; flat-rate plans have no quantity bounds."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.app.name}: {self.name}"

    def save(self, *args, **kwargs):
        self.pricing_model = self.app.pricing_model
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        try:
            self.pricing_model = self.app.pricing_model  # the app may be new, not yet saved
        except App.DoesNotExist:
            return  # the app field reports its own error
        if problem := quantity_bounds_problem(
            self.pricing_model, self.min_quantity, self.max_quantity
        ):
            field, message = problem
            raise ValidationError({field: message})


class PriceQuerySet(CatalogQuerySet):
    def offered_to(self, tenant):
        """Prices in the tenant's currency of the plans it may buy."""
        return self.filter(
            _visible(tenant, plan_ref="plan_id"),
            currency=tenant.currency,
            plan__is_stop_sell=False,
        )


class Price(models.Model):
    """A plan's price in one currency, in minor units: per term, per license for per-seat."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    amount = models.PositiveIntegerField(
        help_text="In the currency's minor unit (cents): 400 is 4.00."
    )

    objects = PriceQuerySet.as_manager()

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency"], name="price_one_per_currency"),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="price_amount_positive",
                violation_error_message="A price must be more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=list(CURRENCIES)), name="price_currency_supported"
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"
