"""A guest browses, fills a cart, checks out and pays by bank transfer, through the HTTP API with the three plugin
packages (manual payments, rate-table shipping, rate-table tax): the order is placed at once with the store's next
number, the stock goes down with a history entry, the payment is pending under the gateway's reference,
``order.placed`` is in the outbox, the confirmation is mailed and the cart is emptied."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from tenantcommerce.auth.mailer import RecordingMailer
from tenantcommerce.testing.stores import TwoStores

EMAIL = "ada@example.com"
ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}


def amounts(totals: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """``(subtotal, discount, shipping, tax, total)`` of a checkout's totals."""
    return tuple(totals[name]["amount_minor"] for name in ("subtotal", "discount", "shipping", "tax", "total"))  # type: ignore[return-value]


async def test_guest_browses_fills_a_cart_checks_out_and_pays_by_bank_transfer(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    tc_mailer: RecordingMailer,
) -> None:
    guest = shopper("alpha")
    # Browse: the catalog shows the variant with its price and what is available.
    listing = (await guest.client.get(guest.url("products"))).json()
    assert {item["slug"] for item in listing["items"]} == set(shop.a.product_slugs)
    variant = await guest.variant(shop.a.product_slugs[0])
    assert (variant["price"]["amount_minor"], variant["available"]) == (1000, 5)
    other = await variant_id(shop.a, 1)

    # Cart: add, change, remove.
    created = await guest.call("POST", "cart/items", {"variant_id": variant["id"], "qty": 2})
    assert created.status_code == 200, created.text
    assert created.json()["token"], "a new guest cart hands out its token"
    assert created.cookies.get("tc_cart") == created.json()["token"]
    cookie = created.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "domain=" not in cookie, "host-only"
    await guest.add(other, 1)
    changed = await guest.call("PATCH", f"cart/items/{other}", {"qty": 3})
    assert changed.status_code == 200, changed.text
    assert [(line["sku"], line["qty"]) for line in changed.json()["lines"]] == [("alpha-1-s", 2), ("alpha-2-s", 3)]
    assert changed.json()["subtotal"]["amount_minor"] == 2 * 1000 + 3 * 1001
    assert changed.json()["token"] is None, "the token is only in the answer that created the cart"
    removed = await guest.call("DELETE", f"cart/items/{other}")
    assert removed.status_code == 200, removed.text
    cart = await guest.cart()
    assert [(line["sku"], line["qty"]) for line in cart["lines"]] == [("alpha-1-s", 2)]
    assert (cart["subtotal"]["amount_minor"], cart["item_count"], cart["checkout_ready"]) == (2000, 2, True)
    assert cart["changes"] == []

    # Checkout: no quotes (and no tax) before the address; quotes after; totals through the pipeline.
    checkout = await guest.checkout()
    checkout_id = checkout["id"]
    assert checkout["status"] == "open"
    assert checkout["shipping_quotes"] == []
    assert amounts(checkout["totals"]) == (2000, 0, 0, 0, 2000)
    # The store turned on bank transfer only: pay on delivery (same plugin) is not offered.
    assert [method["id"] for method in checkout["payment_methods"]] == ["bank-transfer"]
    with_address = await guest.update(checkout_id, {"shipping_address": ADDRESS})
    quotes = with_address["shipping_quotes"]
    assert [(quote["carrier_id"], quote["name"], quote["amount"]["amount_minor"]) for quote in quotes] == [
        ("rate-table", "Standard", 500)
    ]
    assert amounts(with_address["totals"]) == (2000, 0, 0, 400, 2400), "tax once the destination is known"
    chosen = await guest.update(
        checkout_id,
        {"shipping": {"carrier_id": "rate-table", "rate_id": quotes[0]["rate_id"]}, "payment_method": "bank-transfer"},
    )
    assert amounts(chosen["totals"]) == (2000, 0, 500, 400, 2900)
    assert chosen["totals"]["prices_include_tax"] is False
    assert chosen["version"] > checkout["version"]

    # Complete with bank transfer: the order is placed at once, its payment pending.
    completed = await guest.complete(checkout_id)
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["status"] == "completed"
    assert body["order"]["number"] == 1001
    assert body["order"]["payment_status"] == "pending"
    assert body["payment"]["method"] == "bank-transfer"
    assert body["payment"]["status"] == "pending"
    reference = body["payment"]["payment_ref"]
    assert reference in body["payment"]["instructions"]
    assert "DE89370400440532013000" in body["payment"]["instructions"]
    assert amounts(body["totals"]) == (2000, 0, 500, 400, 2900)
    order_id = UUID(body["order"]["id"])

    # The order and its items keep the price snapshot and the totals.
    order = await admin_conn.fetchrow("SELECT * FROM orders WHERE id = $1", order_id)
    assert order["store_id"] == shop.a.id
    assert (order["order_number"], order["email"], order["currency"]) == (1001, EMAIL, "EUR")
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == ("open", "pending", "unfulfilled")
    assert (order["subtotal_minor"], order["discount_minor"], order["shipping_minor"], order["tax_minor"],
            order["total_minor"]) == (2000, 0, 500, 400, 2900)  # fmt: skip
    assert order["checkout_id"] == UUID(checkout_id)
    assert order["payment_method"] == "bank-transfer"
    assert json.loads(order["shipping_address"])["city"] == "Berlin"
    items = await admin_conn.fetch("SELECT * FROM order_items WHERE order_id = $1", order_id)
    assert [(item["sku"], item["qty"], item["unit_price_minor"], item["total_price_minor"], item["tax_minor"])
            for item in items] == [("alpha-1-s", 2, 1000, 2000, 400)]  # fmt: skip

    # Stock: decremented, nothing left reserved, one history row.
    row = await admin_conn.fetchrow(
        "SELECT inventory, reserved FROM product_variants WHERE id = $1", UUID(variant["id"])
    )
    assert (row["inventory"], row["reserved"]) == (3, 0)
    history = await admin_conn.fetch(
        "SELECT delta, inventory_after, reason FROM inventory_adjustments WHERE variant_id = $1 ORDER BY created_at",
        UUID(variant["id"]),
    )
    assert [(h["delta"], h["inventory_after"], h["reason"]) for h in history] == [
        (5, 5, "initial stock"),
        (-2, 3, "order #1001"),
    ]
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 0

    # The payment row: pending, under the gateway's own reference.
    payments = await admin_conn.fetch("SELECT * FROM payments WHERE order_id = $1", order_id)
    assert [(p["status"], p["amount_minor"], p["currency"], p["method"], p["transaction_id"]) for p in payments] == [
        ("pending", 2900, "EUR", "bank-transfer", reference)
    ]
    manual = await admin_conn.fetchrow("SELECT reference, amount_minor, status FROM manual_payments")
    assert (manual["reference"], manual["amount_minor"], manual["status"]) == (reference, 2900, "pending")

    # The outbox: order.placed (not order.paid: the money has not arrived).
    events = await admin_conn.fetch("SELECT store_id, name, payload FROM outbox_events WHERE name LIKE 'order.%'")
    assert [(e["store_id"], e["name"]) for e in events] == [(shop.a.id, "order.placed")]
    payload = json.loads(events[0]["payload"])
    assert (payload["order_id"], payload["order_number"], payload["total_minor"]) == (str(order_id), 1001, 2900)

    # The cart is emptied and closed; the checkout answers as completed when read again.
    cart_row = await admin_conn.fetchrow(
        "SELECT c.status, (SELECT count(*) FROM cart_items i WHERE i.cart_id = c.id) AS items FROM carts c"
    )
    assert (cart_row["status"], cart_row["items"]) == ("checked_out", 0)
    again = await guest.call("GET", f"checkout/{checkout_id}")
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["order"]["number"]) == ("completed", 1001)
    after = await guest.variant(shop.a.product_slugs[0])
    assert after["available"] == 3

    # The confirmation mail: the order, its total, and how to pay it (the transfer must quote the reference).
    mail = tc_mailer.last(EMAIL, "order-confirmation")
    assert "#1001" in mail.subject
    assert "29.00 EUR" in mail.body
    assert reference in mail.body, f"the confirmation does not say how to pay (reference {reference}):\n{mail.body}"


