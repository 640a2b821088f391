"""Writing the catalog through the ORM, always for the store in context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]


class VariantInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A variant to create; the price is in the store's currency."""

    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    price_minor: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "Default"
    inventory: Annotated[int, msgspec.Meta(ge=0, le=10**9)] = 0
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class ProductInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A product to create, with its variants."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    slug: Slug
    description: str = ""
    status: Annotated[str, msgspec.Meta(pattern=r"^(draft|active|archived)$")] = "draft"
    variants: list[VariantInput] = msgspec.field(default_factory=list)


async def create_product(session: AsyncSession, data: ProductInput) -> Product:
    """Add a product and its variants to the store in context (flushed, not committed)."""
    store = current_store()
    product = Product(name=data.name, slug=data.slug, description=data.description, status=data.status)
    session.add(product)
    await session.flush()
    for position, variant in enumerate(data.variants):
        session.add(
            ProductVariant(
                product_id=product.id,
                sku=variant.sku,
                title=variant.title,
                price_minor=variant.price_minor,
                currency=store.currency,
                inventory=variant.inventory,
                attributes=variant.attributes,
                position=position,
            )
        )
    await session.flush()
    return product
