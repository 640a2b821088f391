"""``/admin/{slug}/customers``: the store's customers (signed up or guests) with their orders and spend
(``customers:read``). Reading only: the JSON API has no customer admin yet, so the page reads ``store_customers``
through the ORM, in the store's scope, like every other admin read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Response
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantcommerce.auth.guards import requires
from tenantcommerce.customers.models import StoreCustomer
from tenantcommerce.orders.models import Order
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.web.admin.pages import html, store_page

PAGE_SIZE = 25

Search = Annotated[str | None, QueryParameter(max_length=320)]
Page = Annotated[int, QueryParameter(ge=1, le=100_000)]


@dataclass(frozen=True)
class CustomerRow:
    """A customer in the list."""

    id: UUID
    email: str
    name: str | None
    signed_up: bool
    orders: int
    spent_minor: int


async def list_customers(
    session: AsyncSession, *, q: str | None, limit: int, offset: int
) -> tuple[list[CustomerRow], int]:
    """Customers, newest first, matching ``q`` (part of the e-mail or name), with their orders (cancelled ones left
    out) and what those came to after refunds."""
    query = select(StoreCustomer)
    if q:
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(StoreCustomer.email.ilike(pattern), StoreCustomer.name.ilike(pattern)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = (
        query.order_by(StoreCustomer.created_at.desc(), StoreCustomer.id.desc()).limit(limit).offset(offset).subquery()
    )
    rows = await session.execute(
        select(
            page.c.id,
            page.c.email,
            page.c.name,
            page.c.user_id,
            func.count(Order.id),
            func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0),
        )
        .outerjoin(
            Order,
            and_(Order.store_id == page.c.store_id, Order.customer_id == page.c.id, Order.status != "cancelled"),
        )
        .group_by(page.c.id, page.c.email, page.c.name, page.c.user_id, page.c.created_at)
        .order_by(page.c.created_at.desc(), page.c.id.desc())
    )
    items = [CustomerRow(row[0], row[1], row[2], row[3] is not None, int(row[4]), int(row[5])) for row in rows]
    return items, int(total)


class CustomersPagesController(Controller):
    """Customers of a store, as a page."""

    path = "/admin/{slug:str}/customers"
    include_in_schema = False

    @get("/", guards=[requires("customers:read")])
    async def list_page(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], q: Search = None, page: Page = 1
    ) -> Response[str]:
        """Customers, searched by e-mail or name."""
        context = await store_page(request, runtime, "customers")
        async with runtime.database.session() as session:
            items, total = await list_customers(session, q=q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return html(
            request,
            "customers.html",
            {
                **context,
                "customers": items,
                "total": total,
                "page": page,
                "pages": max(1, math.ceil(total / PAGE_SIZE)),
                "filters": {"q": q} if q else {},
                "currency": current_store().currency,
            },
        )
