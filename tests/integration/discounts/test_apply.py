"""``apply`` prices a discount for a subtotal: never negative, never more than the subtotal, percentages rounded
half-up to a minor unit (properties checked with hypothesis; the function is pure, no database involved)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantcommerce.discounts.models import Discount
from tenantcommerce.discounts.services import AppliedDiscount, apply

SUBTOTALS = st.integers(min_value=-(10**6), max_value=10**13)
BASIS_POINTS = st.integers(min_value=1, max_value=10_000)
AMOUNTS = st.integers(min_value=1, max_value=10**13)


def discount(kind: str, value: int) -> Discount:
    return Discount(id=uuid.uuid4(), code="CODE", kind=kind, value=value)


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up, in integers (for non-negative numbers)."""
    return (2 * numerator + denominator) // (2 * denominator)


@given(subtotal=SUBTOTALS, kind_value=st.one_of(
    st.tuples(st.just("percentage"), BASIS_POINTS),
    st.tuples(st.just("fixed_amount"), AMOUNTS),
    st.tuples(st.just("free_shipping"), st.just(0)),
))  # fmt: skip
def test_the_amount_is_never_negative_and_never_above_the_subtotal(subtotal: int, kind_value: tuple[str, int]) -> None:
    kind, value = kind_value
    applied = apply(discount(kind, value), subtotal)
    assert 0 <= applied.amount_minor <= max(subtotal, 0)
    assert applied.kind == kind
    assert applied.free_shipping is (kind == "free_shipping")


@given(subtotal=st.integers(min_value=0, max_value=10**13), bp=BASIS_POINTS)
def test_a_percentage_is_the_subtotal_times_basis_points_rounded_half_up(subtotal: int, bp: int) -> None:
    applied = apply(discount("percentage", bp), subtotal)
    assert applied.amount_minor == half_up(subtotal * bp, 10_000)
    # Within half a minor unit of the exact amount, and exact halves go up.
    exact_twice = 2 * subtotal * bp  # 20000 x the exact amount
    assert abs(applied.amount_minor * 20_000 - exact_twice) <= 10_000
    if exact_twice % 20_000 == 10_000:
        assert applied.amount_minor * 20_000 > exact_twice


@given(subtotal=st.integers(min_value=0, max_value=10**13), value=AMOUNTS)
def test_a_fixed_amount_takes_its_value_but_at_most_the_subtotal(subtotal: int, value: int) -> None:
    assert apply(discount("fixed_amount", value), subtotal).amount_minor == min(value, subtotal)


@given(subtotal=SUBTOTALS)
def test_free_shipping_takes_nothing_off_the_subtotal(subtotal: int) -> None:
    applied = apply(discount("free_shipping", 0), subtotal)
    assert applied.amount_minor == 0
    assert applied.free_shipping is True


@given(subtotal=st.integers(min_value=0, max_value=10**13))
def test_one_hundred_percent_takes_exactly_the_subtotal(subtotal: int) -> None:
    assert apply(discount("percentage", 10_000), subtotal).amount_minor == subtotal


@pytest.mark.parametrize(
    ("subtotal", "bp", "expected"),
    [
        (25, 1000, 3),  # 2.5 -> 3 (half-up; banker's rounding would give 2)
        (15, 1000, 2),  # 1.5 -> 2
        (5, 1000, 1),  # 0.5 -> 1
        (4, 1000, 0),  # 0.4 -> 0
        (1, 5000, 1),  # 0.5 -> 1
        (1, 4999, 0),
        (1999, 1500, 300),  # 299.85 -> 300
        (10_001, 2500, 2500),  # 2500.25 -> 2500
        (0, 10_000, 0),
    ],
)
def test_percentage_examples(subtotal: int, bp: int, expected: int) -> None:
    assert apply(discount("percentage", bp), subtotal).amount_minor == expected


def test_the_applied_discount_names_the_discount() -> None:
    code = discount("fixed_amount", 500)
    assert apply(code, 2000) == AppliedDiscount(
        discount_id=code.id, code="CODE", kind="fixed_amount", amount_minor=500, free_shipping=False
    )
