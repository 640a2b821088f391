"""Completing checkouts truly at once, through the app (requests sent together on the event loop the app runs on,
each with its own database connection): stock is never oversold, concurrent multi-line checkouts that share variants
all finish (no deadlock left to fail them), and one checkout completed twice at once is one order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from tenantcommerce.testing.stores import TwoStores


def complete(token: str, checkout_id: str) -> tuple[str, str, dict[str, str], None]:
    return ("POST", f"/api/storefront/alpha/checkout/{checkout_id}/complete", {"X-Cart-Token": token}, None)


async def test_200_checkouts_at_once_of_50_in_stock_make_exactly_50_orders(
    shop: TwoStores,
    variant_id: Callable[..., Awaitable[str]],
    ready_checkouts: Callable[..., Awaitable[list[tuple[str, str]]]],
    concurrently: Callable[..., Awaitable[list[tuple[int, Any]]]],
    admin_conn: asyncpg.Connection,
) -> None:
    variant = await variant_id(shop.a, inventory=50)
    made = await ready_checkouts(shop.a, [(variant, 1)], 200)
    answers = await concurrently([complete(token, checkout_id) for token, checkout_id in made])
    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 50, 422: 150}, [body for status, body in answers if status not in (200, 422)][:3]
    refusals = [body for status, body in answers if status == 422]
    assert {error["field"] for body in refusals for error in body["errors"]} == {f"lines.{variant}"}
    numbers = sorted(body["order"]["number"] for status, body in answers if status == 200)
    assert numbers == list(range(1001, 1051)), "one number each, no gaps, no repeats"

    row = await admin_conn.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", UUID(variant))
    assert (row["inventory"], row["reserved"]) == (0, 0)
    assert await admin_conn.fetchval("SELECT count(*) FROM orders") == 50
    assert await admin_conn.fetchval("SELECT coalesce(sum(qty), 0) FROM order_items") == 50
    assert await admin_conn.fetchval("SELECT count(*) FROM payments") == 50
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 0
    history = await admin_conn.fetch(
        "SELECT delta, inventory_after FROM inventory_adjustments WHERE variant_id = $1 AND reason LIKE 'order%'",
        UUID(variant),
    )
    assert len(history) == 50
    assert sorted(h["inventory_after"] for h in history) == list(range(50)), "each sale took one from what was left"
    statuses_of_checkouts = dict(
        await admin_conn.fetch("SELECT status, count(*) FROM checkouts GROUP BY status")  # type: ignore[arg-type]
    )
    assert statuses_of_checkouts == {"completed": 50, "open": 150}


async def test_checkouts_sharing_variants_in_either_order_all_finish_without_oversold_stock(
    shop: TwoStores,
    variant_id: Callable[..., Awaitable[str]],
    ready_checkouts: Callable[..., Awaitable[list[tuple[str, str]]]],
    concurrently: Callable[..., Awaitable[list[tuple[int, Any]]]],
    admin_conn: asyncpg.Connection,
) -> None:
    first = await variant_id(shop.a, 0, inventory=30)
    second = await variant_id(shop.a, 1, inventory=40)
    made = await ready_checkouts(shop.a, [(first, 1), (second, 2)], 60)
    made += await ready_checkouts(shop.a, [(second, 2), (first, 1)], 60)
    made.sort(key=lambda pair: pair[1][-6:])  # interleave the two orders
    answers = await concurrently([complete(token, checkout_id) for token, checkout_id in made])
    statuses = Counter(status for status, _ in answers)
    # 40 of the second variant at 2 a checkout: 20 orders, whichever line order each checkout has.
    assert statuses == {200: 20, 422: 100}, [body for status, body in answers if status not in (200, 422)][:3]
    rows = {
        str(row["id"]): (row["inventory"], row["reserved"])
        for row in await admin_conn.fetch(
            "SELECT id, inventory, reserved FROM product_variants WHERE id = ANY($1::uuid[])", [first, second]
        )
    }
    assert rows == {first: (10, 0), second: (0, 0)}
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 0
    sold = dict(await admin_conn.fetch("SELECT variant_id::text, sum(qty) FROM order_items GROUP BY 1"))  # type: ignore[arg-type]
    assert sold == {first: 20, second: 40}


async def test_one_checkout_completed_many_times_at_once_is_one_order(
    shop: TwoStores,
    variant_id: Callable[..., Awaitable[str]],
    ready_checkouts: Callable[..., Awaitable[list[tuple[str, str]]]],
    concurrently: Callable[..., Awaitable[list[tuple[int, Any]]]],
    admin_conn: asyncpg.Connection,
) -> None:
    variant = await variant_id(shop.a)
    [(token, checkout_id)] = await ready_checkouts(shop.a, [(variant, 2)], 1)
    answers = await concurrently([complete(token, checkout_id)] * 10)
    assert {status for status, _ in answers} == {200}, answers
    assert await admin_conn.fetchval("SELECT count(*) FROM orders") == 1
    assert await admin_conn.fetchval("SELECT count(*) FROM manual_payments") == 1
    row = await admin_conn.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", UUID(variant))
    assert (row["inventory"], row["reserved"]) == (3, 0)


async def test_no_database_transaction_stays_open_while_the_gateway_is_called(
    shop: TwoStores,
    scripted: Any,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    postgres: Any,
) -> None:
    """The payment provider may take seconds: no connection may sit idle in a transaction, holding the checkout's
    row lock, meanwhile (the checkout module's design: "no row lock is held while a payment provider is called")."""
    from tenantcommerce.db.urls import asyncpg_dsn

    seen: list[list[tuple[str, str]]] = []
    dsn = asyncpg_dsn(postgres.admin_url)

    async def look() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT a.state, c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.pid <> pg_backend_pid() AND c.relname IN ('checkouts', 'product_variants') AND l.granted"
            )
            seen.append([(row["state"], row["relname"]) for row in rows])
        finally:
            await conn.close()

    scripted.probe = look
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)], method="scripted")
    scripted.script = ["probe"]
    completed = await guest.complete(checkout_id)
    assert completed.status_code == 200, completed.text
    assert seen == [[]], f"held during the provider call: {seen}"


async def test_a_code_with_5_uses_is_used_5_times_by_30_checkouts_at_once(
    shop: TwoStores,
    variant_id: Callable[..., Awaitable[str]],
    add_discount: Callable[..., Awaitable[UUID]],
    ready_checkouts: Callable[..., Awaitable[list[tuple[str, str]]]],
    concurrently: Callable[..., Awaitable[list[tuple[int, Any]]]],
    admin_conn: asyncpg.Connection,
) -> None:
    variant = await variant_id(shop.a, inventory=100)
    discount = await add_discount(shop.a, "FIVE", "fixed_amount", 100, usage_limit=5)
    made = await ready_checkouts(shop.a, [(variant, 1)], 30, discount_code="FIVE")
    answers = await concurrently([complete(token, checkout_id) for token, checkout_id in made])
    assert Counter(status for status, _ in answers) == {200: 5, 422: 25}, answers[:3]
    assert {error["field"] for status, body in answers if status == 422 for error in body["errors"]} == {
        "discount_code"
    }
    assert {body["totals"]["discount"]["amount_minor"] for status, body in answers if status == 200} == {100}
    assert await admin_conn.fetchval("SELECT times_used FROM discounts WHERE id = $1", discount) == 5
    assert await admin_conn.fetchval("SELECT count(*) FROM discount_redemptions WHERE discount_id = $1", discount) == 5
    row = await admin_conn.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", UUID(variant))
    assert (row["inventory"], row["reserved"]) == (95, 0), "the refused checkouts hold no stock"
