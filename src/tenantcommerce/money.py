"""Money as integer minor units and an ISO 4217 currency; never a float.

Rounding rules live here and nowhere else: amounts are rounded half-up (away from zero) to the currency's minor unit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Self

import msgspec

# ISO 4217 currencies whose minor unit is not 2 digits.
_MINOR_DIGITS: dict[str, int] = {
    "BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3, "PYG": 0, "TND": 3,
    "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip


def minor_digits(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _MINOR_DIGITS.get(currency, 2)


def is_currency_code(code: str) -> bool:
    """True for three upper-case letters (the shape of an ISO 4217 code)."""
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


class Money(msgspec.Struct, frozen=True):
    """An amount in minor units (cents for USD) of one currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not is_currency_code(self.currency):
            raise ValueError(f"currency must be a three-letter ISO 4217 code, got {self.currency!r}")
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int of minor units")

    @classmethod
    def zero(cls, currency: str) -> Self:
        """Nothing, in ``currency``."""
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def times(self, quantity: int) -> Money:
        """This amount ``quantity`` times."""
        return Money(self.amount_minor * quantity, self.currency)

    def scaled(self, factor: Decimal) -> Money:
        """This amount times ``factor``, rounded half-up to a whole minor unit."""
        return Money(round_minor(Decimal(self.amount_minor) * factor), self.currency)

    def format(self) -> str:
        """A plain rendering such as ``12.50 EUR``."""
        digits = minor_digits(self.currency)
        value = Decimal(self.amount_minor).scaleb(-digits)
        return f"{value:.{digits}f} {self.currency}"


def round_minor(value: Decimal) -> int:
    """Round a fractional number of minor units half-up (away from zero) to an int."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
