"""Placing an order: a checkout whose payment succeeded (or will settle later) becomes an order, in one transaction.

In that transaction: the order takes the store's next number from its counter row; its items keep the price, discount
and tax of each line; the reservation becomes a stock decrement (with history); the payment row is recorded
(``unique(store_id, transaction_id)``); the discount's redemption is recorded; the cart is emptied; ``order.placed``
(and ``order.paid`` when the money is in) go into the outbox. ``unique(store_id, checkout_id)`` on ``orders`` makes a
second placement of one checkout fail instead of making a second order.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import delete, text, update

from tenantcommerce.cart.models import Cart, CartItem
from tenantcommerce.checkout.schemas import LineSnapshot, Totals
from tenantcommerce.db.base import new_id
from tenantcommerce.discounts import usage
from tenantcommerce.inventory import reservations
from tenantcommerce.jobs.outbox import emit
from tenantcommerce.orders.models import Order, OrderItem
from tenantcommerce.payments.models import Payment
from tenantcommerce.plugins.events import OrderEvent
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.checkout.models import Checkout
    from tenantcommerce.plugins.providers import PaymentResult

FIRST_ORDER_NUMBER = 1001

_NEXT_NUMBER = text(
    "INSERT INTO order_counters (store_id, id, last_number) VALUES (:store, :id, :first) "
    "ON CONFLICT (store_id) DO UPDATE SET last_number = order_counters.last_number + 1 RETURNING last_number"
)


async def next_order_number(session: AsyncSession) -> int:
    """The store's next order number (1001 first); the counter row stays locked until the transaction ends."""
    number = await session.scalar(
        _NEXT_NUMBER, {"store": current_store().id, "id": new_id(), "first": FIRST_ORDER_NUMBER}
    )
    assert isinstance(number, int)
    return number


def order_event(order: Order) -> OrderEvent:
    """The outbox payload of an order."""
    return OrderEvent(
        order_id=order.id,
        order_number=order.order_number,
        total_minor=order.total_minor,
        currency=order.currency,
        payment_status=order.payment_status,
    )


@dataclass(frozen=True)
class PlacedOrder:
    """An order just placed, with its items (for the confirmation, without reading them again)."""

    order: Order
    items: list[OrderItem]


async def place_order(
    session: AsyncSession, checkout: Checkout, payment: PaymentResult, *, take_stock: bool = True
) -> PlacedOrder:
    """Turn ``checkout`` into an order (see the module's docstring). Does not commit.

    ``take_stock=False`` places an order whose goods are not taken from stock (a payment that arrived after its hold
    expired, when the stock is gone): its items count as restocked already, so cancelling it puts nothing back.

    Raises:
        OutOfStock: the reservation had expired and the stock is gone.
    """
    lines = msgspec.convert(checkout.lines, list[LineSnapshot])
    totals = msgspec.convert(checkout.totals, Totals)
    paid = payment.status == "succeeded"
    now = datetime.datetime.now(datetime.UTC)
    # The stock first, the store's counter row last: placements in one store queue on the counter only briefly.
    sales = []
    if take_stock:
        sales = await reservations.sell(session, checkout.id, [(line.variant_id, line.qty) for line in lines])
    else:
        await reservations.release(session, checkout.id)
    number = await next_order_number(session)
    await reservations.record_sales(session, sales, reason=f"order #{number}")
    order = Order(
        checkout_id=checkout.id,
        customer_id=checkout.customer_id,
        order_number=number,
        email=checkout.email or "",
        payment_status="paid" if paid else "pending",
        currency=totals.currency,
        subtotal_minor=totals.subtotal_minor,
        discount_minor=totals.discount_minor,
        shipping_minor=totals.shipping_minor,
        tax_minor=totals.tax_minor,
        total_minor=totals.total_minor,
        shipping_address=checkout.shipping_address,
        billing_address=checkout.billing_address or checkout.shipping_address,
        placed_at=now,
        payment_method=checkout.payment_method,
        shipping_choice=checkout.shipping_choice,
        discount_code=checkout.discount_code,
        tax_breakdown={
            "prices_include_tax": totals.prices_include_tax,
            "shipping_tax_minor": totals.shipping_tax_minor,
        },
    )
    session.add(order)
    await session.flush()
    priced = {line.variant_id: line for line in totals.lines}
    items: list[OrderItem] = []
    for line in lines:
        share = priced[line.variant_id]
        items.append(
            OrderItem(
                order_id=order.id,
                product_id=line.product_id,
                variant_id=line.variant_id,
                sku=line.sku,
                product_name=line.product_name,
                variant_title=line.variant_title,
                qty=line.qty,
                unit_price_minor=line.unit_price_minor,
                total_price_minor=share.subtotal_minor,
                discount_minor=share.discount_minor,
                tax_minor=share.tax_minor,
                restocked_qty=0 if take_stock else line.qty,
            )
        )
    session.add_all(items)
    session.add(
        Payment(
            order_id=order.id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            method=checkout.payment_method or "",
            status="succeeded" if paid else "pending",
            transaction_id=payment.payment_ref,
            gateway_response={"status": payment.status, "instructions": payment.instructions},
        )
    )
    if checkout.discount_id is not None:
        await usage.record(session, checkout.discount_id, order_id=order.id, amount_minor=totals.discount_minor)
    if checkout.cart_id is not None:
        await session.execute(delete(CartItem).where(CartItem.cart_id == checkout.cart_id))
        await session.execute(update(Cart).where(Cart.id == checkout.cart_id).values(status="checked_out"))
    checkout.status = "completed"
    checkout.order_id = order.id
    checkout.expires_at = None
    await session.flush()
    await emit(session, "order.placed", order_event(order))
    if paid:
        await emit(session, "order.paid", order_event(order))
    return PlacedOrder(order, items)
