"""Fulfilling orders: all or part of the lines, with tracking or a label bought from the order's carrier, the shipping
e-mail, the statuses it moves, who may do it, and what a refused or failed fulfilment leaves (nothing)."""

from __future__ import annotations

import uuid

import pytest


async def test_fulfilling_everything_ships_all_lines_mails_the_customer_and_audits(
    shop, tc_mailer, audit_actions
) -> None:
    placed = await shop.place([("alpha-1-s", 2), ("alpha-2-s", 1)], paid=True)

    response = await shop.owner.post(
        shop.url(f"{placed.id}/fulfillments"),
        {"tracking_number": "TRACK-1", "tracking_url": "https://track.test/TRACK-1"},
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == ("completed", "paid", "fulfilled")
    assert [(item["fulfilled_qty"], item["waiting_qty"]) for item in order["items"]] == [(2, 0), (1, 0)]
    [fulfillment] = order["fulfillments"]
    assert fulfillment["lines"] == [
        {"order_item_id": str(placed.items[0]), "qty": 2},
        {"order_item_id": str(placed.items[1]), "qty": 1},
    ]
    assert (fulfillment["carrier_id"], fulfillment["tracking_number"]) == ("e2e-post", "TRACK-1")
    mail = tc_mailer.last("ada@example.com", "order-shipped")
    assert f"#{placed.number}" in mail.subject
    assert "TRACK-1" in mail.body
    assert "https://track.test/TRACK-1" in mail.body
    assert "2 x alpha product 1 (Small)" in mail.body
    assert await audit_actions(placed.id) == ["order.fulfilled"]


async def test_partial_fulfilment_then_the_rest(shop, tc_mailer) -> None:
    placed = await shop.place([("alpha-1-s", 3), ("alpha-2-s", 1)])
    first_line = {"order_item_id": str(placed.items[0]), "qty": 2}

    partial = await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"lines": [first_line]})

    assert partial.status_code == 201, partial.text
    assert partial.json()["fulfillment_status"] == "partially_fulfilled"
    assert partial.json()["status"] == "open"
    assert [item["waiting_qty"] for item in partial.json()["items"]] == [1, 1]
    assert "rest of your order will follow" in tc_mailer.last("ada@example.com", "order-shipped").body

    rest = await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {})

    assert rest.status_code == 201, rest.text
    order = rest.json()
    assert order["fulfillment_status"] == "fulfilled"
    assert order["status"] == "open", "not paid yet (a bank transfer): it stays open"
    assert order["fulfillments"][1]["lines"] == [
        {"order_item_id": str(placed.items[0]), "qty": 1},
        {"order_item_id": str(placed.items[1]), "qty": 1},
    ]
    assert len([m for m in tc_mailer.outbox if m.kind == "order-shipped"]) == 2


async def test_the_shipping_mail_can_be_left_out(shop, tc_mailer) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    response = await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"notify_customer": False})
    assert response.status_code == 201, response.text
    assert [m for m in tc_mailer.outbox if m.kind == "order-shipped"] == []


async def test_buying_a_label_calls_the_orders_carrier_and_keeps_its_tracking(shop, test_plugin) -> None:
    placed = await shop.place([("alpha-1-s", 2)])

    response = await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"buy_label": True})

    assert response.status_code == 201, response.text
    [request] = test_plugin.carrier.labels
    assert (request.order_id, request.order_number, request.rate_id) == (placed.id, placed.number, "standard")
    assert (request.destination.country, request.destination.city) == ("DE", "Berlin")
    assert [(line.sku, line.quantity, line.unit_price_minor) for line in request.lines] == [("alpha-1-s", 2, 1000)]
    [fulfillment] = response.json()["fulfillments"]
    assert fulfillment["tracking_number"] == f"EP{placed.number}"
    assert fulfillment["label_url"] == "https://labels.test/1.pdf"
    assert fulfillment["tracking_url"] == f"https://track.test/EP{placed.number}"


