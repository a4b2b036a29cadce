"""Terms: UTC calendar days that keep their anchor day.

A term runs from its start (included) to its end (excluded; the next term starts there).
Monthly and annual terms keep the day of the month the first term started on, the anchor:
Jan 31 + P1M = Feb 28 (29 in a leap year), then Mar 31; Feb 29 + P1Y = Feb 28, then Feb 29
in the next leap year.
"""

import calendar
import datetime

from publishers.models import Term

MONTHS = {Term.MONTHLY: 1, Term.ANNUAL: 12}


def term_end(start: datetime.date, term: str, *, anchor_day: int | None = None) -> datetime.date:
    """The end of the term that starts on `start`; `anchor_day` is the first term's start
    day (default: `start`'s own)."""
    anchor = anchor_day or start.day
    months = start.month - 1 + MONTHS[term]
    year, month = start.year + months // 12, months % 12 + 1
    return datetime.date(year, month, min(anchor, calendar.monthrange(year, month)[1]))
