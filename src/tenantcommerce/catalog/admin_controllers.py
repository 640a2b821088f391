"""Admin catalog endpoints: ``/api/admin/{slug}/products`` (and variants) and ``/api/admin/{slug}/inventory``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED

from tenantcommerce.auth.admin_controllers import ADMIN_PREFIX
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.catalog import admin
from tenantcommerce.catalog.services import ProductInput, VariantInput
from tenantcommerce.errors import problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime

Search = Annotated[str | None, Parameter(max_length=100, description="Matches name or slug, case-insensitive.")]


class AdminProductsController(Controller):
    """Products and variants of a store (read: ``products:read``; write: ``products:write``)."""

    path = f"{ADMIN_PREFIX}/products"
    tags = ["admin: catalog"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("products:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_products(
        self,
        runtime: NamedDependency[Runtime],
        status: FromQuery[admin.ProductStatus | None] = None,
        q: Search = None,
        sort: FromQuery[admin.ProductSort] = "-created_at",
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[admin.AdminProduct]:
        """Products of any status, filtered, sorted, paginated."""
        async with runtime.database.session() as session:
            items, total = await admin.list_products(session, status=status, q=q, sort=sort, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @post(
        "/",
        guards=[requires("products:write")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def create(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[ProductInput]
    ) -> admin.AdminProduct:
        """Create a product with its variants (prices in the store's currency)."""
        async with runtime.database.session() as session:
            return await admin.create(session, data, principal_of(request))

    @get("/{product_id:uuid}", guards=[requires("products:read")], responses=problem_responses(401, 403, 404))
    async def get_product(self, runtime: NamedDependency[Runtime], product_id: FromPath[UUID]) -> admin.AdminProduct:
        """One product with its variants and stock."""
        async with runtime.database.session() as session:
            return await admin.get_product(session, product_id)

    @patch(
        "/{product_id:uuid}",
        guards=[requires("products:write")],
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update(
        self, runtime: NamedDependency[Runtime], product_id: FromPath[UUID], data: JSONBody[admin.ProductUpdate]
    ) -> admin.AdminProduct:
        """Change name, slug, description or status (``archived`` takes a product off the storefront)."""
        async with runtime.database.session() as session:
            return await admin.update_product(session, product_id, data)

    @post(
        "/{product_id:uuid}/variants",
        guards=[requires("products:write")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def add_variant(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        data: JSONBody[VariantInput],
    ) -> admin.AdminProduct:
        """Add a variant."""
        async with runtime.database.session() as session:
            return await admin.add_variant(session, product_id, data, principal_of(request))

    @patch(
        "/{product_id:uuid}/variants/{variant_id:uuid}",
        guards=[requires("products:write")],
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update_variant(
        self,
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        variant_id: FromPath[UUID],
        data: JSONBody[admin.VariantUpdate],
    ) -> admin.AdminProduct:
        """Change a variant's SKU, title, price, attributes or position (stock: use inventory adjustments)."""
        async with runtime.database.session() as session:
            return await admin.update_variant(session, product_id, variant_id, data)


class InventoryController(Controller):
    """Stock adjustments with reasons, kept as history (``inventory:write``; reading: ``products:read``)."""

    path = f"{ADMIN_PREFIX}/inventory"
    tags = ["admin: inventory"]
    security = [{"session": []}, {"bearer": []}]

    @post(
        "/adjustments",
        guards=[requires("inventory:write")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def adjust(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        data: JSONBody[admin.StockAdjustmentInput],
    ) -> admin.StockAdjustmentOut:
        """Add or remove stock; never below zero."""
        async with runtime.database.session() as session:
            return await admin.adjust_stock(session, data, principal_of(request))

    @get("/adjustments", guards=[requires("products:read")], responses=problem_responses(400, 401, 403, 404))
    async def history(
        self,
        runtime: NamedDependency[Runtime],
        variant_id: FromQuery[UUID | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[admin.StockAdjustmentOut]:
        """The stock history, newest first."""
        async with runtime.database.session() as session:
            items, total = await admin.stock_history(session, variant_id=variant_id, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)
