"""The e-mails an order sends its customer: the confirmation when it is placed and a notice for each shipment.

Each function builds a plain-text :class:`~tenantcommerce.auth.mailer.EmailMessage`; the caller sends it through
``runtime.mailer`` after its transaction committed. Amounts are rendered with :meth:`Money.format`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tenantcommerce.auth.mailer import EmailMessage
from tenantcommerce.money import Money

if TYPE_CHECKING:
    from tenantcommerce.orders.models import Fulfillment, Order, OrderItem
    from tenantcommerce.tenancy.context import StoreContext

CONFIRMATION_KIND = "order-confirmation"
SHIPPED_KIND = "order-shipped"


def _money(amount_minor: int, currency: str) -> str:
    return Money(amount_minor, currency).format()


def _item_line(item: OrderItem, qty: int, currency: str | None = None) -> str:
    name = item.product_name if not item.variant_title else f"{item.product_name} ({item.variant_title})"
    line = f"  {qty} x {name} [{item.sku}]"
    return f"{line}  {_money(item.total_price_minor, currency)}" if currency else line


def _address(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return []
    keys = ("name", "line1", "line2", "postal_code", "city", "region", "country")
    return ["  " + str(address[key]) for key in keys if address.get(key)]


def order_confirmation(
    order: Order, items: Sequence[OrderItem], store: StoreContext, *, instructions: str | None = None
) -> EmailMessage:
    """The confirmation of a placed order (kind ``order-confirmation``).

    Args:
        order: the placed order.
        items: its lines.
        store: the store it was placed at.
        instructions: what the customer must still do to pay (manual gateways: the bank details and reference).
    """
    currency = order.currency
    body = [
        f"Thank you for your order at {store.name}.",
        "",
        f"Order #{order.order_number}",
        *(_item_line(item, item.qty, currency) for item in items),
        "",
        f"Subtotal: {_money(order.subtotal_minor, currency)}",
    ]
    if order.discount_minor:
        body.append(f"Discount: -{_money(order.discount_minor, currency)}")
    body.append(f"Shipping: {_money(order.shipping_minor, currency)}")
    if order.tax_minor:
        body.append(f"Tax: {_money(order.tax_minor, currency)}")
    body.append(f"Total: {_money(order.total_minor, currency)}")
    shipping = _address(order.shipping_address)
    if shipping:
        body += ["", "Shipping to:", *shipping]
    if order.payment_status == "paid":
        body += ["", "We have received your payment."]
    elif instructions:
        body += ["", "How to pay:", instructions]
    body += ["", "We will write again when your order ships."]
    return EmailMessage(
        to=order.email,
        subject=f"Your order #{order.order_number} at {store.name}",
        body="\n".join(body),
        kind=CONFIRMATION_KIND,
    )


def order_shipped(
    order: Order, items: Sequence[OrderItem], fulfillment: Fulfillment, store: StoreContext
) -> EmailMessage:
    """The notice of one shipment (kind ``order-shipped``): what is in the parcel and how to follow it."""
    by_id = {str(item.id): item for item in items}
    shipped = []
    for line in fulfillment.lines:
        item = by_id.get(str(line["order_item_id"]))
        if item is not None:
            shipped.append(_item_line(item, int(line["qty"])))
    waiting = sum(max(0, item.qty - item.fulfilled_qty - item.restocked_qty) for item in items)
    body = [
        f"Good news: part of your order #{order.order_number} at {store.name} is on its way."
        if waiting
        else f"Good news: your order #{order.order_number} at {store.name} is on its way.",
        "",
        "In this parcel:",
        *shipped,
    ]
    if fulfillment.tracking_number:
        body += ["", f"Tracking number: {fulfillment.tracking_number}"]
    if fulfillment.tracking_url:
        body.append(f"Follow it at: {fulfillment.tracking_url}")
    shipping = _address(order.shipping_address)
    if shipping:
        body += ["", "Shipping to:", *shipping]
    if waiting:
        body += ["", "The rest of your order will follow in another parcel."]
    body += ["", f"Order total: {_money(order.total_minor, order.currency)}"]
    return EmailMessage(
        to=order.email,
        subject=f"Your order #{order.order_number} at {store.name} has shipped",
        body="\n".join(body),
        kind=SHIPPED_KIND,
    )
