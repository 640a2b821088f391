"""The tax arithmetic on its own (no database): which rates apply, tax on top, tax included, rounding per line."""

from __future__ import annotations

import pytest
from tenantcommerce.plugins import Address, TaxComponent, TaxLine, TaxRequest

from tenantcommerce_tax_rates.arithmetic import Rate, calculate, divide, matching_rates, tax_included, tax_on_top
from tenantcommerce_tax_rates.settings import TaxRatesSettings

ON_TOP = TaxRatesSettings()
INCLUDED = TaxRatesSettings(prices_include_tax=True)

VAT_DE = Rate(name="VAT", country="DE", rate_bp=1900, applies_to_shipping=True)
STATE_CA = Rate(name="State", country="US", rate_bp=600, applies_to_shipping=True)
DISTRICT_CA = Rate(name="District", country="US", region="US-CA", rate_bp=125)
COUNTY_NY = Rate(name="County", country="US", region="US-NY", rate_bp=450)


def request(*amounts: int, country: str = "DE", region: str | None = None, shipping: int = 0) -> TaxRequest:
    lines = [
        TaxLine(key=f"line-{n}", sku=f"SKU-{n}", quantity=1, amount_minor=amount) for n, amount in enumerate(amounts)
    ]
    return TaxRequest(
        currency="EUR", destination=Address(country=country, region=region), lines=lines, shipping_minor=shipping
    )


def component(name: str, rate_bp: int, amount: int) -> TaxComponent:
    return TaxComponent(name=name, rate_bp=rate_bp, amount_minor=amount)


# --- divide -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "half_up", "half_even"),
    [
        (25, 10, 3, 2),  # 2.5
        (35, 10, 4, 4),  # 3.5
        (24, 10, 2, 2),  # 2.4
        (26, 10, 3, 3),  # 2.6
        (5, 10, 1, 0),  # 0.5
        (30, 10, 3, 3),  # exact
        (0, 10, 0, 0),
        (-25, 10, -3, -2),  # symmetric around zero
    ],
)
def test_divide_rounds_only_exact_halves_differently_by_mode(
    numerator: int, denominator: int, half_up: int, half_even: int
) -> None:
    assert divide(numerator, denominator, "half_up") == half_up
    assert divide(numerator, denominator, "half_even") == half_even


def test_divide_is_exact_beyond_float_precision() -> None:
    huge = 10**30 + 5  # (10**30 + 5) / 10 = 10**29 + 0.5, which a float cannot tell from 10**29
    assert divide(huge, 10, "half_up") == 10**29 + 1
    assert divide(huge, 10, "half_even") == 10**29


def test_divide_refuses_a_non_positive_denominator() -> None:
    with pytest.raises(ValueError, match="positive"):
        divide(1, 0, "half_up")


# --- which rates apply ------------------------------------------------------------------------------------------------


def test_a_whole_country_rate_and_the_destinations_regional_rate_stack() -> None:
    rates = [STATE_CA, DISTRICT_CA, COUNTY_NY, VAT_DE]
    assert matching_rates(rates, "US", "US-CA", None) == [STATE_CA, DISTRICT_CA]
    assert matching_rates(rates, "US", "US-NY", None) == [STATE_CA, COUNTY_NY]
    assert matching_rates(rates, "US", None, None) == [STATE_CA], "no region: only whole-country rates"
    assert matching_rates(rates, "FR", None, None) == [], "no rate for the country: none applies"


def test_a_bare_or_lower_case_region_is_read_as_the_iso_code_in_the_destination_country() -> None:
    rates = [STATE_CA, DISTRICT_CA]
    assert matching_rates(rates, "US", "CA", None) == [STATE_CA, DISTRICT_CA]
    assert matching_rates(rates, "us", "us-ca", None) == [STATE_CA, DISTRICT_CA]


