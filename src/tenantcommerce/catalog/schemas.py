"""Catalog schemas (msgspec) of the storefront API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from tenantcommerce.lists import Page
from tenantcommerce.money import Money


class StorefrontVariant(msgspec.Struct, frozen=True):
    """A variant as shoppers see it."""

    id: UUID
    sku: str
    title: str
    price: Money
    in_stock: bool
    attributes: dict[str, Any]


class StorefrontProduct(msgspec.Struct, frozen=True):
    """An active product with its variants."""

    id: UUID
    slug: str
    name: str
    description: str
    variants: list[StorefrontVariant]


StorefrontProductPage = Page[StorefrontProduct]
