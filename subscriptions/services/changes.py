"""What admins change on a subscription besides its status: licenses, billing profile,
auto-renew and name. Each locks the row, checks, writes, audits, in one transaction."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from billing.models import BillingProfile, ChargeKind
from billing.proration import prorate
from billing.services import charge_create, credit_create
from portal.audit import Actor, audit_record
from portal.money import format_money
from publishers.models import Plan

from ..lifecycle import Status
from ..models import OperationAction, OperationSource, OperationStatus, Subscription
from .common import (
    ChangeRefused,
    describe,
    licenses,
    locked,
    money,
    recheck,
    utc_day,
)
from .outbox import ask_publisher, awaits_publisher, tell_publisher

# A decrease applies at once, with a credit, this soon after activation or a renewal.
DECREASE_NOW_WINDOW = datetime.timedelta(days=7)


@dataclass(frozen=True)
class QuantityQuote:
    """What changing to `new` licenses does: when, and what it costs or gives back."""

    old: int
    new: int
    currency: str
    when: str  # "now" or "renewal"
    amount: int = 0  # minor units: > 0 charged, < 0 credited
    since: datetime.date | None = None  # the first day charged or credited
    renews_on: datetime.date | None = None
    pending: bool = False  # not set up yet
    publisher: str = ""  # set when the change waits for this publisher's answer

    @property
    def kind(self) -> str:
        return ChargeKind.ADD_QUANTITY if self.amount > 0 else ChargeKind.REMOVE_QUANTITY

    @property
    def explanation(self) -> str:
        count, amount = licenses(self.new), format_money(abs(self.amount), self.currency)
        if self.publisher:
            effect = self._effect(count, amount)
            return (
                f"{effect} {self.publisher} confirms the change first: until then, nothing changes."
            )
        return self._effect(count, amount)

    @property
    def done(self) -> str:
        """What the admin is told once the change is asked for: sent, when it waits for the
        publisher (its answer may come at once, or never: the app page tells which)."""
        if self.publisher:
            effect = self._effect(licenses(self.new), format_money(abs(self.amount), self.currency))
            return f"Sent to {self.publisher} to confirm. Once confirmed: {effect}"
        return self.explanation

    def _effect(self, count: str, amount: str) -> str:
        if self.when == "renewal":
            return (
                f"You keep {licenses(self.old)} until the term ends; from the renewal on "
                f"{self.renews_on:%-d %B %Y} you have {count}, and pay for {count}."
            )
        if self.amount > 0:
            return f"{count} from today: {amount} is charged now for the rest of this term."
        if self.amount < 0:
            return f"{count} from today: {amount} for the unused part of this term is credited."
        if self.old == self.new:
            return f"You keep {count}: the decrease scheduled for the renewal is canceled."
        if self.pending:
            return f"{count}: nothing is charged until the publisher sets the app up."
        return f"{count} from today: nothing is left of this term to charge or credit."

    def matches(self, other: "QuantityQuote") -> bool:
        """Whether `other` (what the person reviewed) says the same as this one."""
        fields = ("old", "new", "when", "amount")
        return all(getattr(self, f) == getattr(other, f) for f in fields)


def _bounds_refusal(subscription: Subscription, quantity: int) -> str:
    plan = subscription.plan
    if not plan.min_quantity <= quantity <= plan.max_quantity:
        return f"Choose {plan.min_quantity:,} to {plan.max_quantity:,} licenses."
    return ""


def quantity_quote(
    subscription: Subscription, quantity: int, now=None, *, by_publisher: bool = False
) -> QuantityQuote:
    """What changing the subscription to `quantity` licenses would do now, or ChangeRefused.
    Pending set-up, it just changes (the publisher activates the new number). Active: an
    increase applies now with a prorated charge; a decrease waits for the renewal, except
    within 7 days of activation or the last renewal, when it applies now with a prorated
    credit. A decrease the publisher made (`by_publisher`, the Fulfillment API) applies now
    with a prorated credit: the publisher decided it. The form shows it;
    `subscription_change_quantity` does it: one rule.

    A customer's change to an active app whose publisher takes webhooks waits for the
    publisher's answer (the quote names the publisher), and a second one is refused
    meanwhile; the publisher's own changes go ahead (the waiting one then ends Conflict)."""
    now = now or timezone.now()
    if not subscription.is_per_seat:
        raise ChangeRefused("This app has unlimited licenses: there is no quantity to change.")
    if subscription.status not in (Status.PENDING_ACTIVATION, Status.ACTIVE):
        word = subscription.get_status_display().lower()
        raise ChangeRefused(f"An app that is {word} can't change its license quantity.")
    if not by_publisher and (waiting := change_waiting(subscription)):
        raise ChangeRefused(
            f"{waiting_words(subscription, waiting)}: you can change the quantity again "
            "once it has answered.",
            code="waiting",
        )
    if refusal := _bounds_refusal(subscription, quantity):
        raise ChangeRefused(refusal, code="bounds")
    old = subscription.quantity
    quote = {"old": old, "new": quantity, "currency": subscription.currency}
    scheduled = subscription.scheduled_quantity
    # The customer's "unchanged" is also the decrease already scheduled; the publisher's
    # decrease to that number applies now, as its decreases do.
    unchanged = quantity == old and (scheduled is None or by_publisher)
    if unchanged or (quantity == scheduled and not by_publisher):
        raise ChangeRefused(f"The app already has {licenses(quantity)}.", code="unchanged")
    if not by_publisher and awaits_publisher(subscription, None):
        quote["publisher"] = subscription.plan.app.publisher.name
    if subscription.is_pending or quantity == old:
        return QuantityQuote(**quote, when="now", pending=subscription.is_pending)
    today = utc_day(now)
    share = prorate(
        subscription.unit_amount * abs(quantity - old),
        term_start=subscription.term_start,
        term_end=subscription.term_end,
        on=today,
    )
    if quantity > old:
        return QuantityQuote(**quote, when="now", amount=share, since=today)
    if by_publisher or now - subscription.term_started_at <= DECREASE_NOW_WINDOW:
        return QuantityQuote(**quote, when="now", amount=-share, since=today)
    if not subscription.auto_renew:
        raise ChangeRefused(
            "This app is set not to renew, so a decrease at renewal would never apply: turn "
            "auto-renew on first, or keep the licenses until the app expires.",
            code="no_renewal",
        )
    return QuantityQuote(**quote, when="renewal", renews_on=subscription.term_end)


