"""The supported regions: the one table of countries, their billing currency and tax.

Every tenant and every bill-to address is in one of these countries; the currency a
tenant is billed in is its country's. Nothing else in the code lists countries or rates.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217
    symbol: str
    minor_units: int


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-1 alpha-2
    name: str
    currency: Currency
    tax_name: str
    tax_rate: Decimal  # percent, e.g. Decimal("20") for 20 %
    market: str  # the region as the marketplace names it ("Western Europe")
    tax_note: str = ""

    @property
    def tax_label(self) -> str:
        return f"{self.tax_name} {self.tax_rate.normalize():f}%"


CURRENCIES = {
    c.code: c
    for c in (
        Currency("USD", "$", 2),
        Currency("CAD", "CA$", 2),
        Currency("GBP", "£", 2),
        Currency("AUD", "A$", 2),
        Currency("ZAR", "R", 2),
        Currency("EUR", "€", 2),
    )
}

_US_NOTE = "US state and local sales tax is out of scope and not charged."


def _eu(code: str, name: str, rate: str, market: str = "Western Europe") -> Region:
    return Region(code, name, CURRENCIES["EUR"], "VAT", Decimal(rate), market)


REGIONS: dict[str, Region] = {
    r.code: r
    for r in (
        Region(
            "US",
            "United States",
            CURRENCIES["USD"],
            "Sales tax",
            Decimal("0"),
            "United States",
            _US_NOTE,
        ),
        Region(
            "PR",
            "Puerto Rico",
            CURRENCIES["USD"],
            "Sales tax",
            Decimal("0"),
            "Puerto Rico",
            _US_NOTE,
        ),
        Region("CA", "Canada", CURRENCIES["CAD"], "GST", Decimal("5"), "Canada"),
        Region("GB", "United Kingdom", CURRENCIES["GBP"], "VAT", Decimal("20"), "United Kingdom"),
        Region("AU", "Australia", CURRENCIES["AUD"], "GST", Decimal("10"), "Australia"),
        Region("ZA", "South Africa", CURRENCIES["ZAR"], "VAT", Decimal("15"), "South Africa"),
        Region("AR", "Argentina", CURRENCIES["USD"], "VAT", Decimal("21"), "Argentina"),
        Region("CL", "Chile", CURRENCIES["USD"], "VAT", Decimal("19"), "Chile"),
        _eu("FR", "France", "20", market="France"),
        _eu("DE", "Germany", "19", market="Germany"),
        _eu("GR", "Greece", "24", market="Greece"),
        _eu("AT", "Austria", "20"),
        _eu("BE", "Belgium", "21"),
        _eu("DK", "Denmark", "25"),
        _eu("FI", "Finland", "25.5"),
        _eu("IE", "Ireland", "23"),
        _eu("IT", "Italy", "22"),
        _eu("LU", "Luxembourg", "17"),
        _eu("NL", "Netherlands", "21"),
        _eu("NO", "Norway", "25"),
        _eu("PT", "Portugal", "23"),
        _eu("ES", "Spain", "21"),
        _eu("SE", "Sweden", "25"),
        _eu("CH", "Switzerland", "8.1"),
    )
}


def format_money(amount: int, currency: str) -> str:
    """An amount in minor units, as people read it: `format_money(123456, "EUR")` is
    "1,234.56 EUR"."""
    minor = CURRENCIES[currency].minor_units
    major = Decimal(amount).scaleb(-minor)
    return f"{major:,.{minor}f} {currency}"


COUNTRY_CHOICES = sorted(((r.code, r.name) for r in REGIONS.values()), key=lambda c: c[1])


class UnsupportedCountry(ValueError):
    pass


def region_for(country: str) -> Region:
    """The region of an ISO country code (any case); UnsupportedCountry when there is none."""
    try:
        return REGIONS[country.strip().upper()]
    except KeyError:
        supported = ", ".join(sorted(REGIONS))
        raise UnsupportedCountry(
            f"{country!r} is not a supported country (supported: {supported})"
        ) from None
