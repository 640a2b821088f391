"""Cancelling orders (stock back, money back or payment voided) and confirming payments that settle later (the one way
an order becomes paid, with ``order.paid`` in the outbox)."""

from __future__ import annotations

import json
import uuid

import pytest


async def cancel(shop, placed, **body: object):
    return await shop.owner.post(shop.url(f"{placed.id}/cancel"), body)


async def confirm(shop, placed, actor=None, **body: object):
    return await (actor or shop.owner).post(shop.url(f"{placed.id}/payments/{placed.payment_id}/confirm"), body)


async def paid_events(db, store_id) -> list[dict]:
    rows = await db.fetch(
        "SELECT payload FROM outbox_events WHERE store_id = $1 AND name = 'order.paid' ORDER BY created_at, id",
        store_id,
    )
    return [json.loads(row["payload"]) for row in rows]


# --- cancelling -----------------------------------------------------------------------------------------------------


async def test_cancelling_an_unpaid_order_restocks_and_cancels_the_payment_at_its_gateway(
    shop, db, audit_actions
) -> None:
    placed = await shop.place([("alpha-1-s", 2), ("alpha-2-s", 1)])
    assert await shop.inventory("alpha-1-s") == 3

    response = await cancel(shop, placed, reason="customer changed their mind")

    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == (
        "cancelled",
        "voided",
        "unfulfilled",
    )
    assert (order["cancel_reason"], order["payments"][0]["status"]) == ("customer changed their mind", "cancelled")
    assert order["cancelled_at"]
    assert [item["restocked_qty"] for item in order["items"]] == [2, 1]
    assert (await shop.inventory("alpha-1-s"), await shop.inventory("alpha-2-s")) == (5, 5)
    reasons = await db.fetch(
        "SELECT reason, delta FROM inventory_adjustments "
        "WHERE store_id = $1 AND reason LIKE 'order #%' AND delta > 0 ORDER BY created_at, id",
        shop.id,
    )
    assert [(row["reason"], row["delta"]) for row in reasons] == [(f"order #{placed.number} cancelled", 2),
                                                                  (f"order #{placed.number} cancelled", 1)]  # fmt: skip
    manual = await db.fetchval("SELECT status FROM manual_payments WHERE reference = $1", placed.payment_ref)
    assert manual == "cancelled", "the money can no longer be marked paid"
    assert await audit_actions(placed.id) == ["order.cancelled"]


async def test_cancelling_a_paid_order_refunds_it_in_full_through_the_gateway(shop, db, audit_actions) -> None:
    placed = await shop.place([("alpha-1-s", 1)], paid=True)

    response = await cancel(shop, placed)

    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["status"], order["payment_status"], order["refunded_minor"]) == (
        "cancelled",
        "refunded",
        placed.total_minor,
    )
    [row] = order["refunds"]
    assert (row["status"], row["amount_minor"], row["reason"]) == ("succeeded", placed.total_minor, "order cancelled")
    assert await shop.inventory("alpha-1-s") == 5
    refunded = await db.fetchval("SELECT refunded_minor FROM manual_payments WHERE reference = $1", placed.payment_ref)
    assert refunded == placed.total_minor
    assert await audit_actions(placed.id) == ["order.refund_requested", "order.refunded", "order.cancelled"]


async def test_cancelling_after_a_partial_refund_refunds_only_the_rest(shop) -> None:
    placed = await shop.place([("alpha-1-s", 2)], paid=True)
    restock_one = [{"order_item_id": str(placed.items[0]), "qty": 1}]
    partial = await shop.owner.post(shop.url(f"{placed.id}/refunds"), {"amount_minor": 1000, "restock": restock_one})
    assert partial.status_code == 201, partial.text

    order = (await cancel(shop, placed)).json()

    assert [row["amount_minor"] for row in order["refunds"]] == [1000, placed.total_minor - 1000]
    assert (order["refunded_minor"], order["items"][0]["restocked_qty"]) == (placed.total_minor, 2)
    assert await shop.inventory("alpha-1-s") == 5


async def test_a_failing_gateway_cancels_nothing(shop, test_plugin, state, problem) -> None:
    unpaid = await shop.place([("alpha-1-s", 1)], method="e2e-pay")
    paid = await shop.place([("alpha-2-s", 1)], paid=True, method="e2e-pay")
    before = {o.id: await state(o.id) for o in (unpaid, paid)}
    test_plugin.gateway.mode = "crash"

    problem(await cancel(shop, unpaid), 502)
    problem(await cancel(shop, paid), 502)

    assert {o.id: await state(o.id) for o in (unpaid, paid)} == before
    test_plugin.gateway.mode = "ok"
    assert (await cancel(shop, unpaid)).json()["status"] == "cancelled"


@pytest.mark.parametrize("how", ["fulfilled", "partially_fulfilled", "cancelled"])
async def test_shipped_or_cancelled_orders_cannot_be_cancelled(shop, state, problem, how: str) -> None:
    placed = await shop.place([("alpha-1-s", 2)], paid=True)
    if how == "cancelled":
        assert (await cancel(shop, placed)).status_code == 200
    else:
        qty = 2 if how == "fulfilled" else 1
        body = {"lines": [{"order_item_id": str(placed.items[0]), "qty": qty}]}
        assert (await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), body)).status_code == 201
    before = await state(placed.id)

    body = problem(await cancel(shop, placed), 409, "conflict")

    assert "cannot cancel" in body["detail"]
    assert await state(placed.id) == before


