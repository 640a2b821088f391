"""Writing the catalog through the ORM, always for the store in context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec

from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.fields import Attributes, LongText, Text100, Text200
from tenantcommerce.inventory.models import InventoryAdjustment
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]


class VariantInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A variant to create; the price is in the store's currency."""

    sku: Text100
    price_minor: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    title: Text200 = "Default"
    inventory: Annotated[int, msgspec.Meta(ge=0, le=10**9)] = 0
    attributes: Attributes = msgspec.field(default_factory=dict)
    weight_grams: Annotated[int, msgspec.Meta(ge=0, le=10**8)] | None = None
    """The shipping weight (carriers with weight bands use it)."""


class ProductInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A product to create, with its variants."""

    name: Text200
    slug: Slug
    description: LongText = ""
    status: Annotated[str, msgspec.Meta(pattern=r"^(draft|active|archived)$")] = "draft"
    variants: Annotated[list[VariantInput], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)


async def create_product(session: AsyncSession, data: ProductInput, *, actor_user_id: UUID | None = None) -> Product:
    """Add a product and its variants to the store in context (flushed, not committed)."""
    product = Product(name=data.name, slug=data.slug, description=data.description, status=data.status)
    session.add(product)
    await session.flush()
    for position, variant in enumerate(data.variants):
        await add_variant(session, product, variant, position=position, actor_user_id=actor_user_id)
    return product


async def add_variant(
    session: AsyncSession, product: Product, data: VariantInput, *, position: int, actor_user_id: UUID | None = None
) -> ProductVariant:
    """Add a variant priced in the store's currency; initial stock is recorded in the stock history."""
    variant = ProductVariant(
        product_id=product.id,
        sku=data.sku,
        title=data.title,
        price_minor=data.price_minor,
        currency=current_store().currency,
        inventory=data.inventory,
        attributes=data.attributes,
        weight_grams=data.weight_grams,
        position=position,
    )
    session.add(variant)
    await session.flush()
    if data.inventory:
        session.add(
            InventoryAdjustment(
                variant_id=variant.id,
                delta=data.inventory,
                inventory_after=data.inventory,
                reason="initial stock",
                actor_user_id=actor_user_id,
            )
        )
        await session.flush()
    return variant