def subscription_change_quantity(
    *,
    subscription: Subscription,
    quantity: int,
    actor: Actor,
    now=None,
    expected: QuantityQuote | None = None,
    check=None,
    by_publisher: bool = False,
) -> tuple[Subscription, QuantityQuote]:
    """Change the number of licenses as `quantity_quote` says, charging or crediting it;
    or, when the quote names a publisher, ask it: the change waits InProgress for its
    answer (`confirm`) and nothing is charged yet. `expected` is the quote the person
    confirmed: if the locked row now says otherwise (another change came first, the 7-day
    window closed), nothing is done. `by_publisher`: the publisher made the change through
    the API (a decrease applies now)."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = locked(subscription)
        recheck(sub, check)
        quote = quantity_quote(sub, quantity, now, by_publisher=by_publisher)
        if expected is not None and not quote.matches(expected):
            raise ChangeRefused(
                f"This app changed since you reviewed it: {quote.explanation} Review it again.",
                code="stale",
            )
        if quote.publisher:
            ask_publisher(sub, quote.new, actor, now)
            audit_record(
                tenant=sub.tenant,
                actor=actor,
                verb="subscription.change_quantity_requested",
                target=sub,
                data=_quantity_data(sub, quote),
                at=now,
            )
        else:
            quantity_apply(sub, quote, actor, now)
    return sub, quote


def _quantity_data(sub: Subscription, quote: QuantityQuote) -> dict:
    data = {"name": sub.name, "from": quote.old, "to": quote.new}
    if quote.when == "renewal":
        data["applies"] = f"at renewal on {sub.term_end}"
    return data


def change_waiting(subscription: Subscription):
    """The customer's quantity change still waiting for the publisher's answer, or None."""
    return (
        subscription.operations.filter(
            status=OperationStatus.IN_PROGRESS,
            source=OperationSource.CUSTOMER,
            action=OperationAction.CHANGE_QUANTITY,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def waiting_words(subscription: Subscription, operation) -> str:
    """ "Waiting for Contoso Ltd. to confirm 12 licenses" """
    publisher = subscription.plan.app.publisher.name
    return f"Waiting for {publisher} to confirm {licenses(operation.quantity)}"


def quantity_apply(
    sub: Subscription, quote: QuantityQuote, actor: Actor, now, *, confirmed: str = ""
) -> None:
    """The change itself, on the locked row: at once, or when the publisher `confirmed` it
    (how, in words; its operation then is the one that waited, and no webhook is sent)."""
    data = _quantity_data(sub, quote)
    if confirmed:
        data["confirmed"] = confirmed
    if quote.when == "renewal":
        sub.scheduled_quantity = quote.new
    else:
        sub.quantity, sub.scheduled_quantity = quote.new, None
    sub.save(update_fields=["quantity", "scheduled_quantity"])
    if quote.amount:
        data["charge" if quote.amount > 0 else "credit"] = money(abs(quote.amount), sub.currency)
        changed = abs(quote.new - quote.old)
        description = describe(sub, quote.since, sub.term_end, quantity=changed)
        if quote.amount > 0:
            charge_create(
                at=now,
                profile=sub.billing_profile,
                subscription_uuid=sub.uuid,
                plan=sub.plan,
                kind=ChargeKind.ADD_QUANTITY,
                description=f"Added: {description}",
                quantity=changed,
                unit_amount=sub.unit_amount,
                amount=quote.amount,
                period_start=quote.since,
                period_end=sub.term_end,
            )
        else:
            credit_create(
                at=now,
                subscription_uuid=sub.uuid,
                term_end=sub.term_end,
                kind=ChargeKind.REMOVE_QUANTITY,
                description=f"Removed: {description}",
                quantity=changed,
                unit_amount=sub.unit_amount,
                amount=-quote.amount,
                period_start=quote.since,
            )
    audit_record(
        tenant=sub.tenant,
        actor=actor,
        verb="subscription.change_quantity",
        target=sub,
        data=data,
        at=now,
    )
    if not sub.is_pending and quote.when == "now" and not confirmed:
        tell_publisher(sub, "change_quantity", actor, now)


def _changeable(sub: Subscription) -> None:
    if sub.is_disabled:
        raise ChangeRefused("A disabled app can't be changed. Buy it again to keep using it.")


def profile_move_refusal(subscription: Subscription, profile: BillingProfile) -> str:
    """Why the subscription can't be paid by `profile` from now on ("" when it can)."""
    if profile.pk == subscription.billing_profile_id:
        return f"{profile.name} already pays for this app."
    if profile.tenant_id != subscription.tenant_id:
        return "Choose one of your billing profiles."
    if profile.currency != subscription.currency:
        return (
            f"This app is billed in {subscription.currency}: choose a profile billed in "
            f"{subscription.currency}."
        )
    if profile.needs_card:
        return f"{profile.name} pays by card but has no card yet: add one first."
    return ""