async def test_staff_may_not_cancel_and_another_stores_order_is_not_found(
    shop, open_shop, member, state, problem
) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    other = await open_shop("bravo", "USD")
    theirs = await other.place([("bravo-1-s", 1)])
    before, theirs_before = await state(placed.id), await state(theirs.id)
    staff = await member(shop.id, "staff@alpha.test", "staff")

    assert "orders:refund" in problem(await staff.post(shop.url(f"{placed.id}/cancel"), {}), 403)["detail"]
    problem(await shop.owner.post(shop.url(f"{theirs.id}/cancel"), {}), 404)
    problem(await shop.owner.post(shop.url(f"{placed.id}/cancel"), {"reason": ""}), 400)
    problem(await shop.owner.post(shop.url(f"{placed.id}/cancel"), {"why": "x"}), 400)

    assert (await state(placed.id), await state(theirs.id)) == (before, theirs_before)


# --- confirming payments --------------------------------------------------------------------------------------------


async def test_confirming_a_bank_transfer_marks_the_order_paid_once_with_one_event(shop, db, audit_actions) -> None:
    placed = await shop.place([("alpha-1-s", 1)])

    response = await confirm(shop, placed, note="statement line 7")
    again = await confirm(shop, placed)

    assert response.status_code == 200, response.text
    assert (response.json()["payment_status"], response.json()["payments"][0]["status"]) == ("paid", "succeeded")
    assert again.status_code == 200, again.text
    assert again.json()["payment_status"] == "paid"
    manual = await db.fetchrow("SELECT status, note FROM manual_payments WHERE reference = $1", placed.payment_ref)
    assert (manual["status"], manual["note"]) == ("succeeded", "statement line 7")
    assert await paid_events(db, shop.id) == [
        {"order_id": str(placed.id), "order_number": placed.number, "total_minor": placed.total_minor,
         "currency": "EUR", "payment_status": "paid"}
    ]  # fmt: skip
    assert await audit_actions(placed.id) == ["order.paid"]


async def test_confirming_a_paid_and_partly_refunded_order_changes_nothing(shop, db) -> None:
    placed = await shop.place([("alpha-1-s", 1)], paid=True)
    assert (await shop.owner.post(shop.url(f"{placed.id}/refunds"), {"amount_minor": 100})).status_code == 201

    response = await confirm(shop, placed)

    assert response.status_code == 200, response.text
    assert (response.json()["payment_status"], response.json()["refunded_minor"]) == ("partially_refunded", 100)
    assert await paid_events(db, shop.id) == []


async def test_a_shipped_cash_on_delivery_order_completes_when_its_money_is_confirmed(shop) -> None:
    placed = await shop.place([("alpha-1-s", 1)], method="cash-on-delivery")
    shipped = await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {})
    assert (shipped.json()["status"], shipped.json()["fulfillment_status"]) == ("open", "fulfilled")

    response = await confirm(shop, placed)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["payment_status"]) == ("completed", "paid")


async def test_a_cancelled_orders_payment_cannot_be_confirmed(shop, db, state, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    assert (await cancel(shop, placed)).status_code == 200
    before = await state(placed.id)

    body = problem(await confirm(shop, placed), 409, "conflict")

    assert "order is cancelled" in body["detail"]
    assert await state(placed.id) == before
    assert await paid_events(db, shop.id) == []


async def test_a_gateway_that_fails_to_confirm_writes_nothing_and_a_failed_payment_is_recorded(
    shop, test_plugin, state, db, problem
) -> None:
    placed = await shop.place([("alpha-1-s", 1)], method="e2e-pay")
    before = await state(placed.id)
    test_plugin.gateway.mode = "crash"
    problem(await confirm(shop, placed), 502)
    assert await state(placed.id) == before

    test_plugin.gateway.mode = "fail"
    body = problem(await confirm(shop, placed), 422)
    assert "card declined" in body["detail"]
    order = (await shop.owner.get(shop.url(str(placed.id)))).json()
    assert (order["payment_status"], order["payments"][0]["status"]) == ("failed", "failed")

    test_plugin.gateway.mode = "ok"
    assert (await confirm(shop, placed)).json()["payment_status"] == "paid"
    assert len(await paid_events(db, shop.id)) == 1


async def test_confirming_needs_orders_refund_and_the_orders_own_payment(shop, member, open_shop, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    other = await shop.place([("alpha-2-s", 1)])
    staff = await member(shop.id, "staff@alpha.test", "staff")
    bravo = await open_shop("bravo", "USD")
    theirs = await bravo.place([("bravo-1-s", 1)])

    assert "orders:refund" in problem(await confirm(shop, placed, staff), 403)["detail"]
    wrong = await shop.owner.post(shop.url(f"{placed.id}/payments/{other.payment_id}/confirm"), {})
    problem(wrong, 404)
    problem(await shop.owner.post(shop.url(f"{placed.id}/payments/{uuid.uuid4()}/confirm"), {}), 404)
    problem(await shop.owner.post(shop.url(f"{theirs.id}/payments/{theirs.payment_id}/confirm"), {}), 404)
    assert (await shop.owner.get(shop.url(str(placed.id)))).json()["payment_status"] == "pending"
