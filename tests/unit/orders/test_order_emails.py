"""The order e-mails: who they go to, their kind, and amounts rendered by ``Money.format`` (no I/O)."""

from __future__ import annotations

from uuid import uuid4

from tenantcommerce.orders import emails
from tenantcommerce.orders.models import Fulfillment, Order, OrderItem
from tenantcommerce.tenancy.context import StoreContext

STORE = StoreContext(id=uuid4(), slug="alpha", name="Alpha Beans", currency="JPY", status="active")
ADDRESS = {"name": "Ada", "line1": "Unter den Linden 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def order(**overrides: object) -> Order:
    values: dict[str, object] = {
        "id": uuid4(), "order_number": 1001, "email": "ada@example.com", "currency": "EUR", "subtotal_minor": 3500,
        "discount_minor": 350, "shipping_minor": 500, "tax_minor": 0, "total_minor": 3650, "payment_status": "pending",
        "shipping_address": ADDRESS,
    }  # fmt: skip
    values.update(overrides)
    return Order(**values)


def item(sku: str, qty: int, total: int, title: str = "Small", shipped: int = 0) -> OrderItem:
    return OrderItem(id=uuid4(), sku=sku, product_name=f"Beans {sku}", variant_title=title, qty=qty,
                     unit_price_minor=total // qty, total_price_minor=total, fulfilled_qty=shipped,
                     restocked_qty=0)  # fmt: skip


def test_the_confirmation_lists_lines_and_totals_in_the_orders_currency() -> None:
    lines = [item("A", 2, 2000), item("B", 1, 1500, title="")]
    message = emails.order_confirmation(order(), lines, STORE, instructions="Transfer to DE89 quoting PAY-X")

    assert (message.to, message.kind) == ("ada@example.com", "order-confirmation")
    assert message.subject == "Your order #1001 at Alpha Beans"
    assert "2 x Beans A (Small) [A]  20.00 EUR" in message.body
    assert "1 x Beans B [B]  15.00 EUR" in message.body
    assert "Discount: -3.50 EUR" in message.body
    assert "Shipping: 5.00 EUR" in message.body
    assert "Total: 36.50 EUR" in message.body
    assert "Tax:" not in message.body
    assert "Transfer to DE89 quoting PAY-X" in message.body
    assert "Berlin" in message.body


def test_a_paid_order_says_so_instead_of_how_to_pay() -> None:
    message = emails.order_confirmation(order(payment_status="paid", currency="JPY", total_minor=1200), [], STORE,
                                        instructions="pay us")  # fmt: skip
    assert "We have received your payment." in message.body
    assert "pay us" not in message.body
    assert "Total: 1200 JPY" in message.body, "yen have no minor digits"


def test_the_shipping_notice_lists_the_parcel_and_its_tracking() -> None:
    first, second = item("A", 2, 2000, shipped=2), item("B", 1, 1500)
    shipment = Fulfillment(lines=[{"order_item_id": str(first.id), "qty": 2}], tracking_number="T-1",
                           tracking_url="https://track.test/T-1")  # fmt: skip

    message = emails.order_shipped(order(), [first, second], shipment, STORE)

    assert (message.to, message.kind) == ("ada@example.com", "order-shipped")
    assert message.subject == "Your order #1001 at Alpha Beans has shipped"
    assert "2 x Beans A (Small) [A]" in message.body
    assert "Beans B" not in message.body
    assert "Tracking number: T-1" in message.body
    assert "Follow it at: https://track.test/T-1" in message.body
    assert "The rest of your order will follow" in message.body
    assert "Order total: 36.50 EUR" in message.body
