"""The tax arithmetic, on integers only (no floats, no I/O): which rates apply, and how much tax each takes.

Rounding is per line (and once for shipping), never per order:

* tax on top (``prices_include_tax`` off): each rate's component is ``round(amount * rate_bp / 10000)``; the line's
  tax is their sum.
* tax included: the line's tax is ``amount - round(amount * 10000 / (10000 + sum of rate_bp))``; it is split over the
  rates in proportion to their ``rate_bp`` (each share rounded down), and what rounding down left over goes to the
  highest rate, so the components add up to the line's tax exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec
from tenantcommerce.plugins import TaxComponent, TaxedLine, TaxRequest, TaxResult

from tenantcommerce_tax_rates.settings import Rounding, TaxRatesSettings

BASIS_POINTS = 10_000
"""Basis points in a whole: ``rate_bp`` 2000 is 20 %."""


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    """A tax rate as the arithmetic sees it (one row of ``tax_rates``)."""

    name: str
    country: str
    region: str | None = None
    """An ISO 3166-2 code (``US-CA``); ``None``: the whole country."""
    rate_bp: int
    applies_to_shipping: bool = False
    tax_code: str | None = None
    """Only lines with this tax code; ``None``: every line."""


def divide(numerator: int, denominator: int, rounding: Rounding) -> int:
    """``numerator / denominator`` rounded to a whole number, exactly (integer arithmetic).

    Args:
        numerator: any integer (a negative one rounds symmetrically to a positive one).
        denominator: a positive integer.
        rounding: what an exact half becomes: ``half_up`` away from zero, ``half_even`` the even neighbour.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -divide(-numerator, denominator, rounding)
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and (rounding == "half_up" or quotient % 2 == 1)):
        return quotient + 1
    return quotient


def region_code(country: str, region: str | None) -> str | None:
    """The destination's region as an ISO 3166-2 code: upper-cased, and prefixed with the country when it was
    given bare (``CA`` in ``US`` is ``US-CA``)."""
    if region is None or not region.strip():
        return None
    code = region.strip().upper()
    return code if "-" in code else f"{country}-{code}"


def matching_rates(
    rates: Iterable[Rate], country: str, region: str | None, tax_code: str | None, *, shipping: bool = False
) -> list[Rate]:
    """The rates that apply: same country, whole-country or the destination's region, and no tax code or the
    line's; for shipping (which has no tax code) only rates that apply to shipping and carry no tax code."""
    country = country.upper()
    region = region_code(country, region)
    return [
        rate
        for rate in rates
        if rate.country == country
        and (rate.region is None or rate.region == region)
        and (rate.tax_code is None or rate.tax_code == tax_code)
        and (not shipping or rate.applies_to_shipping)
    ]


def tax_on_top(amount: int, rates: Sequence[Rate], rounding: Rounding) -> list[TaxComponent]:
    """Components of tax added to a net ``amount``: each rate rounded on its own."""
    components = []
    for rate in rates:
        tax = divide(amount * rate.rate_bp, BASIS_POINTS, rounding)
        components.append(TaxComponent(name=rate.name, rate_bp=rate.rate_bp, amount_minor=tax))
    return components


def tax_included(amount: int, rates: Sequence[Rate], rounding: Rounding) -> list[TaxComponent]:
    """Components of the tax inside a gross ``amount``: the line's tax rounded once, split over the rates in
    proportion to ``rate_bp``, with the remainder on the highest rate."""
    total_bp = sum(rate.rate_bp for rate in rates)
    if total_bp == 0:
        return [TaxComponent(name=rate.name, rate_bp=rate.rate_bp, amount_minor=0) for rate in rates]
    tax = amount - divide(amount * BASIS_POINTS, BASIS_POINTS + total_bp, rounding)
    shares = [tax * rate.rate_bp // total_bp for rate in rates]
    highest = max(range(len(rates)), key=lambda index: rates[index].rate_bp)  # the first of equal rates
    shares[highest] += tax - sum(shares)
    return [
        TaxComponent(name=rate.name, rate_bp=rate.rate_bp, amount_minor=share)
        for rate, share in zip(rates, shares, strict=True)
    ]


def components_for(amount: int, rates: Sequence[Rate], settings: TaxRatesSettings) -> list[TaxComponent]:
    """The components of one amount (a line or shipping) under the store's settings."""
    if settings.prices_include_tax:
        return tax_included(amount, rates, settings.rounding)
    return tax_on_top(amount, rates, settings.rounding)


def calculate(request: TaxRequest, rates: Iterable[Rate], settings: TaxRatesSettings) -> TaxResult:
    """The tax of ``request`` under ``rates``: one :class:`TaxedLine` per request line (same order and keys) and the
    tax of shipping. No matching rate means no tax."""
    rates = list(rates)
    destination = request.destination
    lines = []
    for line in request.lines:
        applicable = matching_rates(rates, destination.country, destination.region, line.tax_code)
        components = components_for(line.amount_minor, applicable, settings)
        lines.append(
            TaxedLine(
                key=line.key, tax_minor=sum(part.amount_minor for part in components), components=tuple(components)
            )
        )
    shipping_rates = matching_rates(rates, destination.country, destination.region, None, shipping=True)
    shipping = components_for(request.shipping_minor, shipping_rates, settings)
    return TaxResult(
        prices_include_tax=settings.prices_include_tax,
        lines=tuple(lines),
        shipping_tax_minor=sum(part.amount_minor for part in shipping),
        shipping_components=tuple(shipping),
    )
