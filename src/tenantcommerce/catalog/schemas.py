"""Catalog schemas (msgspec) of the storefront API."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import msgspec

from tenantcommerce.lists import Page
from tenantcommerce.money import Money

PRODUCT_SLUG = re.compile(r"^(?=.{1,200}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
"""The shape of a product slug (the ``products.slug`` check constraint says the same)."""


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
