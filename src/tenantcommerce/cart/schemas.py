"""Cart schemas (msgspec) of the storefront API."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tenantcommerce.cart.models import MAX_LINE_QUANTITY
from tenantcommerce.money import Money

Quantity = Annotated[int, msgspec.Meta(ge=1, le=MAX_LINE_QUANTITY, description=f"1 to {MAX_LINE_QUANTITY}.")]


class AddItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Put ``qty`` more of a variant in the cart."""

    variant_id: UUID
    qty: Quantity = 1


class SetQuantity(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The new quantity of a line (remove a line with ``DELETE``)."""

    qty: Quantity


class CartLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line, priced now."""

    variant_id: UUID
    product_id: UUID
    product_slug: str
    product_name: str
    variant_title: str
    sku: str
    qty: int
    unit_price: Money
    line_total: Money
    available: int
    """How many can be bought now (stock on hand minus what checkouts hold)."""
    purchasable: bool
    """The product is on sale and ``qty`` is available."""


ChangeKind = Literal["price_changed", "unavailable", "insufficient_stock"]


class CartChange(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Something that changed since the shopper last saw the cart."""

    variant_id: UUID
    kind: ChangeKind
    message: str
    previous_price: Money | None = None
    price: Money | None = None
    available: int | None = None


class CartOut(msgspec.Struct, frozen=True, kw_only=True):
    """A cart, revalidated: current prices and availability, and what changed."""

    id: UUID
    token: str | None
    """The guest cart's token: send it back in ``X-Cart-Token`` (also set as the ``tc_cart`` cookie). Only in the
    answer that created the cart; ``null`` afterwards and for customers' carts."""
    currency: str
    lines: list[CartLine]
    subtotal: Money
    item_count: int
    changes: list[CartChange]
    checkout_ready: bool
    """Every line can be bought as it stands."""
