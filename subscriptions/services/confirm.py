"""The publisher's answer to a customer's change that waits for it (`changes`,
`outbox.ask_publisher`): an InProgress ChangeQuantity operation, its webhook sent.

- Accepted: the publisher PATCHes the operation `Success` (`operation_answer`), or says
  nothing for `SILENCE` after an attempt at its webhook first answered 2xx
  (`changes_confirm_silent`, run by the frequent periodic task and whenever the
  subscription is read, never by a task countdown, so it works with Celery eager too).
  The change then applies as `quantity_quote` says at that moment, charged or credited.
- Declined: a `Failure` PATCH, or a 4xx answer to the webhook (`publishers.signals.
  webhook_settled`, received here: publishers never imports subscriptions). Nothing
  changes, nothing is charged; the app page and its timeline say so.
- Failed: no attempt got a 2xx before the webhook's retries ran out. Nothing changes.
- Overtaken: a change that took effect first ends it `Conflict` (`operations.overtake`).
"""

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portal.audit import Actor, audit_record
from publishers.models import WebhookEvent, WebhookStatus

from ..models import Operation, OperationAction, OperationSource, OperationStatus, Subscription
from .changes import quantity_apply, quantity_quote, waiting_words
from .common import ChangeRefused, licenses, locked

SILENCE = datetime.timedelta(seconds=10)
BY_SILENCE = Actor.system("publisher's silence")
DECLINED = "The publisher declined the change."
UNANSWERED = "The publisher never received the change: its webhook failed."


def _waiting(operations):
    return operations.filter(
        status=OperationStatus.IN_PROGRESS,
        source=OperationSource.CUSTOMER,
        action=OperationAction.CHANGE_QUANTITY,
    )


def change_settle(
    *, operation: Operation, accepted: bool, actor: Actor, now=None, why: str = ""
) -> Operation:
    """End the waiting change `operation`: accepted, it applies now (or, when it no longer
    can, fails with the reason); declined (`why`, in words), nothing changes. With its
    subscription locked, in the caller's transaction; an operation no longer waiting is
    left as it is."""
    now = now or timezone.now()
    sub = locked(operation.subscription)
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if operation.status != OperationStatus.IN_PROGRESS:
        return operation
    operation.updated_at = now
    if not _waiting(Operation.objects.filter(pk=operation.pk)).exists():  # not a change of ours
        operation.status = OperationStatus.SUCCEEDED if accepted else OperationStatus.FAILED
        operation.save(update_fields=["status", "updated_at"])
        return operation
    if accepted:
        operation.status = OperationStatus.SUCCEEDED
        operation.save(update_fields=["status", "updated_at"])  # no longer waiting: the quote
        try:  # is the one the customer would get now
            quote = quantity_quote(sub, operation.quantity, now)
        except ChangeRefused as refused:
            why = " ".join(refused.messages)
        else:
            confirmed = "by its silence" if actor is BY_SILENCE else "by the publisher"
            quantity_apply(sub, quote, actor, now, confirmed=confirmed)
            return operation
    operation.status = OperationStatus.FAILED
    operation.error_message = (why or DECLINED)[:500]
    operation.save(update_fields=["status", "updated_at", "error_message"])
    audit_record(
        tenant=sub.tenant,
        actor=actor,
        verb="subscription.change_quantity_declined",
        target=sub,
        data={"name": sub.name, "to": operation.quantity, "why": operation.error_message},
        at=now,
    )
    return operation


class OperationRefused(Exception):
    """The publisher's answer to an operation can't be taken: `conflict` when a newer
    operation of the subscription has already completed (409), else it is not waiting for an
    answer (400)."""

    def __init__(self, message: str, *, conflict: bool = False):
        super().__init__(message)
        self.conflict = conflict


