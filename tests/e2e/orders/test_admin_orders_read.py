"""Reading orders in the admin: the list (filters, search, newest first, pages) and one order with everything."""

from __future__ import annotations

import datetime
import uuid

import pytest


async def test_an_order_reads_with_its_items_payment_and_nothing_shipped_or_refunded(shop) -> None:
    placed = await shop.place([("alpha-1-s", 2), ("alpha-2-s", 1)])

    response = await shop.owner.get(shop.url(str(placed.id)))

    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["id"], order["order_number"]) == (str(placed.id), placed.number)
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == ("open", "pending", "unfulfilled")
    assert (order["subtotal_minor"], order["shipping_minor"], order["total_minor"]) == (3001, 500, 3501)
    assert (order["currency"], order["refunded_minor"], order["payment_method"]) == ("EUR", 0, "bank-transfer")
    assert [(item["sku"], item["qty"], item["waiting_qty"]) for item in order["items"]] == [
        ("alpha-1-s", 2, 2),
        ("alpha-2-s", 1, 1),
    ]
    [payment] = order["payments"]
    assert (payment["id"], payment["status"], payment["transaction_id"]) == (
        str(placed.payment_id),
        "pending",
        placed.payment_ref,
    )
    assert (order["fulfillments"], order["refunds"]) == ([], [])
    assert order["shipping_choice"]["carrier_id"] == "e2e-post"


async def test_the_list_is_newest_first_and_paged(shop) -> None:
    placed = [await shop.place([("alpha-1-s", 1)]) for _ in range(3)]

    first = (await shop.owner.get(shop.url(), params={"limit": 2})).json()
    second = (await shop.owner.get(shop.url(), params={"limit": 2, "offset": 2})).json()

    assert [o["order_number"] for o in first["items"]] == [placed[2].number, placed[1].number]
    assert [o["order_number"] for o in second["items"]] == [placed[0].number]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert first["items"][0]["item_count"] == 1


async def test_the_list_filters_by_status_customer_number_search_and_dates(shop, db) -> None:
    first = await shop.place([("alpha-1-s", 1)], email="ada@example.com")
    paid = await shop.place([("alpha-2-s", 2)], paid=True, email="bob@example.com")
    old = await shop.place(
        [("alpha-3-s", 1)], email="carol@example.com", created_at=datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC)
    )
    customer = uuid.uuid4()
    await db.execute(
        "INSERT INTO store_customers (store_id, id, email) VALUES ($1, $2, 'dan@example.com')", shop.id, customer
    )
    await db.execute("UPDATE orders SET customer_id = $2 WHERE id = $1", first.id, customer)

    async def numbers(**params: object) -> list[int]:
        response = await shop.owner.get(shop.url(), params=params)
        assert response.status_code == 200, response.text
        return [order["order_number"] for order in response.json()["items"]]

    assert await numbers(payment_status="paid") == [paid.number]
    assert await numbers(payment_status="pending") == [first.number, old.number]
    assert await numbers(status="open", fulfillment_status="unfulfilled") == [paid.number, first.number, old.number]
    assert await numbers(status="cancelled") == []
    assert await numbers(customer_id=str(customer)) == [first.number]
    assert await numbers(number=paid.number) == [paid.number]
    assert await numbers(q="BOB@") == [paid.number]
    assert await numbers(q=f"#{first.number}") == [first.number]
    assert await numbers(q="%") == []
    assert await numbers(created_from="2025-03-01", created_to="2025-03-01") == [old.number]
    assert await numbers(created_to="2025-02-28") == []
    assert await numbers(created_from="2025-03-02") == [paid.number, first.number]


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "payment_status=paid-ish",
        "fulfillment_status=shipped",
        "created_from=yesterday",
        "created_from=2025-03-02&created_to=2025-03-01",
        "customer_id=nope",
        "number=0",
        "number=99999999999999999999",
        "limit=0",
        "limit=101",
        "offset=-1",
    ],
)
async def test_bad_list_parameters_are_bad_input(shop, problem, query: str) -> None:
    problem(await shop.owner.get(f"{shop.url()}?{query}"), 400)


async def test_an_unknown_order_and_another_stores_order_are_both_not_found(shop, open_shop, problem) -> None:
    other = await open_shop("bravo", "USD")
    theirs = await other.place([("bravo-1-s", 1)])

    unknown = problem(await shop.owner.get(shop.url(str(uuid.uuid4()))), 404)
    foreign = problem(await shop.owner.get(shop.url(str(theirs.id))), 404)

    assert unknown["detail"] == foreign["detail"]
    assert (await shop.owner.get(shop.url())).json()["total"] == 0
    assert (await other.owner.get(other.url())).json()["total"] == 1


async def test_a_member_of_another_store_gets_404_and_a_viewer_may_read(shop, open_shop, member, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)])
    other = await open_shop("bravo", "USD")

    problem(await other.owner.get(f"/api/admin/{shop.slug}/orders"), 404)
    problem(await other.owner.get(f"/api/admin/{shop.slug}/orders/{placed.id}"), 404)
    viewer = await member(shop.id, "viewer@alpha.test", "viewer")
    assert (await viewer.get(shop.url(str(placed.id)))).status_code == 200
    assert (await viewer.get(shop.url())).json()["total"] == 1