def test_a_rate_with_a_tax_code_applies_only_to_lines_with_that_code() -> None:
    food = Rate(name="Food levy", country="DE", rate_bp=100, tax_code="food")
    rates = [VAT_DE, food]
    assert matching_rates(rates, "DE", None, "food") == [VAT_DE, food]
    assert matching_rates(rates, "DE", None, "books") == [VAT_DE]
    assert matching_rates(rates, "DE", None, None) == [VAT_DE]


def test_shipping_takes_only_rates_that_apply_to_shipping_and_have_no_tax_code() -> None:
    coded = Rate(name="Coded", country="DE", rate_bp=100, applies_to_shipping=True, tax_code="food")
    goods_only = Rate(name="Goods only", country="DE", rate_bp=200)
    assert matching_rates([VAT_DE, coded, goods_only], "DE", None, None, shipping=True) == [VAT_DE]


# --- tax on top -------------------------------------------------------------------------------------------------------


def test_tax_on_top_rounds_each_component_on_its_own_and_adds_them_up() -> None:
    # 1000 * 6 % = 60; 1000 * 1.25 % = 12.5 -> 13 (half up)
    components = tax_on_top(1000, [STATE_CA, DISTRICT_CA], "half_up")
    assert components == [component("State", 600, 60), component("District", 125, 13)]


@pytest.mark.parametrize(("amount", "half_up", "half_even"), [(25, 3, 2), (35, 4, 4), (15, 2, 2), (45, 5, 4)])
def test_tax_on_top_at_a_half_follows_the_rounding_mode(amount: int, half_up: int, half_even: int) -> None:
    ten_percent = [Rate(name="Ten", country="DE", rate_bp=1000)]
    assert tax_on_top(amount, ten_percent, "half_up")[0].amount_minor == half_up
    assert tax_on_top(amount, ten_percent, "half_even")[0].amount_minor == half_even


def test_tax_on_top_of_a_line_and_of_shipping() -> None:
    result = calculate(request(1999, 500, shipping=490), [VAT_DE], ON_TOP)
    # 1999 * 19 % = 379.81 -> 380; 500 * 19 % = 95; 490 * 19 % = 93.1 -> 93
    assert [line.tax_minor for line in result.lines] == [380, 95]
    assert result.shipping_tax_minor == 93
    assert list(result.shipping_components) == [component("VAT", 1900, 93)]
    assert result.total_tax_minor == 380 + 95 + 93
    assert result.prices_include_tax is False


def test_rounding_is_per_line_not_per_order() -> None:
    # Three lines of 25 at 10 %: 2.5 each -> 3 each (9); rounding the order's 7.5 once would give 8.
    result = calculate(request(25, 25, 25), [Rate(name="Ten", country="DE", rate_bp=1000)], ON_TOP)
    assert [line.tax_minor for line in result.lines] == [3, 3, 3]
    assert result.total_tax_minor == 9


# --- tax included -----------------------------------------------------------------------------------------------------


def test_included_tax_is_the_gross_amount_less_the_rounded_net() -> None:
    # 1190 gross at 19 %: net 1000, tax 190. 1000 gross: net 840.34 -> 840, tax 160.
    result = calculate(request(1190, 1000), [VAT_DE], INCLUDED)
    assert [line.tax_minor for line in result.lines] == [190, 160]
    assert result.prices_include_tax is True


def test_included_tax_is_split_over_the_rates_in_proportion_with_the_remainder_on_the_highest() -> None:
    # 1000 gross at 6 % + 1.25 % = 7.25 %: net 1000 * 10000 / 10725 = 932.40 -> 932, tax 68.
    # Shares, rounded down: 68 * 600 / 725 = 56.27 -> 56; 68 * 125 / 725 = 11.72 -> 11; the 1 left goes to 6 %.
    components = tax_included(1000, [STATE_CA, DISTRICT_CA], "half_up")
    assert components == [component("State", 600, 57), component("District", 125, 11)]
    assert sum(part.amount_minor for part in components) == 68


