"""Discount schemas (msgspec) of the admin API.

Codes arrive as typed (up to 100 characters, no NUL) and are normalised by the service (stripped, upper-cased)
before they are checked against :data:`CODE_PATTERN`. Amounts are minor units of the store's currency.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tenantcommerce.fields import Text100
from tenantcommerce.money import Money

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,49}$")
"""The shape of a normalised code (the ``discounts.code`` check constraint says the same)."""

DiscountKind = Literal["percentage", "fixed_amount", "free_shipping"]
"""``percentage``: ``value`` in basis points (1,000 = 10 %); ``fixed_amount``: ``value`` in minor units;
``free_shipping``: no ``value`` (0)."""

MAX_AMOUNT = 10**12
"""The largest amount (minor units) or value the API accepts."""

Value = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT, description="Basis points, minor units or 0, by kind.")]
Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT, description="Minor units of the store's currency.")]
UsageLimit = Annotated[int, msgspec.Meta(ge=1, le=10**9, description="Uses allowed in all; null: no limit.")]
Moment = Annotated[datetime.datetime, msgspec.Meta(tz=True, description="An instant with its UTC offset.")]


class DiscountInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A discount code to create."""

    code: Text100
    kind: DiscountKind
    value: Value | msgspec.UnsetType = msgspec.UNSET
    """Required for ``percentage`` (1 to 10,000 basis points) and ``fixed_amount`` (> 0); 0 or omitted for
    ``free_shipping``."""
    min_subtotal_minor: Amount = 0
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    usage_limit: UsageLimit | None = None
    active: bool = True


class DiscountUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fields to change; absent ones stay, ``null`` clears a date or the usage limit.

    ``kind`` cannot change: when sent it must be the current one (else 422).
    """

    code: Text100 | msgspec.UnsetType = msgspec.UNSET
    kind: DiscountKind | msgspec.UnsetType = msgspec.UNSET
    value: Value | msgspec.UnsetType = msgspec.UNSET
    min_subtotal_minor: Amount | msgspec.UnsetType = msgspec.UNSET
    starts_at: Moment | msgspec.UnsetType | None = msgspec.UNSET
    ends_at: Moment | msgspec.UnsetType | None = msgspec.UNSET
    usage_limit: UsageLimit | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class DiscountOut(msgspec.Struct, frozen=True):
    """A discount code as the admin sees it."""

    id: UUID
    code: str
    kind: str
    value: int
    """Basis points (``percentage``), minor units of the store's currency (``fixed_amount``) or 0."""
    min_subtotal: Money
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    usage_limit: int | None
    times_used: int
    active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
