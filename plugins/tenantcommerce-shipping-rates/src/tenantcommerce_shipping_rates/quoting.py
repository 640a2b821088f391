"""How a request is priced from a rate table: pure functions, no I/O.

* A rate applies when it is active (the caller passes only active ones), names the destination country or no
  country at all, and, unless it is ``flat``, its band holds the request's measure:
  ``band_min <= measure < band_max`` (no upper bound when ``band_max`` is ``null``).
* The measure of a ``weight`` rate is the parcel weight: the sum of ``weight_grams * quantity`` over the lines
  (a line without a weight counts 0); of an ``order_value`` rate, ``request.subtotal_minor``.
* The price is ``amount_minor``, or 0 once ``subtotal_minor`` reaches ``free_over_minor``.
* Quotes come in ``request.currency``, ordered by position, then price, then name; ``rate_id`` is the rate's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tenantcommerce.plugins import ShippingLine, ShippingQuote, ShippingRequest

from tenantcommerce_shipping_rates.rates import Rate


def parcel_weight(lines: Iterable[ShippingLine]) -> int:
    """Grams of all lines; lines without a weight count 0."""
    return sum((line.weight_grams or 0) * line.quantity for line in lines)


def ships_to(rate: Rate, country: str) -> bool:
    """Whether ``rate`` covers ``country`` (a rate without countries covers every one)."""
    return not rate.countries or country in rate.countries


def in_band(rate: Rate, *, weight_grams: int, subtotal_minor: int) -> bool:
    """Whether the request's measure falls in ``rate``'s band (always, for a flat rate)."""
    if rate.kind == "flat":
        return True
    measure = weight_grams if rate.kind == "weight" else subtotal_minor
    return rate.band_min <= measure and (rate.band_max is None or measure < rate.band_max)


def price(rate: Rate, subtotal_minor: int) -> int:
    """What ``rate`` costs for an order of ``subtotal_minor``."""
    if rate.free_over_minor is not None and subtotal_minor >= rate.free_over_minor:
        return 0
    return rate.amount_minor


def quotes_for(
    rates: Sequence[Rate], request: ShippingRequest, *, default_estimated_days: int | None = None
) -> list[ShippingQuote]:
    """Every quote ``rates`` give for ``request`` (``default_estimated_days`` for rates without an estimate)."""
    weight = parcel_weight(request.lines)
    priced = [
        (rate, price(rate, request.subtotal_minor))
        for rate in rates
        if ships_to(rate, request.destination.country)
        and in_band(rate, weight_grams=weight, subtotal_minor=request.subtotal_minor)
    ]
    priced.sort(key=lambda item: (item[0].position, item[1], item[0].name, str(item[0].id)))
    return [
        ShippingQuote(
            rate_id=str(rate.id),
            name=rate.name,
            amount_minor=amount,
            currency=request.currency,
            estimated_days=rate.estimated_days if rate.estimated_days is not None else default_estimated_days,
        )
        for rate, amount in priced
    ]
