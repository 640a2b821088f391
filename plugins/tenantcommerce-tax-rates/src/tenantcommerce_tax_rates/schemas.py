"""Request and response bodies of the admin API (``/api/admin/{slug}/plugins/tax-rates/rates``)."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from tenantcommerce.fields import Text100

CountryCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code, upper case (`DE`).")
]
RegionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$",
        description="ISO 3166-2 subdivision code, upper case, in the rate's country (`US-CA`).",
    ),
]
RateBp = Annotated[int, msgspec.Meta(ge=0, le=100_000, description="Rate in basis points: 2000 is 20 %.")]
TaxCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}$",
        description="Letters, digits and `_.:-`, at most 50; the rate then applies only to lines with this code.",
    ),
]


class TaxRateInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new tax rate. ``region`` (``null``: the whole country) must lie in ``country``; ``tax_code`` (``null``:
    every line) limits the rate to lines with that code."""

    name: Text100
    country: CountryCode
    rate_bp: RateBp
    region: RegionCode | None = None
    applies_to_shipping: bool = False
    tax_code: TaxCode | None = None


class TaxRateUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change; absent fields stay, ``null`` clears ``region`` or ``tax_code``."""

    name: Text100 | msgspec.UnsetType = msgspec.UNSET
    country: CountryCode | msgspec.UnsetType = msgspec.UNSET
    rate_bp: RateBp | msgspec.UnsetType = msgspec.UNSET
    region: RegionCode | msgspec.UnsetType | None = msgspec.UNSET
    applies_to_shipping: bool | msgspec.UnsetType = msgspec.UNSET
    tax_code: TaxCode | msgspec.UnsetType | None = msgspec.UNSET


class TaxRateOut(msgspec.Struct, frozen=True, kw_only=True):
    """A tax rate of the store."""

    id: UUID
    name: str
    country: str
    region: str | None
    rate_bp: int
    applies_to_shipping: bool
    tax_code: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
