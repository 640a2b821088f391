"""The totals pipeline (``pricing.price``) and the discount spread (``pricing.allocate``), checked as properties with
hypothesis: shares add up to the discount and none exceeds its line, ``total = subtotal - discount + shipping + tax``
(tax not added again when prices include it), nothing is negative, and rounding is half-up as in
``tenantcommerce.money``."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tenantcommerce.checkout.pricing import allocate, price
from tenantcommerce.checkout.schemas import LineSnapshot
from tenantcommerce.discounts.models import Discount
from tenantcommerce.discounts.services import apply
from tenantcommerce.errors import PluginError
from tenantcommerce.money import round_minor
from tenantcommerce.plugins.providers import Address, TaxedLine, TaxRequest, TaxResult

DE = Address(country="DE")
WEIGHTS = st.lists(st.integers(min_value=0, max_value=10**9), max_size=30)


# --- allocate ------------------------------------------------------------------------------------------------------


@st.composite
def amount_and_weights(draw: st.DrawFn) -> tuple[int, list[int]]:
    weights = draw(WEIGHTS)
    return draw(st.integers(min_value=0, max_value=sum(weights))), weights


@given(amount_and_weights())
@example((0, []))
@example((0, [0, 0]))
@example((1, [1, 1, 1]))
@example((2, [1, 1, 1]))
@example((10**9, [10**9]))
def test_shares_add_up_to_the_amount_and_none_exceeds_its_weight(case: tuple[int, list[int]]) -> None:
    amount, weights = case
    shares = allocate(amount, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == amount
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))


@given(amount_and_weights())
def test_each_share_is_its_exact_proportion_rounded_down_or_up(case: tuple[int, list[int]]) -> None:
    amount, weights = case
    total = sum(weights)
    for share, weight in zip(allocate(amount, weights), weights, strict=True):
        exact = Fraction(amount * weight, total) if total else Fraction(0)
        assert exact - 1 < share < exact + 1
        assert share in (int(exact), int(exact) + (exact.denominator != 1))


@given(amount_and_weights())
def test_the_leftover_units_go_to_the_largest_remainders(case: tuple[int, list[int]]) -> None:
    amount, weights = case
    total = sum(weights)
    if not total:
        return
    shares = allocate(amount, weights)
    remainders = [amount * weight % total for weight in weights]
    rounded_up = [index for index, share in enumerate(shares) if share * total > amount * weights[index]]
    kept_down = [index for index in range(len(weights)) if index not in rounded_up]
    if rounded_up and kept_down:
        assert min(remainders[i] for i in rounded_up) >= max(remainders[i] for i in kept_down)


def test_ties_go_to_the_earlier_line() -> None:
    assert allocate(1, [1, 1, 1]) == [1, 0, 0]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(300, [2000, 1001]) == [200, 100]


@given(WEIGHTS, st.integers(min_value=1, max_value=10**6))
def test_an_amount_outside_zero_to_the_total_is_refused(weights: list[int], excess: int) -> None:
    with pytest.raises(ValueError, match="cannot spread"):
        allocate(sum(weights) + excess, weights)
    with pytest.raises(ValueError, match="cannot spread"):
        allocate(-excess, weights)


# --- price -------------------------------------------------------------------------------------------------------


class FakeTax:
    """A calculator at ``rate_bp`` on every line (and on shipping when ``on_shipping``), on top or included, rounded
    per line half-up with :func:`round_minor`; it remembers what it was asked."""

    def __init__(self, rate_bp: int, *, included: bool, on_shipping: bool) -> None:
        self.rate_bp, self.included, self.on_shipping = rate_bp, included, on_shipping
        self.requests: list[TaxRequest] = []

    def of(self, amount: int) -> int:
        if self.included:
            return amount - round_minor(Decimal(amount * 10_000) / (10_000 + self.rate_bp))
        return round_minor(Decimal(amount * self.rate_bp) / 10_000)

    async def __call__(self, request: TaxRequest) -> TaxResult:
        self.requests.append(request)
        return TaxResult(
            prices_include_tax=self.included,
            lines=tuple(TaxedLine(key=line.key, tax_minor=self.of(line.amount_minor)) for line in request.lines),
            shipping_tax_minor=self.of(request.shipping_minor) if self.on_shipping else 0,
        )


@st.composite
def snapshots(draw: st.DrawFn) -> list[LineSnapshot]:
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        LineSnapshot(
            variant_id=uuid.UUID(int=index + 1),
            product_id=uuid.UUID(int=1000 + index),
            sku=f"sku-{index}",
            product_name="Thing",
            variant_title="Default",
            qty=draw(st.integers(min_value=1, max_value=10_000)),
            unit_price_minor=draw(st.integers(min_value=0, max_value=10**7)),
        )
        for index in range(count)
    ]


@settings(max_examples=300, deadline=None)
@given(
    lines=snapshots(),
    discount=st.integers(min_value=-1000, max_value=10**12),
    free_shipping=st.booleans(),
    shipping=st.none() | st.integers(min_value=0, max_value=10**6),
    taxed=st.booleans(),
    rate_bp=st.integers(min_value=0, max_value=5000),
    included=st.booleans(),
    on_shipping=st.booleans(),
)
def test_the_pipeline_adds_up(
    lines: list[LineSnapshot],
    discount: int,
    free_shipping: bool,
    shipping: int | None,
    taxed: bool,
    rate_bp: int,
    included: bool,
    on_shipping: bool,
) -> None:
    tax = FakeTax(rate_bp, included=included, on_shipping=on_shipping)
    totals = asyncio.run(
        price(
            lines,
            "EUR",
            discount_minor=discount,
            free_shipping=free_shipping,
            shipping_minor=shipping,
            destination=DE if taxed else None,
            tax=tax,
        )
    )
    subtotals = [line.unit_price_minor * line.qty for line in lines]
    # subtotal -> discount (capped at the subtotal, never negative) spread over the lines
    assert totals.subtotal_minor == sum(subtotals)
    assert totals.discount_minor == min(max(discount, 0), sum(subtotals))
    assert [line.subtotal_minor for line in totals.lines] == subtotals
    assert sum(line.discount_minor for line in totals.lines) == totals.discount_minor
    assert all(0 <= line.discount_minor <= line.subtotal_minor for line in totals.lines)
    # -> shipping
    expected_shipping = 0 if free_shipping or shipping is None else shipping
    assert totals.shipping_minor == expected_shipping
    assert totals.free_shipping is free_shipping
    # -> tax, on each line's amount after its discount share (no destination or no lines: no tax, not even asked)
    if taxed and lines:
        [request] = tax.requests
        assert [line.amount_minor for line in request.lines] == [
            line.subtotal_minor - line.discount_minor for line in totals.lines
        ]
        assert request.shipping_minor == expected_shipping
        assert [line.tax_minor for line in totals.lines] == [tax.of(line.amount_minor) for line in request.lines]
        assert totals.shipping_tax_minor == (tax.of(expected_shipping) if on_shipping else 0)
        assert totals.prices_include_tax is included
    else:
        assert tax.requests == []
        assert totals.tax_minor == 0
        assert totals.prices_include_tax is False
    assert totals.tax_minor == sum(line.tax_minor for line in totals.lines) + totals.shipping_tax_minor
    # -> total
    added_tax = 0 if totals.prices_include_tax else totals.tax_minor
    assert totals.total_minor == totals.subtotal_minor - totals.discount_minor + totals.shipping_minor + added_tax
    amounts = (totals.subtotal_minor, totals.discount_minor, totals.shipping_minor, totals.tax_minor,
               totals.total_minor, totals.shipping_tax_minor)  # fmt: skip
    assert all(amount >= 0 for amount in amounts)
    assert all(line.tax_minor >= 0 for line in totals.lines)
    if totals.prices_include_tax:
        assert totals.tax_minor <= totals.subtotal_minor - totals.discount_minor + totals.shipping_minor


def line(qty: int, unit: int, index: int = 0) -> LineSnapshot:
    return LineSnapshot(
        variant_id=uuid.UUID(int=index + 1),
        product_id=uuid.UUID(int=99),
        sku=f"sku-{index}",
        product_name="Thing",
        variant_title="Default",
        qty=qty,
        unit_price_minor=unit,
    )


def test_a_known_order_prices_as_documented() -> None:
    # docs/checkout.md: 2 x 10.00 + 1 x 10.01, 10 % off (300), 5.00 shipping, 20 % tax on top, not on shipping.
    totals = asyncio.run(
        price([line(2, 1000, 0), line(1, 1001, 1)], "EUR", discount_minor=300, shipping_minor=500, destination=DE,
              tax=FakeTax(2000, included=False, on_shipping=False))
    )  # fmt: skip
    assert [(p.discount_minor, p.tax_minor) for p in totals.lines] == [(200, 360), (100, 180)]
    assert (totals.subtotal_minor, totals.discount_minor, totals.shipping_minor, totals.tax_minor,
            totals.total_minor) == (3001, 300, 500, 540, 3741)  # fmt: skip


def test_a_calculator_answering_for_other_lines_is_a_plugin_error() -> None:
    async def wrong(request: TaxRequest) -> TaxResult:
        return TaxResult(prices_include_tax=False, lines=(TaxedLine(key="someone-else", tax_minor=1),))

    with pytest.raises(PluginError, match="other lines") as raised:
        asyncio.run(price([line(1, 100)], "EUR", destination=DE, tax=wrong, tax_plugin_id="tax-rates"))
    assert raised.value.plugin_id == "tax-rates"


# --- rounding: half-up, as tenantcommerce.money ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtotal", "basis_points", "expected"),
    [(5, 1000, 1), (15, 1000, 2), (25, 1000, 3), (35, 1000, 4), (4, 1000, 0), (1, 5000, 1), (3, 5000, 2)],
)
def test_a_percentage_discount_rounds_exact_halves_up(subtotal: int, basis_points: int, expected: int) -> None:
    applied = apply(Discount(id=uuid.uuid4(), code="X", kind="percentage", value=basis_points), subtotal)
    assert applied.amount_minor == expected == round_minor(Decimal(subtotal * basis_points) / 10_000)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=100_000))
def test_the_rate_table_tax_rounds_like_money(amount: int, rate_bp: int) -> None:
    from tenantcommerce_tax_rates.arithmetic import divide

    assert divide(amount * rate_bp, 10_000, "half_up") == round_minor(Decimal(amount * rate_bp) / 10_000)
    gross = 10_000 + rate_bp
    assert divide(amount * 10_000, gross, "half_up") == round_minor(Decimal(amount * 10_000) / gross)


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_round_minor_is_half_up_away_from_zero(numerator: int, denominator: int) -> None:
    value = Fraction(numerator, denominator)
    rounded = round_minor(Decimal(numerator) / Decimal(denominator))
    magnitude = abs(value)
    expected = int(magnitude + Fraction(1, 2)) if magnitude.denominator != 1 else int(magnitude)
    assert rounded == (expected if value >= 0 else -expected)
