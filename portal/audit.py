"""Who did something, and the append-only record of it.

Every service takes an `Actor` and calls `audit_record` inside its transaction, so the
record commits or rolls back with the change it describes.
"""

import re
from dataclasses import dataclass
from datetime import UTC

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from .client_ip import client_ip
from .exports import csv_lines
from .models import ActorType, AuditEvent, Tenant, User
from .money import format_money


@dataclass(frozen=True)
class Actor:
    type: str
    label: str
    user: User | None = None
    partner: Tenant | None = None  # the partner tenant the user acted for
    ip: str | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        membership = getattr(request, "membership", None)
        return cls(
            type=ActorType.USER,
            label=request.user.email,
            user=request.user,
            partner=membership.via_partner if membership is not None else None,
            ip=client_ip(request),
        )

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(type=ActorType.SYSTEM, label=label)


def audit_event(
    *,
    tenant: Tenant | None = None,
    actor: Actor,
    verb: str,
    target=None,
    data: dict | None = None,
    at=None,
    target_type: str = "",
    target_id: str = "",
    tenant_id: int | None = None,
) -> AuditEvent:
    """The record of a change, not yet saved: `audit_record` saves one, a set-based sweep
    saves many at once (`audit_record_many`). The target is a model instance, or, where the
    caller has only rows, its `target_type` (app label and model) and `target_id` (and
    `tenant_id` for `tenant`)."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(getattr(target, "uuid", None) or getattr(target, "pk", ""))
    return AuditEvent(
        **({"created_at": at} if at is not None else {}),
        tenant_id=tenant.pk if tenant is not None else tenant_id,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        actor_partner=actor.partner,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        data=data or {},
        ip=actor.ip,
    )


def audit_record(**event) -> AuditEvent:
    """Record a change; `tenant=None` is an operator-side change (catalog, publishers).
    `at` is the clock of a service that was given one (tests, the demo's seed)."""
    record = audit_event(**event)
    record.save(force_insert=True)
    return record


def audit_record_many(events: list[AuditEvent]) -> None:
    """Record many changes in one statement per thousand (the set-based sweeps)."""
    AuditEvent.objects.bulk_create(events, batch_size=1000)


# The one table of actions in words: every verb a service records.
ACTIONS = {
    "tenant.create": "Tenant created",
    "tenant.change": "Tenant changed",
    "partner.add": "Partner added",
    "partner.end": "Partner relationship ended",
    "member.add": "Member added",
    "invitation.create": "Invitation sent",
    "invitation.resend": "Invitation sent again",
    "invitation.cancel": "Invitation canceled",
    "invitation.accept": "Invitation accepted",
    "invitation.decline": "Invitation declined",
    "member.change_role": "Member's role changed",
    "member.remove": "Member removed",
    "billing_profile.create": "Billing profile created",
    "billing_profile.change": "Billing profile changed",
    "billing_profile.make_default": "Billing profile made default",
    "billing_profile.delete": "Billing profile deleted",
    "billing_profile.payment_method": "Payment method changed",
    "billing_profile.stripe_customer": "Billing profile connected to Stripe",
    "billing_profile.card_set": "Card saved",
    "billing_profile.card_removed": "Card removed",
    "billing_profile.role_grant": "Billing role granted",
    "billing_profile.role_revoke": "Billing role revoked",
    "invoice.issue": "Invoice issued",
    "credit_note.issue": "Credit note issued",
    "credit_note.refund": "Credit note refunded to the card",
    "invoice.payment": "Payment recorded",
    "invoice.void": "Invoice voided",
    "invoice.overdue": "Invoice overdue: its apps suspended",
    "invoice.uncollectible": "Invoice written off as uncollectible",
    "subscription.buy": "App bought",
    "subscription.change_quantity": "License quantity changed",
    "subscription.change_quantity_requested": "License quantity change sent to the publisher",
    "subscription.change_quantity_declined": "The publisher declined the change",
    "subscription.change_quantity_dropped": "License quantity change overtaken",
    "subscription.change_billing_profile": "App's billing profile changed",
    "subscription.auto_renew": "Auto-renew changed",
    "subscription.rename": "App renamed",
    "subscription.activate": "App activated",
    "proposal.create": "Proposal received",
    "proposal.change": "Proposal changed",
    "proposal.accept": "Proposal accepted",
    "proposal.decline": "Proposal declined",
    "subscription.renew": "App renewed",
    "subscription.suspend": "App suspended",
    "subscription.reinstate": "App reinstated",
    "subscription.cancel": "App canceled",
    "subscription.handoff": "Sent to the publisher's portal",
    "subscription.change_plan": "Plan changed",
    "subscription.expire": "App expired",
    "subscription.disable_for_non_payment": "App disabled for non-payment",
    "publisher.webhook_secret_rotate": "Webhook secret rotated",
    "publisher.secret_create": "API client secret created",
    "publisher.secret_revoke": "API client secret revoked",
    "publisher.webhook_replay": "Webhook sent again",
    # Catalog edits in the Django admin (publishers/admin.py: <model>.<create|change|delete>).
    "publisher.create": "Publisher created",
    "publisher.change": "Publisher changed",
    "publisher.delete": "Publisher deleted",
    "app.create": "App created",
    "app.change": "App changed",
    "app.delete": "App deleted",
    "plan.create": "Plan created",
    "plan.change": "Plan changed",
    "plan.delete": "Plan deleted",
    "price.create": "Price added",
    "price.change": "Price changed",
    "price.delete": "Price removed",
}

# Data keys that name the target, first found wins; they are not repeated in the details.
TARGET_KEYS = ("profile", "email", "name", "partner")
# Data keys never shown: whether an address had an account is no one's business.
HIDDEN_KEYS = {"new_user"}
KEY_WORDS = {
    "email": "Person",
    "role": "Role",
    "changed": "Changed",
    "expires": "Expires",
    "replaced": "Replaced card",
    "default": "Default",
    "payment_method": "Payment method",
    "currency": "Currency",
    "country": "Country",
    "plan": "Plan",
    "quantity": "Licenses",
    "price": "Price per term",
    "billing_profile": "Billing profile",
    "applies": "Applies",
    "charge": "Charged",
    "credit": "Credited",
    "bought_via": "Bought",
    "scheduled_decrease_dropped": "Scheduled decrease dropped",
    "why": "Why",
    "confirmed": "Confirmed",
    "number": "Number",
    "total": "Total",
}
# A from/to pair is a change of this field.
FROM_TO_FIELD = {
    "member.change_role": "role",
    **{
        f"subscription.{t}": "status"
        for t in (
            "activate",
            "renew",
            "suspend",
            "reinstate",
            "cancel",
            "expire",
            "disable_for_non_payment",
        )
    },
    "billing_profile.payment_method": "payment_method",
    "billing_profile.role_grant": "role",
    "subscription.change_quantity": "quantity",
    "subscription.change_quantity_requested": "quantity",
    "subscription.change_quantity_declined": "quantity",
    "subscription.change_quantity_dropped": "quantity",
    "subscription.change_billing_profile": "billing_profile",
    "subscription.auto_renew": "auto_renew",
    "subscription.rename": "name",
}
# Which model's fields give the words and choices of a verb's data, when not the target's.
DATA_MODEL = {
    "billing_profile.role_grant": "billing.billingprofilerole",
    "billing_profile.role_revoke": "billing.billingprofilerole",
}
STRIPE_ID = re.compile(
    r"\b(?:cus|pm|seti|pi|evt|ch|in|card|src|sub|re|txn|acct|tok|cs|prod|price|si|whsec)_"
    r"[A-Za-z0-9]+\b"
)


def action_words(verb: str) -> str:
    """The action as people say it; an unknown verb reads as itself in words."""
    if verb in ACTIONS:
        return ACTIONS[verb]
    return verb.replace(".", " ").replace("_", " ").strip().capitalize()


@dataclass(frozen=True)
class Detail:
    label: str
    value: str = ""
    old: str = ""
    new: str = ""
    is_change: bool = False

    def __str__(self):
        if self.is_change:
            return f"{self.label}: {self.old or 'empty'} → {self.new or 'empty'}"
        return f"{self.label}: {self.value}"


def _model(event):
    for label in (DATA_MODEL.get(event.verb), event.target_type):
        if label:
            try:
                return apps.get_model(label)
            except (LookupError, ValueError):
                pass
    return None


def _field(model, key):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def _label(model, key) -> str:
    field = _field(model, key)
    if key in KEY_WORDS:
        return KEY_WORDS[key]
    if field is not None and hasattr(field, "verbose_name"):
        return str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:]
    return key.replace("_", " ").capitalize()


