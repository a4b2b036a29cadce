"""Subscriptions: a tenant's purchase of one plan, paid by one of its billing profiles.

The status moves only through the transition services and their set-based twins, each
checked against `lifecycle.MOVES`. The database holds what must always be true: per-license
subscriptions have 1 to 10,000 licenses and flat-rate ones none; a disabled subscription has
a reason and a time, no other status has a reason; the subscription's tenant and currency are
its billing profile's (on PostgreSQL a composite foreign key each, see migration 0001).
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import TENANT_ROLE_ON_PROFILES, BillingProfile
from portal.models import Tenant, TenantOwnedQuerySet
from publishers.models import MAX_SEATS, MIN_SEATS, Plan, Price, PricingModel, Term

from ..lifecycle import DisabledReason, Status


class BoughtVia(models.TextChoices):
    DIRECT = "direct", "Bought in the Marketplace"
    PARTNER = "partner", "Bought by a partner"
    PROPOSAL = "proposal", "Bought from a proposal"


class AppsSort:
    """The Apps list's columns to sort by: `?sort=renews` or `?sort=-renews`."""

    FIELDS = {
        "name": ("Name", "name"),
        "publisher": ("Publisher", "plan__app__publisher__name"),
        "plan": ("Plan", "plan__name"),
        "licenses": ("Licenses", "quantity"),
        "status": ("Status", "status"),
        "renews": ("Renews or expires", "term_end"),
        "profile": ("Billing profile", "billing_profile__name"),
        "price": ("Price per term", "term_price"),
    }
    CHOICES = [
        (f"{sign}{key}", f"{label}{' (descending)' if sign else ''}")
        for key, (label, _) in FIELDS.items()
        for sign in ("", "-")
    ]

    @classmethod
    def order(cls, value: str) -> list[str]:
        """ORDER BY for `value`: the column, then name and id, so pages never repeat a row."""
        key = value.removeprefix("-")
        column = cls.FIELDS.get(key, cls.FIELDS["name"])[1]
        descending = value.startswith("-")
        first = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        return [first, "name", "pk"]


# What the Apps list reads (SubscriptionQuerySet.listed): the subscription's own columns,
# and its plan's, app's, publisher's and billing profile's names by the names its rows take.
LISTED_FIELDS = (
    "pk",
    "uuid",
    "name",
    "pricing_model",
    "term",
    "quantity",
    "scheduled_quantity",
    "unit_amount",
    "currency",
    "status",
    "term_end",
    "auto_renew",
    "term_price",
)
LISTED_NAMES = {
    "plan_name": F("plan__name"),
    "app_name": F("plan__app__name"),
    "publisher_name": F("plan__app__publisher__name"),
    "profile_name": F("billing_profile__name"),
}


class SubscriptionQuerySet(TenantOwnedQuerySet):
    def visible_to(self, membership):
        """The tenant's subscriptions the member may see: all of them for tenant admins,
        billing admins and readers (and a partner's people); for a member, those paid by a
        billing profile they hold a role on."""
        subscriptions = self.for_tenant(membership.tenant)
        if membership.role in TENANT_ROLE_ON_PROFILES or membership.is_effective:
            return subscriptions
        profiles = BillingProfile.objects.visible_to(membership).values("pk")
        return subscriptions.filter(billing_profile__in=profiles)

    def active(self):
        return self.filter(status=Status.ACTIVE)

    def with_term_price(self):
        """Annotate the price of a whole term at today's quantity (`term_price`)."""
        return self.annotate(term_price=F("unit_amount") * Coalesce("quantity", 1))

    def with_renewal_price(self):
        """Annotate what the next renewal charges: `renewal_quantity` (a scheduled decrease
        applied), `renewal_unit_amount` (`renewal_unit_amount()`) and `renewal_amount`."""
        return self.annotate(
            renewal_quantity=Coalesce("scheduled_quantity", "quantity"),
            renewal_unit_amount=renewal_unit_amount(),
        ).annotate(renewal_amount=F("renewal_unit_amount") * Coalesce("renewal_quantity", 1))

    def listed(self, pks) -> list["SubscriptionRow"]:
        """The Apps list's rows of the subscriptions `pks`, in that order: what the list
        shows of each, and nothing more, in one query and without model instances."""
        found = self.with_term_price().filter(pk__in=pks).order_by()
        found = found.values(*LISTED_FIELDS, **LISTED_NAMES)
        rows = {values["pk"]: SubscriptionRow(**values) for values in found}
        return [rows[pk] for pk in pks if pk in rows]

    def matching(self, *, text="", status="", publisher="", profile="", pricing_model=""):
        """Those whose app, publisher or own name contains `text`, with the status, the
        publisher and billing profile (by uuid) and the pricing model asked for. The
        catalog's side is asked first, so the subscriptions are filtered without a join."""
        found = self
        if text := text.strip():
            plans = Plan.objects.filter(
                Q(app__name__icontains=text) | Q(app__publisher__name__icontains=text)
            )
            found = found.filter(Q(name__icontains=text) | Q(plan__in=plans.values("pk")))
        if status:
            found = found.filter(status=status)
        if publisher:
            plans = Plan.objects.filter(app__publisher__uuid=publisher)
            found = found.filter(plan__in=plans.values("pk"))
        if profile:
            found = found.filter(billing_profile__uuid=profile)
        if pricing_model:
            found = found.filter(pricing_model=pricing_model)
        return found

    def sorted_by(self, sort: str):
        return self.order_by(*AppsSort.order(sort))

    def due_by(self, day):
        """Active subscriptions whose term has ended by `day`: those a sweep renews or lets
        expire, overdue ones (a day the sweep missed) included."""
        return self.active().filter(term_end__lte=day)

    def renewing_between(self, start, end):
        """Active subscriptions set to renew whose term ends on a day in [start, end)."""
        return self.active().filter(auto_renew=True, term_end__gte=start, term_end__lt=end)


