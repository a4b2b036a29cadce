"""The supported regions: the one table of countries, their billing currency and tax.

Every tenant and every bill-to address is in one of these countries; the currency a
tenant is billed in is its country's. Nothing else in the code lists countries or rates.

Each region also says what its tax id is called and shows one valid example, and
`validate_tax_id` checks an id against the country's shape (and check digits, where the
country has them) from `_TAX_ID_RULES`, returning it in its canonical form.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217
    symbol: str
    minor_units: int


# What every page, form, error and audit record calls a tax id where no country is in
# question; a region's own name for it (`Region.tax_id_label`) wherever one is.
TAX_ID = "Tax id"


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-1 alpha-2
    name: str
    currency: Currency
    tax_name: str
    tax_rate: Decimal  # percent, e.g. Decimal("20") for 20 %
    market: str  # the region as the marketplace names it ("Western Europe")
    tax_note: str = ""
    tax_id_name: str = ""  # what the tax id is called there: "VAT number", "ABN", "EIN"
    tax_id_example: str = ""  # one valid id, canonical form, for a form to show as a hint
    in_eu: bool = False  # a member state of the EU VAT area (the reverse charge applies)

    @property
    def tax_label(self) -> str:
        return f"{self.tax_name} {self.tax_rate.normalize():f}%"

    @property
    def name_in_text(self) -> str:
        """The country's name as a sentence has it: "the United States", "Germany"."""
        the = "the " if self.name.startswith(("United ", "Netherlands")) else ""
        return f"{the}{self.name}"

    @property
    def tax_id_label(self) -> str:
        """The tax id as the country names it ("VAT number", "ABN"), else "Tax id"."""
        return self.tax_id_name or TAX_ID


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


def _eu(
    code: str,
    name: str,
    rate: str,
    tax_id_example: str,
    market: str = "Western Europe",
    tax_id_name: str = "VAT number",
    in_eu: bool = True,
) -> Region:
    return Region(
        code,
        name,
        CURRENCIES["EUR"],
        "VAT",
        Decimal(rate),
        market,
        tax_id_name=tax_id_name,
        tax_id_example=tax_id_example,
        in_eu=in_eu,
    )


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
            tax_id_name="EIN",
            tax_id_example="12-3456789",
        ),
        Region(
            "PR",
            "Puerto Rico",
            CURRENCIES["USD"],
            "Sales tax",
            Decimal("0"),
            "Puerto Rico",
            _US_NOTE,
            tax_id_name="EIN",
            tax_id_example="66-0123456",
        ),
        Region(
            "CA",
            "Canada",
            CURRENCIES["CAD"],
            "GST",
            Decimal("5"),
            "Canada",
            tax_id_name="GST/HST number",
            tax_id_example="123456782RT0001",
        ),
        Region(
            "GB",
            "United Kingdom",
            CURRENCIES["GBP"],
            "VAT",
            Decimal("20"),
            "United Kingdom",
            tax_id_name="VAT number",
            tax_id_example="GB980780684",
        ),
        Region(
            "AU",
            "Australia",
            CURRENCIES["AUD"],
            "GST",
            Decimal("10"),
            "Australia",
            tax_id_name="ABN",
            tax_id_example="51824753556",
        ),
        Region(
            "ZA",
            "South Africa",
            CURRENCIES["ZAR"],
            "VAT",
            Decimal("15"),
            "South Africa",
            tax_id_name="VAT number",
            tax_id_example="4123456789",
        ),
        Region(
            "AR",
            "Argentina",
            CURRENCIES["USD"],
            "VAT",
            Decimal("21"),
            "Argentina",
            tax_id_name="CUIT",
            tax_id_example="20-12345678-6",
        ),
        Region(
            "CL",
            "Chile",
            CURRENCIES["USD"],
            "VAT",
            Decimal("19"),
            "Chile",
            tax_id_name="RUT",
            tax_id_example="12345678-5",
        ),
        _eu("FR", "France", "20", "FR40303265045", market="France"),
        _eu("DE", "Germany", "19", "DE136695976", market="Germany"),
        _eu("GR", "Greece", "24", "EL094259216", market="Greece"),
        _eu("AT", "Austria", "20", "ATU13585627"),
        _eu("BE", "Belgium", "21", "BE0403019261"),
        _eu("DK", "Denmark", "25", "DK13585628"),
        _eu("FI", "Finland", "25.5", "FI20774740"),
        _eu("IE", "Ireland", "23", "IE6388047V"),
        _eu("IT", "Italy", "22", "IT00743110157"),
        _eu("LU", "Luxembourg", "17", "LU15027442"),
        _eu("NL", "Netherlands", "21", "NL004495445B01"),
        _eu("NO", "Norway", "25", "NO974761076MVA", tax_id_name="VAT number (MVA)", in_eu=False),
        _eu("PT", "Portugal", "23", "PT501964843"),
        _eu("ES", "Spain", "21", "ES12345678Z"),
        _eu("SE", "Sweden", "25", "SE556703748501"),
        _eu(
            "CH",
            "Switzerland",
            "8.1",
            "CHE-123.456.788 MWST",
            tax_id_name="MWST number",
            in_eu=False,
        ),
    )
}


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


class InvalidTaxId(ValueError):
    """A tax id that is not in its country's shape; the message is for the user."""


@dataclass(frozen=True)
class _TaxIdRule:
    pattern: str  # matched in full against the compact id: upper case, no spaces/dots/dashes
    canonical: str = ""  # how to write the pattern's groups back ("{0}-{1}"); "" keeps it compact
    stdnum: str = ""  # the python-stdnum module that checks the digits ("de.vat"), if any


