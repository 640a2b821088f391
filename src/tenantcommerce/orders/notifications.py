"""Mail sent when an order is placed: the confirmation, after the placing transaction committed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import select

from tenantcommerce.orders import emails
from tenantcommerce.orders.models import Order, OrderItem
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from tenantcommerce.runtime import Runtime


async def send_order_confirmation(runtime: Runtime, order_id: UUID) -> None:
    """Send the order's confirmation to its e-mail address through the platform's mailer."""
    async with runtime.database.session() as session:
        order = await session.scalar(select(Order).where(Order.id == order_id))
        if order is None:
            return
        items = list(await session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)))
    await runtime.mailer.send(emails.order_confirmation(order, items, current_store()))