def subscription_change_billing_profile(
    *, subscription: Subscription, profile: BillingProfile, actor: Actor, check=None
) -> Subscription:
    """Later charges go to `profile` (those already made stay where they are)."""
    with transaction.atomic():
        sub = locked(subscription)
        _changeable(sub)
        recheck(sub, check)
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        if refusal := profile_move_refusal(sub, profile):
            raise ChangeRefused(refusal)
        old = sub.billing_profile
        sub.billing_profile = profile
        sub.save(update_fields=["billing_profile"])
        audit_record(
            tenant=sub.tenant,
            actor=actor,
            verb="subscription.change_billing_profile",
            target=sub,
            data={"name": sub.name, "from": old.name, "to": profile.name},
        )
    return sub


def subscription_set_auto_renew(
    *, subscription: Subscription, auto_renew: bool, actor: Actor, check=None
) -> Subscription:
    """Renew at term end, or let the app expire then (a decrease scheduled for the renewal
    goes with it: it would never apply)."""
    with transaction.atomic():
        sub = locked(subscription)
        _changeable(sub)
        recheck(sub, check)
        if sub.auto_renew == auto_renew:
            return sub
        sub.auto_renew = auto_renew
        data = {"name": sub.name, "from": not auto_renew, "to": auto_renew}
        if not auto_renew and sub.scheduled_quantity is not None:
            data["scheduled_decrease_dropped"] = sub.scheduled_quantity
            sub.scheduled_quantity = None
        sub.save(update_fields=["auto_renew", "scheduled_quantity"])
        audit_record(
            tenant=sub.tenant, actor=actor, verb="subscription.auto_renew", target=sub, data=data
        )
    return sub


