"""Proration by days left in the term, rounded half-up to the minor unit."""

from datetime import date

import pytest

from billing.proration import days_left, prorate

# amount, term start, term end (exclusive), on, expected
TABLE = [
    # A monthly term from Jan 31 ends Feb 28 (28 days in 2027).
    (2800, date(2027, 1, 31), date(2027, 2, 28), date(2027, 2, 14), 1400),
    # In a leap year the same term has 29 days.
    (2900, date(2028, 1, 31), date(2028, 2, 29), date(2028, 2, 1), 2800),
    # An annual term from Feb 29 ends Feb 28 (365 days).
    (36500, date(2028, 2, 29), date(2029, 2, 28), date(2028, 3, 1), 36400),
    # A leap annual term (366 days): the last day of the term is one day's worth.
    (36600, date(2027, 3, 1), date(2028, 3, 1), date(2028, 2, 29), 100),
    # The first day is the whole term; the day it ends, nothing.
    (1000, date(2027, 5, 1), date(2027, 6, 1), date(2027, 5, 1), 1000),
    (1000, date(2027, 5, 1), date(2027, 6, 1), date(2027, 6, 1), 0),
    # Before the term starts, the whole term; after it ends, nothing.
    (1000, date(2027, 5, 1), date(2027, 6, 1), date(2027, 4, 20), 1000),
    (1000, date(2027, 5, 1), date(2027, 6, 1), date(2027, 7, 1), 0),
    # Rounded half-up once: 1000 x 10/30 = 333.33, x 20/30 = 666.67, 1 x 15/30 = 0.5.
    (1000, date(2027, 4, 1), date(2027, 5, 1), date(2027, 4, 21), 333),
    (1000, date(2027, 4, 1), date(2027, 5, 1), date(2027, 4, 11), 667),
    (1, date(2027, 4, 1), date(2027, 5, 1), date(2027, 4, 16), 1),
    # A yen amount (no minor unit) rounds the same way.
    (5000, date(2027, 4, 1), date(2027, 5, 1), date(2027, 4, 30), 167),
]


@pytest.mark.parametrize(("amount", "start", "end", "on", "expected"), TABLE)
def test_prorate(amount, start, end, on, expected):
    assert prorate(amount, term_start=start, term_end=end, on=on) == expected


def test_days_left_counts_the_day_itself():
    assert (
        days_left(term_start=date(2027, 2, 1), term_end=date(2027, 3, 1), on=date(2027, 2, 28)) == 1
    )


def test_bad_terms_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="ends after it starts"):
        prorate(100, term_start=date(2027, 2, 1), term_end=date(2027, 2, 1), on=date(2027, 2, 1))
    with pytest.raises(ValueError, match="a credit is its negative"):
        prorate(-100, term_start=date(2027, 2, 1), term_end=date(2027, 3, 1), on=date(2027, 2, 1))