def _text(model, key, value) -> str:
    """A value as people read it: choices in words, no Python reprs, no Stripe ids."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(t for t in (_text(model, key, v) for v in value) if t)
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return format_money(int(value["amount"]), str(value["currency"]))  # a service's money
    if isinstance(value, dict):
        return ", ".join(f"{_label(model, k)} {_text(model, k, v)}" for k, v in value.items())
    field = _field(model, key)
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    text = str(choices.get(value, value))
    return " ".join(STRIPE_ID.sub("", text).split())


def event_target(event) -> str:
    """The target's name, from what the event recorded about it."""
    for key in TARGET_KEYS:
        value = event.data.get(key)
        if value and isinstance(value, str):
            return _text(None, key, value)
    return ""


def event_kind(event) -> str:
    """The target's kind as people say it ("Billing profile")."""
    try:
        name = str(apps.get_model(event.target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return ""
    return name[:1].upper() + name[1:]


def event_details(event) -> list[Detail]:
    """What the event says beyond its action and target, old → new for changes."""
    model = _model(event)
    data = dict(event.data)
    target_key = next((k for k in TARGET_KEYS if data.get(k) and isinstance(data[k], str)), None)
    data.pop(target_key, None)
    details = []
    if "from" in data or "to" in data:
        key = FROM_TO_FIELD.get(event.verb, "value")
        old, new = _text(model, key, data.pop("from", None)), _text(model, key, data.pop("to", ""))
        data.pop(key, None)
        if old:
            details.append(Detail(_label(model, key), old=old, new=new, is_change=True))
        else:
            details.append(Detail(_label(model, key), value=new))
    changes = data.pop("changes", None)
    if isinstance(changes, dict):
        for key, pair in changes.items():
            old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else ("", pair)
            details.append(
                Detail(
                    _label(model, key),
                    old=_text(model, key, old),
                    new=_text(model, key, new),
                    is_change=True,
                )
            )
    if isinstance(data.get("changed"), list):
        data["changed"] = [_label(model, key) for key in data["changed"]]
    if event.verb == "billing_profile.card_set" and data.get("replaced"):
        details.append(
            Detail("Card", old=_text(model, "card", data.pop("replaced")), new="", is_change=True)
        )
        details[-1] = Detail(
            "Card",
            old=details[-1].old,
            new=_text(model, "card", data.pop("card", "")),
            is_change=True,
        )
    for key, value in data.items():
        if key in HIDDEN_KEYS:
            continue
        text = _text(model, key, value) if key != "changed" else ", ".join(value)
        if text:
            details.append(Detail(_label(model, key), value=text))
    return details


CSV_COLUMNS = ["Time (UTC)", "Actor", "Action", "Target", "Details", "IP address"]


def audit_csv_rows(events):
    """CSV lines of the events, header first, one at a time (for a streaming response)."""
    return csv_lines(CSV_COLUMNS, (_csv_row(event) for event in events.iterator(chunk_size=500)))


def _csv_row(event) -> list[str]:
    actor = event.actor_label
    if event.actor_partner_id:
        actor += f" (partner {event.actor_partner.name})"
    target = " · ".join(t for t in (event_target(event), event_kind(event)) if t)
    return [
        event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        actor,
        action_words(event.verb),
        target,
        "; ".join(str(d) for d in event_details(event)),
        event.ip or "",
    ]
