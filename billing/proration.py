"""Proration: the share of a term's amount for the days left in it.

One function, used for every prorated charge and credit (a quantity added mid-term, a
cancel's credit). Terms are UTC calendar days, `term_end` exclusive (the next term starts
on it). Amounts are integers in the currency's minor unit; the share is computed with
Decimal and rounded half-up to the minor unit, once.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal


def days_left(*, term_start: datetime.date, term_end: datetime.date, on: datetime.date) -> int:
    """Days of the term from `on` (included) to its end: the whole term before it starts,
    none from its end on."""
    if term_end <= term_start:
        raise ValueError(f"A term ends after it starts, not {term_start} to {term_end}.")
    return max(0, min((term_end - max(on, term_start)).days, (term_end - term_start).days))


def prorate(
    amount: int, *, term_start: datetime.date, term_end: datetime.date, on: datetime.date
) -> int:
    """`amount` (a whole term's, >= 0) times the days left over the days in the term."""
    if amount < 0:
        raise ValueError("Prorate the amount; a credit is its negative.")
    left = days_left(term_start=term_start, term_end=term_end, on=on)
    share = Decimal(amount) * left / (term_end - term_start).days
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