def test_the_remainder_of_an_included_split_goes_to_the_highest_rate_wherever_it_is_listed() -> None:
    low_first = [Rate(name="Low", country="DE", rate_bp=100), Rate(name="High", country="DE", rate_bp=200)]
    # 1000 gross at 3 %: net 970.87 -> 971, tax 29; shares 9.67 -> 9 and 19.33 -> 19; the 1 left goes to "High".
    components = tax_included(1000, low_first, "half_up")
    assert components == [component("Low", 100, 9), component("High", 200, 20)]


@pytest.mark.parametrize(("gross", "half_up", "half_even"), [(5, 2, 3), (7, 3, 3), (9, 4, 5), (11, 5, 5)])
def test_included_tax_at_a_half_follows_the_rounding_mode(gross: int, half_up: int, half_even: int) -> None:
    # At 100 % the net is exactly half the gross: 2.5, 3.5, 4.5, 5.5. Half up: 3, 4, 5, 6; half even: 2, 4, 4, 6.
    # The tax is what is left of the gross.
    hundred_percent = [Rate(name="Hundred", country="DE", rate_bp=10_000)]
    assert tax_included(gross, hundred_percent, "half_up")[0].amount_minor == half_up
    assert tax_included(gross, hundred_percent, "half_even")[0].amount_minor == half_even


def test_included_components_always_add_up_to_the_line_tax() -> None:
    rates = [Rate(name=f"R{bp}", country="DE", rate_bp=bp) for bp in (333, 777, 1, 2500)]
    for gross in range(0, 5000, 7):
        for rounding in ("half_up", "half_even"):
            components = tax_included(gross, rates, rounding)
            total_bp = sum(rate.rate_bp for rate in rates)
            expected = gross - divide(gross * 10_000, 10_000 + total_bp, rounding)
            assert sum(part.amount_minor for part in components) == expected, (gross, rounding)
            assert all(part.amount_minor >= 0 for part in components)


def test_included_tax_of_zero_rates_is_zero() -> None:
    zero = [Rate(name="Zero", country="DE", rate_bp=0)]
    assert tax_included(1000, zero, "half_up") == [component("Zero", 0, 0)]


def test_shipping_with_prices_including_tax_is_gross_too() -> None:
    result = calculate(request(shipping=595), [VAT_DE], INCLUDED)
    # 595 gross at 19 %: net 500, tax 95.
    assert result.shipping_tax_minor == 95


# --- whole requests ---------------------------------------------------------------------------------------------------


def test_one_taxed_line_per_request_line_in_order_with_the_same_keys() -> None:
    asked = request(100, 0, 300, country="US", region="US-CA")
    result = calculate(asked, [STATE_CA, DISTRICT_CA], ON_TOP)
    assert [line.key for line in result.lines] == ["line-0", "line-1", "line-2"]
    assert [line.tax_minor for line in result.lines] == [6 + 1, 0, 18 + 4]  # 1.25 -> 1, 3.75 -> 4
    assert [len(line.components) for line in result.lines] == [2, 2, 2]


def test_a_line_tax_code_adds_its_rate_to_the_general_ones() -> None:
    food_levy = Rate(name="Food levy", country="DE", rate_bp=500, tax_code="food")
    asked = TaxRequest(
        currency="EUR",
        destination=Address(country="DE"),
        lines=[
            TaxLine(key="bread", sku="B", quantity=2, amount_minor=1000, tax_code="food"),
            TaxLine(key="book", sku="K", quantity=1, amount_minor=1000, tax_code="books"),
        ],
    )
    bread, book = calculate(asked, [VAT_DE, food_levy], ON_TOP).lines
    assert list(bread.components) == [component("VAT", 1900, 190), component("Food levy", 500, 50)]
    assert list(book.components) == [component("VAT", 1900, 190)]


def test_no_matching_rate_means_no_tax_and_no_components() -> None:
    result = calculate(request(1000, shipping=500, country="FR"), [VAT_DE, STATE_CA], ON_TOP)
    assert result.total_tax_minor == 0
    assert [list(line.components) for line in result.lines] == [[]]
    assert list(result.shipping_components) == []
