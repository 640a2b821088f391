"""Catalog schemas (msgspec): the storefront API, and product media in the admin API."""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile

from tenantcommerce.fields import NO_NUL
from tenantcommerce.lists import Page
from tenantcommerce.money import Money

PRODUCT_SLUG = re.compile(r"^(?=.{1,200}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
"""The shape of a product slug (the ``products.slug`` check constraint says the same)."""


class StorefrontMedia(msgspec.Struct, frozen=True):
    """An image of a product as shoppers see it; ``url`` is relative to the site's root."""

    id: UUID
    url: str
    alt: str
    width: int | None
    height: int | None
    variant_id: UUID | None
    content_type: str


class StorefrontVariant(msgspec.Struct, frozen=True):
    """A variant as shoppers see it: ``available`` is the stock on hand less what checkouts hold (never below 0)."""

    id: UUID
    sku: str
    title: str
    price: Money
    in_stock: bool
    available: int
    attributes: dict[str, Any]


class StorefrontProduct(msgspec.Struct, frozen=True):
    """An active product with its variants and its images (in their display order)."""

    id: UUID
    slug: str
    name: str
    description: str
    variants: list[StorefrontVariant]
    media: list[StorefrontMedia]


StorefrontProductPage = Page[StorefrontProduct]


# --- product media (admin) -----------------------------------------------------------------------------------------

Alt = Annotated[str, msgspec.Meta(max_length=300, pattern=NO_NUL, description="Text for readers who cannot see it.")]
Position = Annotated[int, msgspec.Meta(ge=0, le=10_000, description="Display order, lowest first.")]


class MediaUpload(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The multipart form of an upload: the image in ``file`` and, optionally, its alt text, variant and position."""

    file: UploadFile
    alt: Alt = ""
    variant_id: UUID | None = None
    """The variant the image shows (one of this product's); none: the product as a whole."""
    position: Position | None = None
    """Display order; none: after the product's other images."""


class MediaUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Media fields to change; absent ones stay. ``variant_id: null`` detaches the image from its variant."""

    alt: Alt | msgspec.UnsetType = msgspec.UNSET
    position: Position | msgspec.UnsetType = msgspec.UNSET
    variant_id: UUID | msgspec.UnsetType | None = msgspec.UNSET


class AdminMedia(msgspec.Struct, frozen=True):
    """An image of a product, with what the storage holds about it."""

    id: UUID
    product_id: UUID
    variant_id: UUID | None
    url: str
    """Where the storefront serves the file (relative to the site's root): answered only while the product is
    active."""
    content_type: str
    byte_size: int
    sha256: str
    width: int | None
    height: int | None
    alt: str
    position: int
    created_at: datetime.datetime