def subscription_rename(
    *, subscription: Subscription, name: str, actor: Actor, check=None
) -> Subscription:
    """The name the tenant knows the app by on its pages (the form has cleaned it)."""
    with transaction.atomic():
        sub = locked(subscription)
        _changeable(sub)
        recheck(sub, check)
        if sub.name == name:
            return sub
        old, sub.name = sub.name, name
        sub.save(update_fields=["name"])
        audit_record(
            tenant=sub.tenant,
            actor=actor,
            verb="subscription.rename",
            target=sub,
            data={"name": name, "from": old, "to": name},
        )
    return sub


def plan_change_refusal(subscription: Subscription, plan: Plan) -> str:
    """Why the subscription can't move to `plan` ("" when it can): another plan of the same
    app and term that its customer can see, on sale, priced in its currency, and (per
    license) taking its quantity."""
    if plan.pk == subscription.plan_id:
        return "The subscription is on this plan already."
    if plan.app_id != subscription.plan.app_id or plan.term != subscription.term:
        return "The new plan must be another plan of the same app, with the same term."
    if plan.is_stop_sell:
        return f"The plan {plan.plan_id} is no longer sold."
    if not Plan.objects.visible_to(subscription.tenant).filter(pk=plan.pk).exists():
        return "No such plan for this customer."
    if not plan.prices.filter(currency=subscription.currency).exists():
        return f"The plan {plan.plan_id} has no price in {subscription.currency}."
    for quantity, what in (
        (subscription.quantity, "has"),
        (subscription.scheduled_quantity, "is set to renew with"),
    ):
        if quantity is not None and not plan.min_quantity <= quantity <= plan.max_quantity:
            return (
                f"The plan {plan.plan_id} takes {plan.min_quantity:,} to {plan.max_quantity:,} "
                f"licenses; the subscription {what} {quantity:,}."
            )
    return ""


def subscription_change_plan(
    *, subscription: Subscription, plan: Plan, actor: Actor, now=None
) -> Subscription:
    """Move an active subscription to another plan of its app (`plan_change_refusal`) from
    today: one `change_plan` charge of the prorated difference, the new plan's remaining
    part less the old plan's unused part (negative when the new plan is cheaper), and its
    unit price from now on the new plan's."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = locked(subscription)
        _changeable(sub)
        if sub.status != Status.ACTIVE:
            raise ChangeRefused("Only an active app can change its plan.")
        if refusal := plan_change_refusal(sub, plan):
            raise ChangeRefused(refusal)
        old_plan, old_unit = sub.plan, sub.unit_amount
        new_unit = plan.prices.get(currency=sub.currency).amount
        today, count = utc_day(now), sub.quantity or 1
        term = {"term_start": sub.term_start, "term_end": sub.term_end, "on": today}
        difference = prorate(new_unit * count, **term) - prorate(old_unit * count, **term)
        sub.plan, sub.unit_amount = plan, new_unit
        sub.save(update_fields=["plan", "unit_amount"])
        data = {"name": sub.name, "from": old_plan.name, "to": plan.name}
        if difference and today < sub.term_end:
            data["charge" if difference > 0 else "credit"] = money(abs(difference), sub.currency)
            served = describe(sub, today, sub.term_end)
            charge_create(
                at=now,
                profile=sub.billing_profile,
                subscription_uuid=sub.uuid,
                plan=plan,
                kind=ChargeKind.CHANGE_PLAN,
                description=f"Plan changed from {old_plan.name}: {served}",
                quantity=sub.quantity,
                unit_amount=new_unit,
                amount=difference,
                period_start=today,
                period_end=sub.term_end,
            )
        audit_record(
            tenant=sub.tenant,
            actor=actor,
            verb="subscription.change_plan",
            target=sub,
            data=data,
            at=now,
        )
        tell_publisher(sub, "change_plan", actor, now)
    return sub