def operation_answer(
    *,
    operation: Operation,
    succeeded: bool,
    actor: Actor,
    plan_id=None,
    quantity=None,
    now=None,
) -> Operation:
    """The publisher accepts (`succeeded`) or refuses an operation waiting InProgress for its
    answer (`plan_id` and `quantity`, when given, must be the operation's). Call it in a
    transaction, with the operation's subscription locked: the rows it reads are then its
    own until the commit.

    The reference's order of checks: a newer completed operation of the same subscription
    first (409), then the status, then what the answer names (400); then the change it
    answers applies or is declined (`change_settle`)."""
    now = now or timezone.now()
    newer_done = (
        Operation.objects.filter(subscription_id=operation.subscription_id)
        .filter(
            Q(created_at__gt=operation.created_at)
            | Q(created_at=operation.created_at, pk__gt=operation.pk)
        )
        .exclude(status__in=(OperationStatus.NOT_STARTED, OperationStatus.IN_PROGRESS))
    )
    if operation.status == OperationStatus.CONFLICT or newer_done.exists():
        raise OperationRefused(
            "A newer operation of this subscription has already completed.", conflict=True
        )
    if operation.status != OperationStatus.IN_PROGRESS:
        raise OperationRefused(f"The operation is {operation.status}, not InProgress.")
    given = (plan_id or operation.plan_id, quantity or operation.quantity)
    if given != (operation.plan_id, operation.quantity):
        raise OperationRefused(
            f"planId and quantity, when given, must be the operation's: "
            f"{operation.plan_id!r} and {operation.quantity}."
        )
    return change_settle(operation=operation, accepted=succeeded, actor=actor, now=now)


def changes_confirm_silent(*, subscription: Subscription | None = None, now=None) -> int:
    """Accept the waiting changes whose webhook first got a 2xx answer `SILENCE` ago with
    no PATCH since (all of them, or `subscription`'s). How many."""
    now = now or timezone.now()
    answered = WebhookEvent.objects.filter(
        uuid=OuterRef("uuid"), first_success_at__lte=now - SILENCE
    )
    waiting = _waiting(Operation.objects.all()).filter(Exists(answered))
    if subscription is not None:
        waiting = waiting.filter(subscription=subscription)
    done = 0
    for operation in waiting.select_related("subscription").order_by("pk")[:500]:
        with transaction.atomic():
            settled = change_settle(operation=operation, accepted=True, actor=BY_SILENCE, now=now)
        done += settled.status == OperationStatus.SUCCEEDED
    return done


def quantity_notice(subscription: Subscription) -> tuple[str, str]:
    """What the app page says of the customer's latest quantity change while the publisher
    has the last word: (words, "waiting" or "declined"), or ("", "")."""
    latest = subscription.operations.order_by("-created_at", "-pk").first()
    if latest is None or (latest.source, latest.action) != (
        OperationSource.CUSTOMER,
        OperationAction.CHANGE_QUANTITY,
    ):
        return "", ""
    if latest.status == OperationStatus.IN_PROGRESS:
        return f"{waiting_words(subscription, latest)}.", "waiting"
    if latest.status == OperationStatus.FAILED:
        count = licenses(latest.quantity)
        return f"The change to {count} didn't apply: {latest.error_message}", "declined"
    return "", ""


def on_webhook_settled(sender, event: WebhookEvent, **kwargs) -> None:
    """A 4xx answer to a waiting change's webhook declines it; retries run out with no
    2xx, it fails. Delivered, the silence (or a PATCH) decides. Calm for replays: only a
    change still waiting moves."""
    if event.status not in (WebhookStatus.DECLINED, WebhookStatus.FAILED):
        return
    operation = _waiting(Operation.objects.filter(uuid=event.uuid)).first()
    if operation is None:
        return
    if event.status == WebhookStatus.FAILED and event.first_success_at is not None:
        return  # it was delivered once: the silence accepts it
    why = DECLINED if event.status == WebhookStatus.DECLINED else UNANSWERED
    change_settle(operation=operation, accepted=False, actor=Actor.system("webhook"), why=why)
