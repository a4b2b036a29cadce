"""The one table of allowed moves of a subscription (ARCHITECTURE.md, Subscription lifecycle).

    purchase -> pending_activation --activate--> active --renew--> active
    pending_activation, active, suspended --cancel / expire--> disabled
    active --suspend--> suspended --reinstate--> active
    suspended --disable for non-payment--> disabled

`disabled` is terminal: nothing leaves it (the page offers "Buy again", a new subscription).
Every transition service and its set-based twin asks `check_move` before writing a status;
an illegal move raises `IllegalMove`, whose message pages show as it is.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

# Pending set-up this long after its purchase (UTC days), an app is disabled as expired.
SETUP_TIMEOUT = datetime.timedelta(days=30)


def setup_last_day(created_at: datetime.datetime) -> datetime.date:
    """The last UTC day a pending app can be set up: 30 days after the day it was bought.
    The sweep of the day after disables it (`services.sweep.time_out_due`); the e-mails
    print this day."""
    return created_at.astimezone(datetime.UTC).date() + SETUP_TIMEOUT


class Status(models.TextChoices):
    PENDING_ACTIVATION = "pending_activation", "Pending set-up"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    DISABLED = "disabled", "Disabled"


class DisabledReason(models.TextChoices):
    CANCELED = "canceled", "Canceled"
    EXPIRED = "expired", "Expired"
    NON_PAYMENT = "non_payment", "Not paid"


class Transition(models.TextChoices):
    ACTIVATE = "activate", "activated"
    RENEW = "renew", "renewed"
    SUSPEND = "suspend", "suspended"
    REINSTATE = "reinstate", "reinstated"
    CANCEL = "cancel", "canceled"
    EXPIRE = "expire", "expired"
    DISABLE_FOR_NON_PAYMENT = "disable_for_non_payment", "disabled for non-payment"


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    reason: str = ""  # the disabled reason a move to `disabled` records


S = Status
MOVES: dict[str, Move] = {
    Transition.ACTIVATE: Move(frozenset({S.PENDING_ACTIVATION}), S.ACTIVE),
    Transition.RENEW: Move(frozenset({S.ACTIVE}), S.ACTIVE),
    Transition.SUSPEND: Move(frozenset({S.ACTIVE}), S.SUSPENDED),
    Transition.REINSTATE: Move(frozenset({S.SUSPENDED}), S.ACTIVE),
    Transition.CANCEL: Move(
        frozenset({S.PENDING_ACTIVATION, S.ACTIVE, S.SUSPENDED}),
        S.DISABLED,
        DisabledReason.CANCELED,
    ),
    Transition.EXPIRE: Move(
        frozenset({S.PENDING_ACTIVATION, S.ACTIVE, S.SUSPENDED}),
        S.DISABLED,
        DisabledReason.EXPIRED,
    ),
    Transition.DISABLE_FOR_NON_PAYMENT: Move(
        frozenset({S.SUSPENDED}), S.DISABLED, DisabledReason.NON_PAYMENT
    ),
}


class IllegalMove(ValidationError):
    """A transition the table does not allow from the subscription's status."""

    def __init__(self, transition: str, status: str):
        self.transition, self.status = transition, status
        super().__init__(_words(transition, status), code="illegal_move")

    def __reduce__(self):  # a Celery task's error travels pickled
        return (IllegalMove, (self.transition, self.status))


def _words(transition: str, status: str) -> str:
    if status == Status.DISABLED:
        return "A disabled app can't be reactivated. Buy it again to keep using it."
    done = Transition(transition).label
    state = Status(status).label.lower()
    return f"An app that is {state} can't be {done}."


def check_move(transition: str, status: str) -> Move:
    """The move `transition` makes from `status`, or IllegalMove."""
    move = MOVES[transition]
    if status not in move.sources:
        raise IllegalMove(transition, status)
    return move


def sources(transition: str) -> list[str]:
    """The statuses `transition` may leave from, for a set-based twin's `WHERE status IN`."""
    return sorted(MOVES[transition].sources)
