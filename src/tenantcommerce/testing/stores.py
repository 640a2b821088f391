"""Stores with catalogs for tests: ``two_stores`` gives stores A and B with products of their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tenantcommerce.catalog.services import ProductInput, VariantInput, create_product
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.tenancy.services import create_store

if TYPE_CHECKING:
    from uuid import UUID

    from tenantcommerce.db.database import Database


@dataclass(frozen=True)
class StoreFixture:
    """A test store and what it holds."""

    store: StoreContext
    product_slugs: list[str]
    product_ids: list[UUID] = field(default_factory=list)
    draft_slug: str = ""

    @property
    def id(self) -> UUID:
        """The store id."""
        return self.store.id

    @property
    def slug(self) -> str:
        """The store slug."""
        return self.store.slug


@dataclass(frozen=True)
class TwoStores:
    """Store ``a`` and store ``b``, each with three active products and one draft."""

    a: StoreFixture
    b: StoreFixture


async def make_store(database: Database, slug: str, currency: str, *, products: int = 3) -> StoreFixture:
    """Create store ``slug`` with ``products`` active products (two variants each) and one draft."""
    store = await create_store(
        database,
        slug=slug,
        name=slug.replace("-", " ").title(),
        currency=currency,
        owner_email=f"owner@{slug}.test",
    )
    slugs: list[str] = []
    ids: list[UUID] = []
    with use_store(store):
        async with database.session() as session:
            for index in range(products):
                product_slug = f"{slug}-product-{index + 1}"
                product = await create_product(
                    session,
                    ProductInput(
                        name=f"{slug} product {index + 1}",
                        slug=product_slug,
                        status="active",
                        variants=[
                            VariantInput(
                                sku=f"{slug}-{index + 1}-s",
                                title="Small",
                                price_minor=1000 + index,
                                inventory=5,
                            ),
                            VariantInput(sku=f"{slug}-{index + 1}-l", title="Large", price_minor=1500 + index),
                        ],
                    ),
                )
                slugs.append(product_slug)
                ids.append(product.id)
            draft = f"{slug}-draft"
            await create_product(
                session,
                ProductInput(
                    name="Draft",
                    slug=draft,
                    status="draft",
                    variants=[VariantInput(sku=f"{slug}-d", price_minor=1)],
                ),
            )
            await session.commit()
    return StoreFixture(store=store, product_slugs=slugs, product_ids=ids, draft_slug=draft)


async def make_two_stores(database: Database) -> TwoStores:
    """Stores ``alpha`` (EUR) and ``bravo`` (USD)."""
    return TwoStores(a=await make_store(database, "alpha", "EUR"), b=await make_store(database, "bravo", "USD"))