async def test_order_numbers_count_per_store(
    shop: TwoStores, shopper: Callable[[str], Any], variant_id: Callable[..., Awaitable[str]]
) -> None:
    first = await shopper("alpha").buy(await variant_id(shop.a, 0))
    second = await shopper("alpha").buy(await variant_id(shop.a, 1))
    other_store = await shopper("bravo").buy(await variant_id(shop.b, 0))
    third = await shopper("alpha").buy(await variant_id(shop.a, 2))
    numbers = [response.json()["order"]["number"] for response in (first, second, other_store, third)]
    assert numbers == [1001, 1002, 1001, 1003]


async def test_a_second_complete_answers_the_same_and_places_nothing_more(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Callable[[], Awaitable[dict[str, int]]],
) -> None:
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)])
    first = await guest.complete(checkout_id)
    assert first.status_code == 200, first.text
    before = await counts()
    again = await guest.complete(checkout_id)
    assert again.status_code == 200, again.text
    assert again.json()["order"] == first.json()["order"]
    assert again.json()["payment"] == first.json()["payment"]
    assert await counts() == before


# --- totals: subtotal -> discount -> shipping -> tax -> total ------------------------------------------------------


async def test_a_percentage_code_is_spread_over_the_lines_before_tax(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    add_discount: Callable[..., Awaitable[UUID]],
    admin_conn: asyncpg.Connection,
) -> None:
    discount = await add_discount(shop.a, "SAVE10", "percentage", 1000)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a, 0), 2), (await variant_id(shop.a, 1), 1)])
    priced = await guest.update(checkout_id, {"discount_code": " save10 "})
    assert priced["discount_code"] == "SAVE10"
    # subtotal 2000 + 1001 = 3001; 10 % = 300.1 -> 300, spread 200 / 100 by largest remainder;
    # tax 20 % of (2000 - 200) = 360 and of (1001 - 100) = 180.2 -> 180; shipping untaxed.
    assert amounts(priced["totals"]) == (3001, 300, 500, 540, 3001 - 300 + 500 + 540)
    completed = await guest.complete(checkout_id)
    assert completed.status_code == 200, completed.text
    order_id = UUID(completed.json()["order"]["id"])
    items = await admin_conn.fetch(
        "SELECT sku, total_price_minor, discount_minor, tax_minor FROM order_items WHERE order_id = $1 ORDER BY sku",
        order_id,
    )
    assert [tuple(item) for item in items] == [("alpha-1-s", 2000, 200, 360), ("alpha-2-s", 1001, 100, 180)]
    order = await admin_conn.fetchrow("SELECT discount_code, discount_minor, total_minor FROM orders WHERE id = $1",
                                      order_id)  # fmt: skip
    assert tuple(order) == ("SAVE10", 300, 3741)
    assert await admin_conn.fetchval("SELECT times_used FROM discounts WHERE id = $1", discount) == 1
    redemption = await admin_conn.fetchrow("SELECT order_id, amount_minor FROM discount_redemptions")
    assert tuple(redemption) == (order_id, 300)