@pytest.mark.parametrize(
    ("mode", "status", "kind"), [("crash", 502, "plugin-failed"), ("none", 422, "unprocessable")], ids=["crash", "none"]
)
async def test_a_carrier_that_fails_or_sells_no_label_leaves_nothing_written(
    shop, test_plugin, state, problem, tc_mailer, mode: str, status: int, kind: str
) -> None:
    placed = await shop.place([("alpha-1-s", 2)])
    before = await state(placed.id)
    test_plugin.carrier.mode = mode

    problem(await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"buy_label": True}), status, kind)

    assert await state(placed.id) == before
    assert tc_mailer.outbox == []


async def test_a_label_needs_the_orders_shipping_choice(shop, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)], choice=None)
    body = problem(await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"buy_label": True}), 422)
    assert [error["field"] for error in body["errors"]] == ["buy_label"]
    other = await shop.place([("alpha-1-s", 1)])
    body = problem(
        await shop.owner.post(shop.url(f"{other.id}/fulfillments"), {"buy_label": True, "carrier_id": "dhl"}), 422
    )
    assert [error["field"] for error in body["errors"]] == ["carrier_id"]


async def test_lines_that_are_not_the_orders_or_ask_too_much_are_refused_and_nothing_ships(
    shop, state, problem
) -> None:
    placed = await shop.place([("alpha-1-s", 2), ("alpha-2-s", 1)])
    other = await shop.place([("alpha-3-s", 1)])
    before = await state(placed.id)
    lines = [
        {"order_item_id": str(placed.items[0]), "qty": 1},
        {"order_item_id": str(placed.items[1]), "qty": 2},
        {"order_item_id": str(other.items[0]), "qty": 1},
        {"order_item_id": str(placed.items[0]), "qty": 1},
    ]

    body = problem(await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"lines": lines}), 422)

    assert [error["field"] for error in body["errors"]] == [
        "lines[1].qty",
        "lines[2].order_item_id",
        "lines[3].order_item_id",
    ]
    assert await state(placed.id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"order_item_id": "nope", "qty": 1}]},
        {"lines": [{"order_item_id": str(uuid.uuid4()), "qty": 0}]},
        {"lines": [{"order_item_id": str(uuid.uuid4())}]},
        {"tracking_url": "javascript:alert(1)"},
        {"tracking_number": ""},
        {"buy_label": "yes"},
        {"ship": True},
        [],
    ],
    ids=["no-lines", "bad-id", "zero", "no-qty", "bad-url", "empty-tracking", "label-text", "unknown", "array"],
)
async def test_malformed_bodies_are_bad_input(shop, state, problem, body: object) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    before = await state(placed.id)
    problem(await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), body), 400)
    assert await state(placed.id) == before


async def test_nothing_left_to_ship_and_a_cancelled_order_are_conflicts(shop, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    assert (await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {})).status_code == 201
    again = problem(await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {}), 409, "conflict")
    assert "already fulfilled" in again["detail"]

    cancelled = await shop.place([("alpha-1-s", 1)])
    assert (await shop.owner.post(shop.url(f"{cancelled.id}/cancel"), {})).status_code == 200
    refused = problem(await shop.owner.post(shop.url(f"{cancelled.id}/fulfillments"), {}), 409, "conflict")
    assert refused["detail"] == "cannot fulfil a cancelled order"


async def test_staff_may_fulfil_a_viewer_may_not(shop, member, problem) -> None:
    placed = await shop.place([("alpha-1-s", 2)])
    staff = await member(shop.id, "staff@alpha.test", "staff")
    viewer = await member(shop.id, "viewer@alpha.test", "viewer")
    line = {"lines": [{"order_item_id": str(placed.items[0]), "qty": 1}]}

    assert "orders:fulfill" in problem(await viewer.post(shop.url(f"{placed.id}/fulfillments"), line), 403)["detail"]
    response = await staff.post(shop.url(f"{placed.id}/fulfillments"), line)
    assert response.status_code == 201, response.text
    assert response.json()["fulfillments"][0]["actor_user_id"] is not None


async def test_another_stores_order_cannot_be_fulfilled(shop, open_shop, state, problem) -> None:
    other = await open_shop("bravo", "USD")
    theirs = await other.place([("bravo-1-s", 1)])
    before = await state(theirs.id)

    problem(await shop.owner.post(shop.url(f"{theirs.id}/fulfillments"), {}), 404)
    problem(await shop.owner.post(f"/api/admin/{other.slug}/orders/{theirs.id}/fulfillments", {}), 404)

    assert await state(theirs.id) == before
