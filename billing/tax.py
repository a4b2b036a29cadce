"""Tax on invoices: the rate of the bill-to country, from the one region table, on each
line, rounded half-up to the currency's minor unit.

An EU business customer (a VAT number valid in its EU country, by python-stdnum) in another
EU country than the seller's is charged no VAT: the reverse charge, said on the invoice.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from portal.regions import InvalidTaxId, region_for, validate_tax_id

REVERSE_CHARGE = (
    "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)."
)


@dataclass(frozen=True)
class TaxTreatment:
    rate: Decimal  # percent
    label: str  # "VAT 19%"
    note: str  # printed under the totals: the reverse charge, or the region's note
    reverse_charge: bool = False


def tax_treatment(*, country: str, tax_id: str, seller_country: str | None = None) -> TaxTreatment:
    """How a bill-to address in `country` with `tax_id` (may be empty) is taxed by a seller
    in `seller_country` (settings.SELLER_COUNTRY by default)."""
    region = region_for(country)
    seller = region_for(seller_country or settings.SELLER_COUNTRY)
    if region.in_eu and seller.in_eu and region.code != seller.code and tax_id:
        try:
            validate_tax_id(region.code, tax_id)
        except InvalidTaxId:
            pass
        else:
            return TaxTreatment(Decimal("0"), f"{region.tax_name} 0%", REVERSE_CHARGE, True)
    return TaxTreatment(region.tax_rate, region.tax_label, region.tax_note)


def line_tax(amount: int, rate: Decimal) -> int:
    """The tax on a line of `amount` minor units at `rate` percent, in minor units: half-up
    (a half unit goes away from zero, so a credit's tax mirrors its debit's)."""
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