async def test_a_fixed_amount_larger_than_the_subtotal_takes_it_to_zero_and_leaves_shipping(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    add_discount: Callable[..., Awaitable[UUID]],
) -> None:
    await add_discount(shop.a, "BIG", "fixed_amount", 5000)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a, 0), 1)])
    priced = await guest.update(checkout_id, {"discount_code": "BIG"})
    assert amounts(priced["totals"]) == (1000, 1000, 500, 0, 500)


async def test_a_free_shipping_code_zeroes_shipping_only(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    add_discount: Callable[..., Awaitable[UUID]],
) -> None:
    await add_discount(shop.a, "SHIPFREE", "free_shipping", 0)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a, 0), 1)])
    priced = await guest.update(checkout_id, {"discount_code": "SHIPFREE"})
    assert amounts(priced["totals"]) == (1000, 0, 0, 200, 1200)
    assert priced["totals"]["free_shipping"] is True
    completed = await guest.complete(checkout_id)
    assert completed.status_code == 200, completed.text
    assert amounts(completed.json()["totals"]) == (1000, 0, 0, 200, 1200)


async def test_prices_that_include_tax_show_the_tax_inside_the_total(
    two_stores: TwoStores,
    make_shop_for: Callable[..., Awaitable[str]],
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
) -> None:
    await make_shop_for(two_stores.a, prices_include_tax=True)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(two_stores.a, 0), 2)])
    read = await guest.call("GET", f"checkout/{checkout_id}")
    totals = read.json()["totals"]
    # 2000 gross at 20 %: net round(2000 / 1.2) = 1667, tax 333 inside the price; the total adds only shipping.
    assert totals["prices_include_tax"] is True
    assert amounts(totals) == (2000, 0, 500, 333, 2500)
    completed = await guest.complete(checkout_id)
    assert completed.status_code == 200, completed.text
    order = await admin_conn.fetchrow(
        "SELECT tax_minor, total_minor, tax_breakdown FROM orders WHERE id = $1", UUID(completed.json()["order"]["id"])
    )
    assert (order["tax_minor"], order["total_minor"]) == (333, 2500)
    assert json.loads(order["tax_breakdown"])["prices_include_tax"] is True


async def test_the_merchant_confirms_the_transfer_ships_and_refunds_part_of_the_order(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    owner: Callable[..., Awaitable[Any]],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    tc_mailer: RecordingMailer,
) -> None:
    completed = await shopper("alpha").buy(await variant_id(shop.a), 2)
    assert completed.status_code == 200, completed.text
    order_id = completed.json()["order"]["id"]
    merchant = await owner(shop.a)
    detail = (await merchant.call("GET", f"orders/{order_id}")).json()
    assert (detail["order_number"], detail["payment_status"], detail["total_minor"]) == (1001, "pending", 2900)
    [payment] = detail["payments"]
    assert payment["transaction_id"] == completed.json()["payment"]["payment_ref"]

    paid = await merchant.call("POST", f"orders/{order_id}/payments/{payment['id']}/confirm", {})
    assert paid.status_code == 200, paid.text
    assert paid.json()["payment_status"] == "paid"
    assert await admin_conn.fetchval("SELECT count(*) FROM outbox_events WHERE name = 'order.paid'") == 1

    shipped = await merchant.call("POST", f"orders/{order_id}/fulfillments", {"tracking_number": "RT-1"})
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["fulfillment_status"] == "fulfilled"
    assert tc_mailer.last("ada@example.com", "order-shipped")

    refunded = await merchant.call("POST", f"orders/{order_id}/refunds", {"amount_minor": 500})
    assert refunded.status_code == 201, refunded.text
    assert (refunded.json()["payment_status"], refunded.json()["refunded_minor"]) == ("partially_refunded", 500)
    order = await admin_conn.fetchrow("SELECT refunded_minor, payment_status FROM orders WHERE id = $1", UUID(order_id))
    assert tuple(order) == (500, "partially_refunded")