# The shape of a tax id in each country of REGIONS, matched against the compact id, and the
# python-stdnum module that checks its check digits (and, for EINs, the IRS prefixes).
# EU VAT numbers carry their country prefix (Greece's is EL, not GR). South Africa's VAT
# number has no check digit stdnum knows.
_TAX_ID_RULES: dict[str, _TaxIdRule] = {
    "AT": _TaxIdRule(r"ATU\d{8}", stdnum="at.uid"),
    "BE": _TaxIdRule(r"BE[01]\d{9}", stdnum="be.vat"),
    "DE": _TaxIdRule(r"DE\d{9}", stdnum="de.vat"),
    "DK": _TaxIdRule(r"DK\d{8}", stdnum="dk.cvr"),
    "ES": _TaxIdRule(r"ES(?:[A-Z]\d{7}[A-Z0-9]|\d{8}[A-Z])", stdnum="es.nif"),
    "FI": _TaxIdRule(r"FI\d{8}", stdnum="fi.alv"),
    "FR": _TaxIdRule(r"FR[A-HJ-NP-Z0-9]{2}\d{9}", stdnum="fr.tva"),
    "GR": _TaxIdRule(r"EL\d{9}", stdnum="gr.vat"),
    "IE": _TaxIdRule(r"IE(?:\d{7}[A-Z]{1,2}|\d[A-Z+*]\d{5}[A-Z])", stdnum="ie.vat"),
    "IT": _TaxIdRule(r"IT\d{11}", stdnum="it.iva"),
    "LU": _TaxIdRule(r"LU\d{8}", stdnum="lu.tva"),
    "NL": _TaxIdRule(r"NL\d{9}B\d{2}", stdnum="nl.btw"),
    "PT": _TaxIdRule(r"PT\d{9}", stdnum="pt.nif"),
    "SE": _TaxIdRule(r"SE\d{10}01", stdnum="se.vat"),
    "GB": _TaxIdRule(r"GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})", stdnum="gb.vat"),
    "NO": _TaxIdRule(r"NO\d{9}MVA", stdnum="no.mva"),
    "CH": _TaxIdRule(
        r"CHE(\d{3})(\d{3})(\d{3})(MWST|TVA|IVA)", "CHE-{0}.{1}.{2} {3}", stdnum="ch.vat"
    ),
    "AU": _TaxIdRule(r"\d{11}", stdnum="au.abn"),
    "CA": _TaxIdRule(r"\d{9}RT\d{4}", stdnum="ca.bn"),
    "ZA": _TaxIdRule(r"4\d{9}"),
    "US": _TaxIdRule(r"(\d{2})(\d{7})", "{0}-{1}", stdnum="us.ein"),
    "PR": _TaxIdRule(r"(\d{2})(\d{7})", "{0}-{1}", stdnum="us.ein"),
    "AR": _TaxIdRule(r"(\d{2})(\d{8})(\d)", "{0}-{1}-{2}", stdnum="ar.cuit"),
    "CL": _TaxIdRule(r"(\d{7,8})([0-9K])", "{0}-{1}", stdnum="cl.rut"),
}


def _digits_check(rule: _TaxIdRule, compact: str) -> bool:
    """Whether python-stdnum finds the id's check digits right (True where it has no rule)."""
    return not rule.stdnum or import_module(f"stdnum.{rule.stdnum}").is_valid(compact)


# Spaces (any, including non-breaking), dots, and hyphens or dashes people paste in.
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015]")


def _compact(code: str, value: str) -> str:
    compact = _SEPARATORS.sub("", value.upper())
    if code == "GR" and compact.startswith("GR"):
        compact = "EL" + compact[2:]
    return compact


def normalize_tax_id(country: str, value: str) -> str:
    """A tax id as it is written in `country`, without checking it.

    Upper case, with spaces, dots and dashes dropped; a Greek "GR" prefix becomes "EL".
    Where the id has a conventional written form and the value has its shape, the value is
    written that way: US/PR EIN "12-3456789", AR CUIT "20-12345678-6", CL RUT "12345678-5"
    (no thousands dots), CH "CHE-123.456.788 MWST". Everything else is compact:
    "DE136695976", CA "123456782RT0001", NO "NO974761076MVA". A value not in the shape is
    returned compact. UnsupportedCountry for a country not in REGIONS.
    """
    code = region_for(country).code
    rule = _TAX_ID_RULES[code]
    compact = _compact(code, value)
    match = re.fullmatch(rule.pattern, compact, re.ASCII)
    if match is None or not rule.canonical:
        return compact
    return rule.canonical.format(*match.groups())


def _tax_id_in(region: Region) -> str:
    """The region's tax id, as a sentence starts: "A VAT number in Germany", "An ABN in
    Australia", "An EIN in the United States"."""
    name = region.tax_id_label
    article = "An" if name.startswith(tuple("AEIOU")) else "A"
    return f"{article} {name} in {region.name_in_text}"


def validate_tax_id(country: str, value: str) -> str:
    """The tax id in its canonical form (see `normalize_tax_id`), if it is in `country`'s
    shape and python-stdnum finds its check digits right (every country but ZA).

    InvalidTaxId otherwise, empty values included, with a message that shows the user an
    example; UnsupportedCountry for a country not in REGIONS.
    """
    region = region_for(country)
    rule = _TAX_ID_RULES[region.code]
    compact = _compact(region.code, value)
    shape = f"{_tax_id_in(region)} looks like {region.tax_id_example}."
    if re.fullmatch(rule.pattern, compact, re.ASCII) is None:
        raise InvalidTaxId(shape)
    if not _digits_check(rule, compact):
        written = normalize_tax_id(region.code, value)
        raise InvalidTaxId(
            f"{written} is not a valid {region.tax_id_label}: its check digits do not add up. "
            f"{shape}"
        )
    return normalize_tax_id(region.code, value)
