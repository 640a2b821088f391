"""Reading orders: the admin's list (filters, search) and detail, a customer's own orders, the guest lookup."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from sqlalchemy import ColumnElement, Select, func, or_, select

from tenantcommerce.customers.models import StoreCustomer
from tenantcommerce.errors import NotFound
from tenantcommerce.orders.models import Fulfillment, Order, OrderItem, Refund
from tenantcommerce.orders.schemas import (
    CustomerOrder,
    CustomerOrderSummary,
    OrderDetail,
    OrderSummary,
    customer_order_out,
    customer_summary_out,
    detail_out,
    summary_out,
)
from tenantcommerce.payments.models import Payment

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


_log = structlog.get_logger("tenantcommerce.orders")


@dataclass(frozen=True)
class OrderFilters:
    """Filters of the admin order list (``None``: no filter). Dates are UTC days, both ends included."""

    status: str | None = None
    payment_status: str | None = None
    fulfillment_status: str | None = None
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    customer_id: UUID | None = None
    number: int | None = None
    q: str | None = None


# --- reading ----------------------------------------------------------------------------------------------------------


def _item_count() -> Any:
    return (
        select(func.coalesce(func.sum(OrderItem.qty), 0))
        .where(OrderItem.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )


def _utc_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


async def list_orders(
    session: AsyncSession, filters: OrderFilters, *, limit: int, offset: int
) -> tuple[list[OrderSummary], int]:
    """The store's orders matching ``filters``, newest first, one page, and how many match in all."""
    query = select(Order)
    for column in ("status", "payment_status", "fulfillment_status", "customer_id"):
        value = getattr(filters, column)
        if value is not None:
            query = query.where(getattr(Order, column) == value)
    if filters.number is not None:
        query = query.where(Order.order_number == filters.number)
    if filters.created_from is not None:
        query = query.where(Order.created_at >= _utc_day(filters.created_from))
    if filters.created_to is not None:
        query = query.where(Order.created_at < _utc_day(filters.created_to + datetime.timedelta(days=1)))
    if filters.q:
        text = filters.q.strip()
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches: list[ColumnElement[bool]] = [Order.email.ilike(pattern)]
        number = text.removeprefix("#")
        if number.isdigit() and len(number) <= 18:
            matches.append(Order.order_number == int(number))
        query = query.where(or_(*matches))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.add_columns(_item_count()).order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    )
    return [summary_out(order, int(count)) for order, count in rows], total


async def find_order(session: AsyncSession, order_id: UUID, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    order = await session.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise NotFound("no such order in this store")
    return order


async def items_of(session: AsyncSession, order_id: UUID) -> list[OrderItem]:
    query = select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.created_at, OrderItem.id)
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def detail_of(session: AsyncSession, order: Order) -> OrderDetail:
    def of(model: Any) -> Any:
        return select(model).where(model.order_id == order.id).order_by(model.created_at, model.id)

    return detail_out(
        order,
        await items_of(session, order.id),
        list(await session.scalars(of(Payment))),
        list(await session.scalars(of(Fulfillment))),
        list(await session.scalars(of(Refund).execution_options(populate_existing=True))),
    )


async def get_order(session: AsyncSession, order_id: UUID) -> OrderDetail:
    """One order with its items, payments, fulfilments and refunds (another store's answers 404)."""
    return await detail_of(session, await find_order(session, order_id))


# --- the customer's side --------------------------------------------------------------------------------------------


def _customer_orders(user_id: UUID) -> Select[Order]:
    return select(Order).where(Order.customer_id.in_(select(StoreCustomer.id).where(StoreCustomer.user_id == user_id)))


async def customer_orders(
    session: AsyncSession, user_id: UUID, *, limit: int, offset: int
) -> tuple[list[CustomerOrderSummary], int]:
    """The orders of the store's customer who is user ``user_id``, newest first, one page, and their total."""
    query = _customer_orders(user_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.add_columns(_item_count()).order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    )
    return [customer_summary_out(order, int(count)) for order, count in rows], total


async def _customer_view(session: AsyncSession, order: Order | None) -> CustomerOrder:
    if order is None:
        raise NotFound("no such order")
    fulfillments = await session.scalars(
        select(Fulfillment).where(Fulfillment.order_id == order.id).order_by(Fulfillment.created_at, Fulfillment.id)
    )
    return customer_order_out(order, await items_of(session, order.id), list(fulfillments))


async def customer_order(session: AsyncSession, user_id: UUID, order_number: int) -> CustomerOrder:
    """One of the customer's orders by number (anyone else's answers 404)."""
    query = _customer_orders(user_id).where(Order.order_number == order_number)
    return await _customer_view(session, await session.scalar(query))


async def lookup_order(session: AsyncSession, order_number: int, email: str) -> CustomerOrder:
    """A guest's order by number and e-mail address; any mismatch answers the same 404."""
    query = select(Order).where(Order.order_number == order_number, func.lower(Order.email) == email.strip().lower())
    try:
        return await _customer_view(session, await session.scalar(query))
    except NotFound:
        raise NotFound("no order with this number and e-mail address") from None
