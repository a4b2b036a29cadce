"""Billing > Renewals: what renews or ends in the next 120 days, and the last days to act.

`outlook(subscription)` is the one answer to "what happens at the end of this term, and until
when can I change it": the Renewals page, its CSV and the app page's overview all ask it, so
the dates agree wherever they are shown. The dates follow the sweep and the services:

- the sweep moves a subscription early on its term's end day (UTC), so auto-renew (and a
  license decrease for the renewal) can be changed until the day before;
- a cancel within 7 days of a renewal credits the unused part of the new term
  (`AFTER_RENEWAL_CREDIT`), so the last day with a credit is the renewal day plus 6.
"""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from portal.money import format_money

from .lifecycle import Status
from .models import Subscription
from .services import AFTER_RENEWAL_CREDIT
from .services.common import utc_day

HORIZON = datetime.timedelta(days=120)
DAY = datetime.timedelta(days=1)


class Action(models.TextChoices):
    RENEWS = "renews", "Renews"
    EXPIRES = "expires", "Expires"
    STAYS_SUSPENDED = "stays_suspended", "Stays suspended"


@dataclass(frozen=True)
class Outlook:
    """What happens to a subscription at its term's end (`on`), and what it will cost."""

    action: str
    on: datetime.date  # the term's end: the day the sweep renews it or lets it expire
    quantity: int | None  # licenses from the renewal on (a scheduled decrease applied)
    amount: int  # minor units: what the renewal charges (once reinstated, if suspended)
    currency: str
    # The last day to switch auto-renew or change the licenses; None: any day (a suspended
    # app whose term has ended: turned off, it expires at the next daily sweep).
    change_until: datetime.date | None
    credit_until: datetime.date | None  # renews: the last day a cancel gives a credit

    @property
    def label(self) -> str:
        return Action(self.action).label

    @property
    def charges(self) -> bool:
        """Whether a charge is made on `on` (what the month's totals add up)."""
        return self.action == Action.RENEWS

    @property
    def tone(self) -> str:
        return {
            Action.RENEWS: "status-ok",
            Action.EXPIRES: "status-off",
            Action.STAYS_SUSPENDED: "status-warn",
        }[self.action]

    @property
    def summary(self) -> str:
        """What happens, in a sentence: "Renews on 2 February 2027 at €400.00 for 10
        licenses"."""
        on = f"{self.on:%-d %B %Y}"
        if self.action == Action.EXPIRES:
            return f"Expires on {on}"
        price = format_money(self.amount, self.currency)
        if self.quantity is not None:
            price += f" for {self.quantity} license{'s' if self.quantity != 1 else ''}"
        if self.action == Action.RENEWS:
            return f"Renews on {on} at {price}"
        if self.change_until is None:
            return f"Its term ended on {on} while suspended; once reinstated it renews at {price}"
        return f"Stays suspended on {on}, its term's end; once reinstated it renews at {price}"

    @property
    def note(self) -> str:
        """What the Renewals list says under the last day to change it."""
        if self.action == Action.RENEWS:
            return f"Cancel with a credit until {self.credit_until:%-d %b %Y}."
        if self.action == Action.EXPIRES:
            return "Its last day: turn auto-renew on by then to keep it."
        if self.change_until is None:
            return "Its term has ended: it renews once the overdue invoice is paid."
        return "Renews once the overdue invoice is paid."

    @property
    def advice(self) -> str:
        """The last days to change it, in a sentence."""
        if self.change_until is None:
            return (
                "It is reinstated when the overdue invoice is paid, and renews then; turn "
                "auto-renew off to let it expire at the next daily run instead."
            )
        until = f"{self.change_until:%-d %b %Y}"
        if self.action == Action.RENEWS:
            return (
                f"Turn auto-renew off or lower the licenses by {until}; "
                f"cancel with a credit until {self.credit_until:%-d %b %Y}."
            )
        if self.action == Action.EXPIRES:
            return f"Its last day is {until}: turn auto-renew on by then to keep it."
        return (
            "It is reinstated when the overdue invoice is paid; "
            f"turn auto-renew off by {until} to let it expire instead."
        )


def outlook(subscription: Subscription, today: datetime.date | None = None) -> Outlook | None:
    """What happens at the end of the subscription's term; None when nothing will (pending
    set-up, disabled). The subscription comes with `with_renewal_price()`'s annotations."""
    today = today or utc_day(timezone.now())
    if subscription.status not in (Status.ACTIVE, Status.SUSPENDED):
        return None
    if not subscription.auto_renew:
        action = Action.EXPIRES
    elif subscription.is_suspended:
        action = Action.STAYS_SUSPENDED
    else:
        action = Action.RENEWS
    on = subscription.term_end
    return Outlook(
        action=action,
        on=on,
        quantity=subscription.renewal_quantity,
        amount=subscription.renewal_amount,
        currency=subscription.currency,
        change_until=None if action == Action.STAYS_SUSPENDED and on < today else on - DAY,
        credit_until=on + AFTER_RENEWAL_CREDIT - DAY if action == Action.RENEWS else None,
    )


def renewals_ahead(subscriptions, today: datetime.date):
    """Those of `subscriptions` whose term ends in the 120 days from `today` (included), and
    the suspended ones set to renew whose term has ended (they renew, and are charged, once
    reinstated), in date order, with what the page shows of each."""
    ahead = Q(term_end__gte=today, term_end__lt=today + HORIZON)
    ended_suspended = Q(status=Status.SUSPENDED, auto_renew=True, term_end__lt=today)
    return (
        subscriptions.filter(ahead | ended_suspended, status__in=[Status.ACTIVE, Status.SUSPENDED])
        .with_renewal_price()
        .select_related("plan__app__publisher", "billing_profile")
        .order_by("term_end", "name", "pk")
    )


@dataclass(frozen=True)
class MonthTotal:
    currency: str
    amount: int
    count: int


def month_totals(rows) -> dict[datetime.date, list[MonthTotal]]:
    """What the renewals of each month charge, per currency (months keyed by their first
    day): one grouped query over all of `rows`, not only a page of them."""
    charged = rows.filter(status=Status.ACTIVE, auto_renew=True).order_by()
    grouped = (
        charged.annotate(month=TruncMonth("term_end"))
        .values("month", "currency")
        .annotate(total=Sum("renewal_amount"), count=Count("pk"))
        .order_by("month", "currency")
    )
    totals: dict[datetime.date, list[MonthTotal]] = {}
    for row in grouped:
        month = row["month"]
        month = month.date() if isinstance(month, datetime.datetime) else month
        totals.setdefault(month, []).append(MonthTotal(row["currency"], row["total"], row["count"]))
    return totals
