"""Mail sent when an order is placed: the confirmation, after the placing transaction committed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import select

from tenantcommerce.orders import emails
from tenantcommerce.orders.models import Order, OrderItem
from tenantcommerce.payments.models import Payment
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from tenantcommerce.runtime import Runtime


async def send_order_confirmation(runtime: Runtime, order_id: UUID) -> None:
    """Send the order's confirmation (with what the customer must still do to pay) through the platform's mailer."""
    async with runtime.database.session() as session:
        order = await session.scalar(select(Order).where(Order.id == order_id))
        if order is None:
            return
        items = list(await session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)))
        response = await session.scalar(select(Payment.gateway_response).where(Payment.order_id == order_id))
    instructions = (response or {}).get("instructions")
    await runtime.mailer.send(emails.order_confirmation(order, items, current_store(), instructions=instructions))
