"""Money as people read it: one formatter, in the reader's locale, through Babel.

Amounts are integers in the currency's minor unit; `format_money(110000, "EUR")` is
"1.100,00 €" for a tenant in Germany and "€1,100.00" for one in Ireland. The locale is the
tenant's (its country's first official language with a Babel locale), set per request by
`portal.middleware.TenantMiddleware`; work outside a request (e-mails from a task, later
invoices) names it with `money_locale(...)`.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from babel.numbers import format_currency

from .regions import CURRENCIES

DEFAULT_LOCALE = "en_US"
_current: ContextVar[str] = ContextVar("money_locale", default=DEFAULT_LOCALE)


@cache
def locale_for_country(country: str) -> str:
    """The locale money is shown in for a country: "de_DE" for DE, "en_CA" for CA."""
    for language in get_official_languages(country, de_facto=True):
        try:
            return str(Locale.parse(f"{language}_{country}"))
        except (UnknownLocaleError, ValueError):
            continue
    return DEFAULT_LOCALE


@contextmanager
def money_locale(locale: str) -> Iterator[None]:
    """Format money in `locale` inside the block (a task rendering a tenant's e-mail)."""
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def activate_locale(locale: str):
    """Set the locale for the rest of this request; returns the token to reset it with."""
    return _current.set(locale)


def deactivate_locale(token) -> None:
    _current.reset(token)


def format_money(amount: int, currency: str, locale: str | None = None) -> str:
    """An amount in minor units in the locale given, else the current one."""
    return _formatted(amount, currency, locale or _current.get())


@lru_cache(maxsize=4096)
def _formatted(amount: int, currency: str, locale: str) -> str:
    # Babel parses the locale and the pattern on every call (about 0.1 ms); a page of cards
    # shows the same few prices again and again.
    return format_currency(major_amount(amount, currency), currency, locale=locale)


def major_amount(amount: int, currency: str) -> Decimal:
    """An amount in minor units as a decimal of the major unit: 110050 EUR is 1100.50 (for
    a CSV cell, which a spreadsheet reads as a number)."""
    places = CURRENCIES[currency].minor_units
    return Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))


_PLAIN_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def minor_amount(text: str, currency: str) -> int:
    """A major-unit amount a person typed ("123.45") as minor units of `currency` (12345);
    ValueError, in words, when it is not a plain positive number with at most the
    currency's decimals."""
    places = CURRENCIES[currency].minor_units
    if not _PLAIN_AMOUNT.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not an amount like 123.45.")
    value = Decimal(text.strip())
    if value <= 0:
        raise ValueError(f"{text!r} is not an amount above zero.")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        decimals = f"{places} decimal{'' if places == 1 else 's'}" if places else "no decimals"
        raise ValueError(f"{currency} amounts have {decimals}; {text!r} has more.")
    return int(value.scaleb(places))