def renewal_unit_amount():
    """The unit price a renewal takes, as an expression on a subscription row: the plan's
    price of the day in the subscription's currency, or the frozen one when the plan no
    longer has a price in it. The renewal service, the sweep and the Renewals page use it."""
    prices = Price.objects.filter(plan=OuterRef("plan"), currency=OuterRef("currency"))
    return Coalesce(Subquery(prices.values("amount")[:1]), F("unit_amount"))


class SubscriptionFacts:
    """What a subscription's own columns say: one home for the model and for the Apps
    list's rows (`SubscriptionRow`), which read the same columns without a model."""

    __slots__ = ()

    @property
    def is_per_seat(self) -> bool:
        return self.pricing_model == PricingModel.PER_SEAT

    @property
    def is_disabled(self) -> bool:
        return self.status == Status.DISABLED

    @property
    def is_suspended(self) -> bool:
        return self.status == Status.SUSPENDED

    @property
    def is_pending(self) -> bool:
        return self.status == Status.PENDING_ACTIVATION

    @property
    def status_tone(self) -> str:
        """The status's colour class beside its word ("status-ok")."""
        return {
            Status.PENDING_ACTIVATION: "status-info",
            Status.ACTIVE: "status-ok",
            Status.SUSPENDED: "status-warn",
            Status.DISABLED: "status-off",
        }[self.status]

    @property
    def renewal_phrase(self) -> str:
        """When the app renews or stops, as the Apps list says it: "Renews 2 Jan 2027"."""
        if self.is_disabled:
            return "—"
        if self.term_end is None:
            return "After set-up"
        if self.is_suspended and self.auto_renew:
            return f"Not while suspended (term ends {self.term_end:%-d %b %Y})"
        if not self.auto_renew:
            return f"Expires after {self.last_day:%-d %b %Y}"
        return f"Renews {self.term_end:%-d %b %Y}"

    @property
    def term_amount(self) -> int:
        """The price of a whole term at today's quantity, in minor units."""
        return self.unit_amount * (self.quantity or 1)

    @property
    def last_day(self) -> datetime.date | None:
        """The term's last day (its `term_end` is the next term's first)."""
        return self.term_end - datetime.timedelta(days=1) if self.term_end else None


class SubscriptionRow(SubscriptionFacts):
    """One row of the Apps list (`SubscriptionQuerySet.listed`): the subscription's columns
    it shows and the names of its plan, app, publisher and billing profile."""

    __slots__ = (*LISTED_FIELDS, *LISTED_NAMES)

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

    def get_status_display(self) -> str:
        return Status(self.status).label


# What the database checks (the model's constraints below).
_QUANTITY = Q(
    pricing_model=PricingModel.FLAT_RATE, quantity__isnull=True, scheduled_quantity__isnull=True
) | Q(
    Q(scheduled_quantity__isnull=True)
    | Q(scheduled_quantity__gte=MIN_SEATS, scheduled_quantity__lt=F("quantity")),
    pricing_model=PricingModel.PER_SEAT,
    quantity__isnull=False,  # a CHECK passes on NULL, so say it
    quantity__gte=MIN_SEATS,
    quantity__lte=MAX_SEATS,
)
_DISABLED = Q(
    status=Status.DISABLED, disabled_reason__in=DisabledReason.values, disabled_at__isnull=False
) | (~Q(status=Status.DISABLED) & Q(disabled_reason="", disabled_at__isnull=True))
_TERM = (
    Q(
        status=Status.PENDING_ACTIVATION,
        activated_at__isnull=True,
        term_started_at__isnull=True,
        term_start__isnull=True,
        term_end__isnull=True,
    )
    | Q(
        status__in=[Status.ACTIVE, Status.SUSPENDED],
        activated_at__isnull=False,
        term_started_at__isnull=False,
        term_start__isnull=False,
        term_end__isnull=False,
        term_end__gt=F("term_start"),
    )
    | Q(status=Status.DISABLED)
)
_PARTNER = Q(bought_via=BoughtVia.PARTNER, bought_by_partner__isnull=False) | (
    ~Q(bought_via=BoughtVia.PARTNER) & Q(bought_by_partner__isnull=True)
)


