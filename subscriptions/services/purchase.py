"""Buying: a new subscription, pending set-up in the publisher's portal. Nothing is charged
until the publisher activates it (`subscription_activate`)."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import BillingProfile
from portal.audit import Actor, audit_record
from portal.links import tenant_url
from portal.models import Tenant
from portal.tasks import send_email
from publishers.models import Plan, Price

from ..models import BoughtVia, Subscription
from .common import licenses, money
from .outbox import tell_publisher


class PurchaseRefused(ValidationError):
    """A purchase the catalog, the profile or the quantity does not allow; nothing written.
    `field` names the form field the message belongs to ("" for the whole form)."""

    def __init__(self, message: str, field: str = ""):
        self.field = field
        super().__init__(message, code="purchase_refused")


def purchase_refusal(
    *,
    tenant: Tenant,
    plan: Plan,
    profile: BillingProfile,
    quantity: int | None,
    negotiated: bool = False,
) -> PurchaseRefused | None:
    """Why the tenant can't buy `plan` paid by `profile` with `quantity` licenses, or None.
    The form, the purchase and a proposal's acceptance ask this one function. A plan on
    offer is visible to the tenant, not stop-sell, of a published app of an active
    publisher, and priced in the tenant's currency unless its price was `negotiated`."""
    app = plan.app
    plans = Plan.objects.on_sale_to(tenant) if negotiated else Plan.objects.offered_to(tenant)
    offered = plans.filter(pk=plan.pk)
    if not offered.exists():
        return PurchaseRefused(
            f"{app.name}: {plan.name} can't be bought: it isn't on offer to you."
        )
    if profile.tenant_id != tenant.pk:
        return PurchaseRefused("Choose one of your billing profiles.", "billing_profile")
    if profile.currency != tenant.currency:
        return PurchaseRefused(
            f"{profile.name} bills in {profile.currency}; apps are sold to you in "
            f"{tenant.currency}. Choose a profile billed in {tenant.currency}.",
            "billing_profile",
        )
    if profile.needs_card:
        return PurchaseRefused(
            f"{profile.name} pays by card but has no card yet: add one, or choose another profile.",
            "billing_profile",
        )
    if plan.pricing_model != app.pricing_model:  # a plan saved before its app changed
        return PurchaseRefused(f"{app.name}: {plan.name} can't be bought just now.")
    if app.is_per_seat:
        if quantity is None or not plan.min_quantity <= quantity <= plan.max_quantity:
            return PurchaseRefused(
                f"Choose {plan.min_quantity:,} to {plan.max_quantity:,} licenses.", "quantity"
            )
    elif quantity is not None:
        return PurchaseRefused("This plan has unlimited licenses: give no quantity.", "quantity")
    return None


def subscription_create(
    *,
    tenant: Tenant,
    plan: Plan,
    profile: BillingProfile,
    quantity: int | None,
    unit_amount: int,
    via: str,
    actor: Actor,
    now=None,
    purchase_key: uuid.UUID | None = None,
    proposal_line=None,
) -> Subscription:
    """The new subscription, pending set-up, its audit event and the publisher's word, in
    the caller's transaction, which has checked the purchase."""
    subscription = Subscription.objects.create(
        tenant=tenant,
        plan=plan,
        name=plan.app.name,
        term=plan.term,
        quantity=quantity,
        unit_amount=unit_amount,
        currency=profile.currency,
        billing_profile=profile,
        bought_via=via,
        bought_by=actor.user,
        bought_by_partner=actor.partner if via == BoughtVia.PARTNER else None,
        purchase_key=purchase_key,
        proposal_line=proposal_line,
        created_at=now or timezone.now(),
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="subscription.buy",
        target=subscription,
        at=subscription.created_at,
        data={
            "name": subscription.name,
            "plan": plan.name,
            "quantity": licenses(quantity),
            "price": money(subscription.term_amount, subscription.currency),
            "billing_profile": profile.name,
            **({"bought_via": via} if via != BoughtVia.DIRECT else {}),
        },
    )
    tell_publisher(subscription, "buy", actor, subscription.created_at)
    return subscription


def subscription_buy(
    *,
    tenant: Tenant,
    plan: Plan,
    profile: BillingProfile,
    quantity: int | None,
    purchase_key: uuid.UUID,
    actor: Actor,
    now=None,
    send_confirmation: bool = True,
) -> tuple[Subscription, bool]:
    """Buy `plan` for the tenant, paid by `profile`, at the plan's price in its currency:
    a subscription pending set-up, and whether this call made it. The same `purchase_key`
    again (a confirmation sent twice, even at the same moment) returns the first one.
    The buyer gets one confirmation e-mail (the demo's seed sends none)."""

    def already_bought():
        found = Subscription.objects.for_tenant(tenant).filter(purchase_key=purchase_key).first()
        if found is not None and (found.plan_id, found.bought_by_id) != (
            plan.pk,
            getattr(actor.user, "pk", None),
        ):
            raise PurchaseRefused("This form was used for another purchase: reload the page.")
        return found

    if (existing := already_bought()) is not None:
        return existing, False
    via = BoughtVia.PARTNER if actor.partner is not None else BoughtVia.DIRECT
    try:
        with transaction.atomic():
            # Locked, so its currency and card can't change between the check and the row.
            profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
            refusal = purchase_refusal(tenant=tenant, plan=plan, profile=profile, quantity=quantity)
            if refusal is not None:
                raise refusal
            price = Price.objects.get(plan=plan, currency=profile.currency)
            subscription = subscription_create(
                tenant=tenant,
                plan=plan,
                profile=profile,
                quantity=quantity,
                unit_amount=price.amount,
                via=via,
                actor=actor,
                now=now,
                purchase_key=purchase_key,
            )
            if actor.user is not None and send_confirmation:
                confirm_by_email(subscription, actor.user.email)
    except IntegrityError:
        # The same key at the same moment: the other request bought it.
        if (existing := already_bought()) is None:
            raise
        return existing, False
    return subscription, True


def confirm_by_email(subscription: Subscription, to: str) -> None:
    """The purchase confirmation, sent once the purchase commits, with the set-up link: a
    page whose button makes the marketplace token (a link fetched ahead makes none)."""
    slug, uuid = subscription.tenant.slug, subscription.uuid
    context = {
        "subscription": subscription,
        "url": settings.PORTAL_BASE_URL
        + tenant_url("subscriptions:detail", slug, subscription_uuid=uuid),
        "setup_url": settings.PORTAL_BASE_URL
        + tenant_url("subscriptions:handoff", slug, subscription_uuid=uuid),
    }
    publisher = subscription.plan.app.publisher.name
    subject = f"You bought {subscription.name}: set it up in {publisher}'s portal"
    body = render_to_string("subscriptions/purchase_email.txt", context)
    html = render_to_string("subscriptions/purchase_email.html", context)
    transaction.on_commit(lambda: send_email.delay(subject, body, [to], html), robust=True)
