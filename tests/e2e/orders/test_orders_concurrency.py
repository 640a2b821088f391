"""Requests at once on one order (each with its own connection, on the app's event loop): refunds never add up to
more than was paid, and a line never ships twice."""

from __future__ import annotations

from collections import Counter


async def test_ten_refunds_at_once_never_exceed_what_was_paid(shop, test_plugin, bearer, concurrently, db) -> None:
    placed = await shop.place([("alpha-1-s", 1)], paid=True, method="e2e-pay")
    assert placed.total_minor == 1500
    headers = await bearer(shop, ["orders:refund"])
    request = ("POST", shop.url(f"{placed.id}/refunds"), headers, {"amount_minor": 600})

    answers = await concurrently([request] * 10)

    assert Counter(status for status, _ in answers) == {201: 2, 422: 8}, answers[:3]
    row = await db.fetchrow("SELECT refunded_minor, payment_status FROM orders WHERE id = $1", placed.id)
    assert (row["refunded_minor"], row["payment_status"]) == (1200, "partially_refunded")
    assert await db.fetchval("SELECT sum(refunded_minor) FROM payments WHERE order_id = $1", placed.id) == 1200
    assert await db.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", placed.id) == 2
    assert len(test_plugin.gateway.refunds) == 2, "the refused ones never reached the gateway"


async def test_ten_fulfilments_of_everything_at_once_ship_it_once(shop, bearer, concurrently, db, tc_mailer) -> None:
    placed = await shop.place([("alpha-1-s", 2), ("alpha-2-s", 1)])
    headers = await bearer(shop, ["orders:fulfill"])
    request = ("POST", shop.url(f"{placed.id}/fulfillments"), headers, {})

    answers = await concurrently([request] * 10)

    assert Counter(status for status, _ in answers) == {201: 1, 409: 9}, answers[:3]
    assert await db.fetchval("SELECT count(*) FROM fulfillments WHERE order_id = $1", placed.id) == 1
    shipped = await db.fetch("SELECT qty, fulfilled_qty FROM order_items WHERE order_id = $1", placed.id)
    assert all(row["qty"] == row["fulfilled_qty"] for row in shipped)
    assert len([m for m in tc_mailer.outbox if m.kind == "order-shipped"]) == 1


async def test_a_cancel_and_a_fulfilment_at_once_do_one_or_the_other(shop, bearer, concurrently, db) -> None:
    placed = await shop.place([("alpha-1-s", 2)])
    headers = await bearer(shop, ["orders:fulfill", "orders:refund"])

    answers = await concurrently([
        ("POST", shop.url(f"{placed.id}/fulfillments"), headers, {}),
        ("POST", shop.url(f"{placed.id}/cancel"), headers, {}),
    ])  # fmt: skip

    statuses = sorted(status for status, _ in answers)
    assert statuses in ([200, 409], [201, 409]), answers
    row = await db.fetchrow("SELECT status, fulfillment_status FROM orders WHERE id = $1", placed.id)
    assert (row["status"], row["fulfillment_status"]) in (("cancelled", "unfulfilled"), ("open", "fulfilled"))
    stock = await shop.inventory("alpha-1-s")
    assert stock == (5 if row["status"] == "cancelled" else 3), "restocked only if cancelled"
