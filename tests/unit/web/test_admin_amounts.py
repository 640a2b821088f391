"""Amounts typed in the dashboard's forms: bounded before they become integers (an exponent such as ``1e999999``
would otherwise hold the worker for tens of seconds, or overflow into a 500)."""

from __future__ import annotations

import time

import pytest

from tenantcommerce.errors import InputError
from tenantcommerce.web.admin.discounts import _basis_points
from tenantcommerce.web.admin.pages import minor_units


@pytest.mark.parametrize("typed", ["1e999999", "1e999990", "9" * 17, "-1e20", "NaN", "Infinity", "1e-999999", "abc"])
def test_huge_or_odd_amounts_are_input_errors_at_once(typed: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError) as refused:
        minor_units(typed, "EUR", "price")
    assert refused.value.errors[0].field == "price"
    with pytest.raises(InputError):
        _basis_points(typed)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("typed", "minor"), [("12.50", 1250), ("12,5", 1250), ("0", 0), ("999999999999999", 99999999999999900)]
)
def test_ordinary_amounts_become_minor_units(typed: str, minor: int) -> None:
    assert minor_units(typed, "EUR", "price") == minor
