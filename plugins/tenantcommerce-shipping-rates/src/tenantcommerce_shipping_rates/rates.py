"""Shipping rates: what a rate is, what the admin API accepts, and the rules a rate must follow.

A rate applies to a destination country (``countries``; empty: everywhere) and, unless it is ``flat``, to a band
``band_min <= x < band_max`` of the parcel weight in grams (``weight``) or of the order subtotal in minor units
(``order_value``); ``band_max`` ``null`` has no upper bound. It costs ``amount_minor`` (store currency), or nothing
once the subtotal reaches ``free_over_minor``.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.fields import NO_NUL, Text100

from tenantcommerce_shipping_rates.countries import is_country_code
from tenantcommerce_shipping_rates.settings import Days

RateKind = Literal["flat", "weight", "order_value"]
"""``flat``: one price; ``weight``: a band of parcel weight (grams); ``order_value``: a band of the subtotal."""

KINDS: tuple[RateKind, ...] = ("flat", "weight", "order_value")

MAX_MINOR = 10**12
"""The largest amount accepted, in minor units (as for product prices)."""
MAX_BAND = 10**12
"""The largest band bound accepted (grams or minor units)."""
MAX_COUNTRIES = 300

Minor = Annotated[int, msgspec.Meta(ge=0, le=MAX_MINOR)]
BandBound = Annotated[int, msgspec.Meta(ge=0, le=MAX_BAND)]
Position = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
CountryCode = Annotated[str, msgspec.Meta(max_length=10, pattern=NO_NUL)]
"""Checked against ISO 3166-1 alpha-2 by :func:`checked` (422 names the entry), so the schema stays lenient."""
Countries = Annotated[list[CountryCode], msgspec.Meta(max_length=MAX_COUNTRIES)]


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    """A stored rate, as the admin API shows it (amounts in ``currency``, the store's)."""

    id: UUID
    name: str
    kind: RateKind
    countries: list[str]
    band_min: int
    band_max: int | None
    amount_minor: int
    free_over_minor: int | None
    estimated_days: int | None
    active: bool
    position: int
    currency: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RateInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rate to create (``POST .../rates``). Amounts are minor units of the store's currency."""

    name: Text100
    """Shown to customers at checkout; unique in the store."""
    amount_minor: Minor
    kind: RateKind = "flat"
    countries: Countries = msgspec.field(default_factory=list)
    """ISO 3166-1 alpha-2 codes in upper case; empty: every country."""
    band_min: BandBound = 0
    """Lower bound of the band, included (grams or minor units; 0 for ``flat``)."""
    band_max: BandBound | None = None
    """Upper bound of the band, excluded; ``null``: no upper bound (always ``null`` for ``flat``)."""
    free_over_minor: Minor | None = None
    """The rate is free when the order subtotal reaches this amount; ``null``: never free."""
    estimated_days: Days | None = None
    active: bool = True
    position: Position = 0
    """Quotes are listed by position, then price."""


class RateUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change (``PATCH .../rates/{id}``); absent ones stay, ``null`` clears a nullable one. The rate
    that results must follow the same rules as a new one."""

    name: Text100 | msgspec.UnsetType = msgspec.UNSET
    amount_minor: Minor | msgspec.UnsetType = msgspec.UNSET
    kind: RateKind | msgspec.UnsetType = msgspec.UNSET
    countries: Countries | msgspec.UnsetType = msgspec.UNSET
    band_min: BandBound | msgspec.UnsetType = msgspec.UNSET
    band_max: BandBound | msgspec.UnsetType | None = msgspec.UNSET
    free_over_minor: Minor | msgspec.UnsetType | None = msgspec.UNSET
    estimated_days: Days | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    position: Position | msgspec.UnsetType = msgspec.UNSET


def input_of(rate: Rate) -> RateInput:
    """The fields of a stored rate, as input (to apply an update to)."""
    return RateInput(
        name=rate.name,
        amount_minor=rate.amount_minor,
        kind=rate.kind,
        countries=list(rate.countries),
        band_min=rate.band_min,
        band_max=rate.band_max,
        free_over_minor=rate.free_over_minor,
        estimated_days=rate.estimated_days,
        active=rate.active,
        position=rate.position,
    )


def updated(current: RateInput, update: RateUpdate) -> RateInput:
    """``current`` with the fields ``update`` sets."""
    changes = {
        field: value for field in update.__struct_fields__ if (value := getattr(update, field)) is not msgspec.UNSET
    }
    return msgspec.structs.replace(current, **changes)


def rule_errors(rate: RateInput) -> list[FieldError]:
    """What is wrong with ``rate`` by the business rules (empty when nothing is)."""
    errors: list[FieldError] = []
    if not rate.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    seen: set[str] = set()
    for index, code in enumerate(rate.countries):
        if not is_country_code(code):
            errors.append(
                FieldError(
                    f"countries[{index}]",
                    f"{code!r} is not an ISO 3166-1 alpha-2 country code in upper case (such as DE or US)",
                )
            )
        elif code in seen:
            errors.append(FieldError(f"countries[{index}]", f"{code} is listed twice"))
        seen.add(code)
    if rate.kind == "flat":
        if rate.band_min != 0:
            errors.append(FieldError("band_min", "a flat rate has no band: leave band_min at 0"))
        if rate.band_max is not None:
            errors.append(FieldError("band_max", "a flat rate has no band: leave band_max null"))
    elif rate.band_max is not None and rate.band_max <= rate.band_min:
        errors.append(FieldError("band_max", "must be greater than band_min (the band is band_min <= x < band_max)"))
    if rate.free_over_minor == 0:
        errors.append(FieldError("free_over_minor", "0 would make the rate always free: set amount_minor to 0 instead"))
    return errors


def checked(rate: RateInput) -> RateInput:
    """``rate`` with its name trimmed, once it follows the business rules.

    Raises:
        BusinessRuleError: 422 naming every field that breaks a rule.
    """
    errors = rule_errors(rate)
    if errors:
        detail = "; ".join(f"{error.field}: {error.message}" for error in errors)
        raise BusinessRuleError(f"invalid shipping rate: {detail}", errors=errors)
    return msgspec.structs.replace(rate, name=rate.name.strip())
