"""Terms keep their anchor day through short months and leap years."""

from datetime import date

import pytest

from publishers.models import Term
from subscriptions.terms import term_end

M, Y = Term.MONTHLY, Term.ANNUAL


@pytest.mark.parametrize(
    ("start", "term", "anchor", "expected"),
    [
        (date(2027, 1, 31), M, None, date(2027, 2, 28)),
        (date(2027, 2, 28), M, 31, date(2027, 3, 31)),  # the anchor comes back
        (date(2028, 1, 31), M, None, date(2028, 2, 29)),  # a leap February
        (date(2027, 3, 31), M, None, date(2027, 4, 30)),
        (date(2027, 4, 30), M, 31, date(2027, 5, 31)),
        (date(2027, 12, 15), M, None, date(2028, 1, 15)),  # over the year's end
        (date(2027, 12, 31), M, None, date(2028, 1, 31)),
        (date(2028, 2, 29), Y, None, date(2029, 2, 28)),
        (date(2029, 2, 28), Y, 29, date(2030, 2, 28)),
        (date(2031, 2, 28), Y, 29, date(2032, 2, 29)),  # the next leap year
        (date(2027, 6, 1), Y, None, date(2028, 6, 1)),
    ],
)
def test_term_end(start, term, anchor, expected):
    assert term_end(start, term, anchor_day=anchor) == expected


def test_twelve_monthly_terms_from_jan_31_keep_the_anchor():
    ends, start = [], date(2027, 1, 31)
    for _ in range(12):
        start = term_end(start, M, anchor_day=31)
        ends.append(start)
    assert [d.day for d in ends] == [28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31]
    assert ends[-1] == date(2028, 1, 31)
