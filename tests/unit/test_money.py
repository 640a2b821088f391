"""Money: integer minor units, one currency, half-up rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenantcommerce.money import Money, is_currency_code, minor_digits, round_minor


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def test_addition_and_subtraction() -> None:
    assert eur(1250) + eur(99) == eur(1349)
    assert eur(1250) - eur(99) == eur(1151)
    assert eur(99) - eur(1250) == eur(-1151)
    assert eur(0) + eur(0) == Money.zero("EUR")


def test_results_are_new_values_in_the_same_currency() -> None:
    price = Money(500, "JPY")
    total = price + Money(250, "JPY")
    assert total == Money(750, "JPY")
    assert total.currency == "JPY"
    assert price == Money(500, "JPY")  # unchanged


def test_times() -> None:
    assert eur(1999).times(3) == eur(5997)
    assert eur(1999).times(0) == eur(0)
    assert eur(1999).times(-1) == eur(-1999)


def test_zero() -> None:
    zero = Money.zero("BHD")
    assert zero.amount_minor == 0
    assert zero.currency == "BHD"


def test_amounts_are_integers() -> None:
    total = eur(1) + eur(2)
    assert type(total.amount_minor) is int
    assert type(eur(3).scaled(Decimal("0.5")).amount_minor) is int


def test_equality_includes_the_currency() -> None:
    assert Money(100, "EUR") != Money(100, "USD")
    assert Money(100, "EUR") == Money(100, "EUR")
    assert hash(Money(100, "EUR")) == hash(Money(100, "EUR"))


@pytest.mark.parametrize("operation", ["__add__", "__sub__"])
def test_currency_mismatch_raises(operation: str) -> None:
    with pytest.raises(ValueError, match="EUR") as caught:
        getattr(eur(100), operation)(Money(100, "USD"))
    assert "USD" in str(caught.value)


def test_money_is_immutable() -> None:
    price = eur(100)
    with pytest.raises(AttributeError):
        price.amount_minor = 200  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),  # half-up, not banker's rounding (which gives 2)
        ("2.4999", 2),
        ("2.5001", 3),
        ("-0.5", -1),
        ("-1.5", -2),
        ("-2.5", -3),  # away from zero on the negative side too
        ("-2.4999", -2),
        ("-2.5001", -3),
        ("0.4", 0),
        ("-0.4", 0),
        ("7", 7),
    ],
)
def test_round_minor_is_half_up_away_from_zero(value: str, expected: int) -> None:
    result = round_minor(Decimal(value))
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("amount", "factor", "expected"),
    [
        (5, "0.5", 3),  # 2.5 -> 3
        (-5, "0.5", -3),  # -2.5 -> -3
        (1999, "0.19", 380),  # 379.81 -> 380 (19% tax)
        (1000, "0.075", 75),
        (333, "0.1", 33),  # 33.3 -> 33
        (335, "0.1", 34),  # 33.5 -> 34
        (-335, "0.1", -34),
    ],
)
def test_scaled_rounds_half_up(amount: int, factor: str, expected: int) -> None:
    assert eur(amount).scaled(Decimal(factor)) == eur(expected)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3), ("EUR", 2), ("USD", 2), ("GBP", 2)],
)
def test_minor_digits(currency: str, digits: int) -> None:
    assert minor_digits(currency) == digits


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1250, "EUR"), "12.50 EUR"),
        (Money(5, "EUR"), "0.05 EUR"),
        (Money(-5, "EUR"), "-0.05 EUR"),
        (Money(0, "USD"), "0.00 USD"),
        (Money(1234, "JPY"), "1234 JPY"),
        (Money(1234, "BHD"), "1.234 BHD"),
        (Money(5, "BHD"), "0.005 BHD"),
    ],
)
def test_format_uses_the_currency_minor_unit(money: Money, text: str) -> None:
    assert money.format() == text


@pytest.mark.parametrize("currency", ["eur", "Eur", "EU", "EURO", "", "E1R", "123", "ÉUR", "EU "])
def test_invalid_currency_raises(currency: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, currency)
    assert not is_currency_code(currency)


@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "BHD"])
def test_valid_currency_codes(currency: str) -> None:
    assert is_currency_code(currency)


@pytest.mark.parametrize("amount", [1.5, 1.0, Decimal("1"), "100", True, None])
def test_amount_must_be_an_int_of_minor_units(amount: object) -> None:
    with pytest.raises(TypeError, match="minor units"):
        Money(amount, "EUR")  # type: ignore[arg-type]
