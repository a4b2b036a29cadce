"""Tax ids per country: their shape, check digits, canonical form and the user's message."""

import pytest

from portal.regions import (
    REGIONS,
    InvalidTaxId,
    UnsupportedCountry,
    normalize_tax_id,
    validate_tax_id,
)


@pytest.mark.parametrize(
    ("country", "value", "canonical"),
    [
        ("AT", "ATU13585627", "ATU13585627"),
        ("BE", "BE0403019261", "BE0403019261"),
        ("BE", "BE1234567894", "BE1234567894"),
        ("DE", "DE136695976", "DE136695976"),
        ("DK", "DK13585628", "DK13585628"),
        ("ES", "ES12345678Z", "ES12345678Z"),
        ("ES", "ESB12345674", "ESB12345674"),
        ("ES", "ESX1234567L", "ESX1234567L"),
        ("FI", "FI20774740", "FI20774740"),
        ("FR", "FR40303265045", "FR40303265045"),
        ("FR", "FRK7399859412", "FRK7399859412"),
        ("GR", "EL094259216", "EL094259216"),
        ("IE", "IE6388047V", "IE6388047V"),
        ("IE", "IE1234567FA", "IE1234567FA"),
        ("IE", "IE8Z49289F", "IE8Z49289F"),
        ("IE", "IE1+23456W", "IE1+23456W"),
        ("IT", "IT00743110157", "IT00743110157"),
        ("LU", "LU15027442", "LU15027442"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("PT", "PT501964843", "PT501964843"),
        ("SE", "SE556703748501", "SE556703748501"),
        ("GB", "GB980780684", "GB980780684"),
        ("GB", "GB980780684001", "GB980780684001"),
        ("GB", "GBGD123", "GBGD123"),
        ("GB", "GBHA599", "GBHA599"),
        ("NO", "NO974761076MVA", "NO974761076MVA"),
        ("CH", "CHE-123.456.788 MWST", "CHE-123.456.788 MWST"),
        ("CH", "CHE123456788TVA", "CHE-123.456.788 TVA"),
        ("CH", "che 123 456 788 iva", "CHE-123.456.788 IVA"),
        ("AU", "51824753556", "51824753556"),
        ("CA", "123456782RT0001", "123456782RT0001"),
        ("ZA", "4123456789", "4123456789"),
        ("US", "12-3456789", "12-3456789"),
        ("US", "123456789", "12-3456789"),
        ("PR", "660123456", "66-0123456"),
        ("AR", "20-12345678-6", "20-12345678-6"),
        ("AR", "20123456786", "20-12345678-6"),
        ("CL", "12345678-5", "12345678-5"),
        ("CL", "12.345.678-5", "12345678-5"),
        ("CL", "5126663-3", "5126663-3"),
    ],
)
def test_a_well_formed_tax_id_is_accepted_in_its_canonical_form(country, value, canonical):
    assert validate_tax_id(country, value) == canonical


@pytest.mark.parametrize(
    ("country", "value"),
    [
        ("AT", "AT13585627"),  # no U
        ("AT", "ATU1358562"),
        ("BE", "BE2403019261"),  # 0 or 1 after the prefix
        ("BE", "BE403019261"),
        ("DE", "DE12345678"),
        ("DE", "DE1366959760"),
        ("DE", "FR123456789"),
        ("DK", "DK135856281"),
        ("ES", "ES123456789"),  # a letter at one end
        ("ES", "ESAB234567C"),
        ("FI", "FI2077474"),
        ("FR", "FRO0303265045"),  # no O
        ("FR", "FRI0303265045"),  # no I
        ("FR", "FR4030326504"),
        ("GR", "EL09425921"),
        ("IE", "IE63880471"),
        ("IE", "IE6388047ABC"),
        ("IT", "IT0074311015"),
        ("LU", "LU150274421"),
        ("NL", "NL004495445A01"),
        ("NL", "NL004495445B1"),
        ("PT", "PT50196484"),
        ("SE", "SE556703748502"),  # ends in 01
        ("SE", "SE5567037485"),
        ("GB", "GB98078068"),
        ("GB", "GBGD1234"),
        ("GB", "GBXX123"),
        ("NO", "NO974761076"),  # MVA suffix
        ("NO", "974761076MVA"),
        ("CH", "CHE-123.456.788"),  # MWST, TVA or IVA suffix
        ("CH", "CHE-123.456.78 MWST"),
        ("CH", "CHE-123.456.788 VAT"),
        ("AU", "5182475355"),
        ("AU", "ABN51824753556"),
        ("CA", "123456789"),
        ("CA", "123456789RC0001"),
        ("CA", "12345678RT0001"),
        ("ZA", "5123456789"),  # starts with 4
        ("ZA", "412345678"),
        ("US", "12-345678"),
        ("US", "12-34567890"),
        ("PR", "EIN 66-0123456"),
        ("AR", "20-1234567-6"),
        ("CL", "123456-0"),
        ("CL", "12345678-X"),
    ],
)
def test_a_tax_id_in_the_wrong_shape_is_refused(country, value):
    with pytest.raises(InvalidTaxId):
        validate_tax_id(country, value)


def test_german_vat_number_without_prefix_is_refused():
    with pytest.raises(InvalidTaxId, match=r"^A VAT number in Germany looks like DE136695976\.$"):
        validate_tax_id("DE", "123456789")


@pytest.mark.parametrize("country", ["DE", "AU", "CL"])
def test_an_empty_tax_id_is_refused(country):
    with pytest.raises(InvalidTaxId):
        validate_tax_id(country, "  ")


@pytest.mark.parametrize(
    ("country", "value", "canonical"),
    [
        ("DE", " de 136 695 976 ", "DE136695976"),
        ("DE", "DE-136.695.976", "DE136695976"),
        ("NL", "nl0044.95.445.b01", "NL004495445B01"),
        ("GB", "gb 980 7806 84", "GB980780684"),
        ("ES", "es-x1234567-l", "ESX1234567L"),
        ("NO", "no 974 761 076 mva", "NO974761076MVA"),
        ("CA", "123 456 782 rt 0001", "123456782RT0001"),
        ("US", "12 3456789", "12-3456789"),
        ("CL", "5.126.663-3", "5126663-3"),
        ("CL", "10.000.013-k", "10000013-K"),
        ("DE", "DE\u00a0136\u00a0695\u00a0976", "DE136695976"),  # non-breaking spaces
        ("AR", "20\u201312345678\u20136", "20-12345678-6"),  # en dashes
    ],
)
def test_spaces_dots_dashes_and_lower_case_are_normalised(country, value, canonical):
    assert validate_tax_id(country, value) == canonical


@pytest.mark.parametrize("value", ["GR094259216", "gr 094 259 216", "el094259216"])
def test_a_greek_vat_number_is_written_with_the_el_prefix(value):
    assert validate_tax_id("GR", value) == "EL094259216"


def test_normalising_does_not_check_the_id():
    assert normalize_tax_id("de", " de 12 ") == "DE12"
    assert normalize_tax_id("AR", "20-12345678-7") == "20-12345678-7"
    assert normalize_tax_id("CH", "che123456788mwst") == "CHE-123.456.788 MWST"


@pytest.mark.parametrize(
    ("country", "good", "bad"),
    [
        ("AU", "51824753556", "51824753557"),
        ("AU", "53004085616", "53004085617"),
        ("AR", "20-12345678-6", "20-12345678-7"),
        ("AR", "20-12345670-0", "20-12345670-1"),  # 11 - sum % 11 == 11 is written 0
        ("CL", "12345678-5", "12345678-4"),
        ("CL", "10000013-K", "10000013-0"),  # 10 is written K
        ("CL", "7654321-6", "7654321-K"),
    ],
)
def test_check_digits_decide_between_ids_of_the_same_shape(country, good, bad):
    assert validate_tax_id(country, good) == good
    with pytest.raises(InvalidTaxId, match="check digits do not add up"):
        validate_tax_id(country, bad)


@pytest.mark.parametrize(
    ("country", "bad"),
    [  # the shape is right, the check digits (which our own checks skipped) are not
        ("DE", "DE123456789"),
        ("GB", "GB980780685"),
        ("FR", "FR41303265045"),
        ("NL", "NL004495446B01"),
        ("CA", "123456789RT0001"),
        ("US", "07-1234567"),  # no IRS campus gives out EINs starting 07
    ],
)
def test_python_stdnum_checks_digits_our_shapes_let_through(country, bad):
    with pytest.raises(InvalidTaxId, match="check digits do not add up"):
        validate_tax_id(country, bad)


@pytest.mark.parametrize(
    ("country", "message"),
    [
        ("DE", "A VAT number in Germany looks like DE136695976."),
        ("GB", "A VAT number in the United Kingdom looks like GB980780684."),
        ("NL", "A VAT number in the Netherlands looks like NL004495445B01."),
        ("AU", "An ABN in Australia looks like 51824753556."),
        ("US", "An EIN in the United States looks like 12-3456789."),
        ("CA", "A GST/HST number in Canada looks like 123456782RT0001."),
        ("CH", "A MWST number in Switzerland looks like CHE-123.456.788 MWST."),
        ("NO", "A VAT number (MVA) in Norway looks like NO974761076MVA."),
    ],
)
def test_the_message_shows_the_expected_shape_with_the_example(country, message):
    with pytest.raises(InvalidTaxId) as refused:
        validate_tax_id(country, "nonsense")
    assert str(refused.value) == message


def test_a_wrong_check_digit_names_the_id_and_the_example():
    with pytest.raises(InvalidTaxId) as refused:
        validate_tax_id("AU", "51 824 753 557")
    assert str(refused.value) == (
        "51824753557 is not a valid ABN: its check digits do not add up. "
        "An ABN in Australia looks like 51824753556."
    )


def test_the_country_may_be_given_in_any_case():
    assert validate_tax_id(" de ", "DE136695976") == "DE136695976"


@pytest.mark.parametrize("validate", [validate_tax_id, normalize_tax_id])
def test_an_unsupported_country_is_a_clear_error(validate):
    with pytest.raises(UnsupportedCountry, match="'JP' is not a supported country"):
        validate("JP", "1234567890123")


@pytest.mark.parametrize("region", REGIONS.values(), ids=lambda region: region.code)
def test_every_region_names_its_tax_id_and_its_example_is_valid(region):
    assert region.tax_id_name
    assert validate_tax_id(region.code, region.tax_id_example) == region.tax_id_example
