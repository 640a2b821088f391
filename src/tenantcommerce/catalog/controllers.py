"""Storefront catalog endpoints: ``/api/storefront/{slug}/products`` and ``.../products/{product_slug}``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from tenantcommerce.auth.sessions import ANONYMOUS_OPT
from tenantcommerce.catalog import storefront
from tenantcommerce.catalog.schemas import PRODUCT_SLUG, StorefrontProduct, StorefrontProductPage
from tenantcommerce.catalog.storefront import ProductSort
from tenantcommerce.errors import NotFound, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

SEARCH_MAX_LENGTH = 100
Search = Annotated[
    str, Parameter(max_length=SEARCH_MAX_LENGTH, description="Only products whose name contains this (any case).")
]
InStock = Annotated[bool, Parameter(description="Only products with a variant in stock.")]
Sort = Annotated[
    ProductSort,
    Parameter(description="newest, price_asc or price_desc (by the lowest variant price), or name."),
]


class StorefrontCatalogController(Controller):
    """Public catalog of one store."""

    path = "/api/storefront/{slug:str}/products"
    tags = ["storefront"]
    opt = {ANONYMOUS_OPT: True}  # public reads: no session, CSRF or sign-in work on the hot path

    @get("/", summary="List the store's active products", responses=problem_responses(400, 403, 404))
    async def list_products(
        self,
        runtime: NamedDependency[Runtime],
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
        q: Search = "",
        in_stock: InStock = False,
        sort: Sort = ProductSort.NEWEST,
    ) -> StorefrontProductPage:
        """Active products, each with its variants and prices: newest first unless ``sort`` says otherwise, optionally
        only those whose name contains ``q`` or those in stock."""
        return await storefront.find_products(
            runtime.database,
            current_store().id,
            limit=limit,
            offset=offset,
            query=q.strip(),
            in_stock=in_stock,
            sort=sort,
        )

    @get("/{product_slug:str}", summary="Get one active product", responses=problem_responses(403, 404))
    async def get_product(self, runtime: NamedDependency[Runtime], product_slug: FromPath[str]) -> StorefrontProduct:
        """One active product by slug; another store's or an unknown slug answers 404."""
        product = None
        if PRODUCT_SLUG.fullmatch(product_slug):
            product = await storefront.get_product(runtime.database, current_store().id, product_slug)
        if product is None:
            raise NotFound(f"no product {product_slug!r} in this store")
        return product
