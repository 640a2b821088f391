"""A guest buys with bank transfer: the order is placed at once, stock goes down, the payment is pending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from tenantcommerce.testing.stores import TwoStores


async def test_guest_buys_with_bank_transfer(
    shop: TwoStores, shopper: Callable[[str], Any], admin_conn: asyncpg.Connection
) -> None:
    guest = shopper("alpha")
    variant = await guest.variant(shop.a.product_slugs[0])
    completed = await guest.buy(variant["id"], 2)
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["status"] == "completed"
    assert body["order"]["number"] == 1001
    assert body["order"]["payment_status"] == "pending"
    totals = body["totals"]
    assert totals["subtotal"]["amount_minor"] == 2 * 1000
    assert totals["shipping"]["amount_minor"] == 500
    assert totals["tax"]["amount_minor"] == 400
    assert totals["total"]["amount_minor"] == 2000 + 500 + 400
    assert body["payment"]["instructions"]
    row = await admin_conn.fetchrow(
        "SELECT inventory, reserved FROM product_variants WHERE id = $1", __import__("uuid").UUID(variant["id"])
    )
    assert (row["inventory"], row["reserved"]) == (3, 0)