class Subscription(SubscriptionFacts, models.Model):
    uuid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The id publishers see."
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    name = models.CharField(max_length=200)
    # Copied from the plan on save, so the database can check the quantity against it.
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices, editable=False)
    # Frozen at purchase: a later edit of the plan's term changes no subscription's terms.
    term = models.CharField(max_length=3, choices=Term.choices)
    quantity = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    scheduled_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="A decrease that applies at the next renewal."
    )
    # Frozen at purchase: the plan's price in the billing profile's currency, per license
    # (per-seat) or per term (flat rate), in minor units. A renewal takes the day's price.
    unit_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    billing_profile = models.ForeignKey(
        BillingProfile, on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING_ACTIVATION
    )
    disabled_reason = models.CharField(max_length=20, choices=DisabledReason.choices, blank=True)
    # While suspended for non-payment: the overdue invoice it waits on (paid, it is reinstated).
    suspended_for = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    term_start = models.DateField(null=True, blank=True)
    term_end = models.DateField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True)
    bought_via = models.CharField(max_length=10, choices=BoughtVia.choices)
    bought_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    bought_by_partner = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    # When the current term began: at activation, then at each renewal as it happened (a
    # late sweep or a reinstatement renews after the term's first day). The windows that
    # count from "the last renewal" count from here.
    term_started_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # The key the purchase form carried: a confirmation sent twice buys once.
    purchase_key = models.UUIDField(null=True, blank=True, editable=False)
    # The proposal line it was bought from (bought_via "proposal"); one subscription each.
    proposal_line = models.OneToOneField(
        "subscriptions.ProposalLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscription",
        editable=False,
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["status", "term_end"], name="subscription_due"),
            # The Fulfillment API's list: one keyset seek per plan of the publisher.
            models.Index(fields=["plan", "id"], name="subscription_plan_keyset"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purchase_key"], name="subscription_purchase_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="subscription_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(term__in=Term.values), name="subscription_term_valid"
            ),
            models.CheckConstraint(condition=_QUANTITY, name="subscription_quantity_fits"),
            models.CheckConstraint(condition=_DISABLED, name="subscription_disabled_has_reason"),
            models.CheckConstraint(
                condition=Q(suspended_for__isnull=True) | Q(status=Status.SUSPENDED),
                name="subscription_suspended_for_while_suspended",
            ),
            models.CheckConstraint(condition=_TERM, name="subscription_term_when_activated"),
            models.CheckConstraint(
                condition=Q(bought_via__in=BoughtVia.values) & _PARTNER,
                name="subscription_bought_via_valid",
            ),
            models.CheckConstraint(
                condition=Q(bought_via=BoughtVia.PROPOSAL, proposal_line__isnull=False)
                | (~Q(bought_via=BoughtVia.PROPOSAL) & Q(proposal_line__isnull=True)),
                name="subscription_proposal_has_line",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pricing_model = self.plan.pricing_model
        self.term = self.term or self.plan.term
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "pricing_model"}
        super().save(*args, **kwargs)

    @property
    def anchor_day(self) -> int | None:
        """The day of the month the first term started (the UTC day of activation): every
        later term ends on it, or on the month's last day when the month is shorter."""
        if self.activated_at is None:
            return None
        return self.activated_at.astimezone(datetime.UTC).day

    @property
    def status_meaning(self) -> str:
        """What the status means for the people using the app, in one plain sentence."""
        publisher = self.plan.app.publisher.name
        if self.status == Status.PENDING_ACTIVATION:
            return (
                f"Bought, not set up yet: set it up in {publisher}'s portal to start using it. "
                "Billing starts when the publisher activates it."
            )
        if self.status == Status.ACTIVE:
            return "Active: your people can use it."
        if self.status == Status.SUSPENDED:
            invoice = self.suspended_for.number if self.suspended_for_id else "an invoice"
            return (
                f"Suspended: invoice {invoice} is overdue. No one can use it until the "
                "invoice is paid."
            )
        since = f"{self.disabled_at:%-d %B %Y}" if self.disabled_at else ""
        why = {
            DisabledReason.CANCELED: "it was canceled",
            DisabledReason.EXPIRED: "its term ended without renewal",
            DisabledReason.NON_PAYMENT: "its invoice was not paid",
        }.get(self.disabled_reason, "")
        return (
            f"Disabled since {since} because {why}. A disabled app can't be reactivated: "
            "buy it again to keep using it."
        )
