"""``/admin/{slug}/``: today's orders and revenue, and the variants running low (any member)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Response
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantcommerce.auth.guards import store_member
from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.orders.models import Order
from tenantcommerce.runtime import Runtime
from tenantcommerce.web.admin.pages import html, store_page

LOW_STOCK = 5
"""A variant with this many or fewer available (on hand less held by checkouts) counts as low."""
LOW_STOCK_SHOWN = 10


@dataclass(frozen=True)
class LowStock:
    """A variant running low."""

    product_id: UUID
    product_name: str
    sku: str
    title: str
    available: int


@dataclass(frozen=True)
class Overview:
    """The overview's numbers."""

    orders_today: int
    revenue_today_minor: int
    low_stock: list[LowStock]


async def overview(session: AsyncSession, now: datetime.datetime | None = None) -> Overview:
    """Orders placed since midnight UTC (cancelled ones left out of the revenue, refunds taken off it) and the
    active products' variants with at most :data:`LOW_STOCK` available."""
    now = now or datetime.datetime.now(datetime.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    placed_today = Order.placed_at >= midnight
    count = await session.scalar(select(func.count()).select_from(Order).where(placed_today)) or 0
    revenue = (
        await session.scalar(
            select(func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0)).where(
                placed_today, Order.status != "cancelled"
            )
        )
        or 0
    )
    available = ProductVariant.inventory - ProductVariant.reserved
    rows = await session.execute(
        select(Product.id, Product.name, ProductVariant.sku, ProductVariant.title, available)
        .join(Product, and_(Product.store_id == ProductVariant.store_id, Product.id == ProductVariant.product_id))
        .where(Product.status == "active", available <= LOW_STOCK)
        .order_by(available, Product.name, ProductVariant.sku)
        .limit(LOW_STOCK_SHOWN)
    )
    low = [LowStock(row[0], row[1], row[2], row[3], int(row[4])) for row in rows]
    return Overview(orders_today=int(count), revenue_today_minor=int(revenue), low_stock=low)


class OverviewController(Controller):
    """The store's front page in the dashboard."""

    path = "/admin/{slug:str}"
    include_in_schema = False
    guards = [store_member]

    @get("/")
    async def show(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """Orders and revenue today, low stock."""
        context = await store_page(request, runtime, "overview")
        async with runtime.database.session() as session:
            numbers = await overview(session)
        return html(request, "overview.html", {**context, "overview": numbers, "low_stock_limit": LOW_STOCK})
