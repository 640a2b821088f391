"""The whole life of an order placed by the real checkout (cart -> checkout -> complete with bank transfer, rate-table
shipping): the money arrives and is confirmed, half ships, a line is refunded and restocked, the rest ships, and the
guest finds it all by number and e-mail."""

from __future__ import annotations

from typing import Any

from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate

from tenantcommerce.testing.accounts import csrf_headers
from tenantcommerce.testing.plugins import enable_plugin

ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}


async def buy(client: Any, slug: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    """A guest buys ``lines`` (variant id, quantity) by bank transfer with the first shipping quote."""
    token: dict[str, str] = {}

    async def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = await client.request(method, f"/api/storefront/{slug}/{path}", json=body, headers=token)
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        if answer.get("token"):
            token["X-Cart-Token"] = answer["token"]
        return answer

    for variant_id, qty in lines:
        await call("POST", "cart/items", {"variant_id": variant_id, "qty": qty})
    checkout = await call("POST", "checkout", {"email": "ada@example.com"})
    quote = (await call("PATCH", f"checkout/{checkout['id']}", {"shipping_address": ADDRESS}))["shipping_quotes"][0]
    chosen = {"carrier_id": quote["carrier_id"], "rate_id": quote["rate_id"]}
    await call("PATCH", f"checkout/{checkout['id']}", {"shipping": chosen, "payment_method": "bank-transfer"})
    return await call("POST", f"checkout/{checkout['id']}/complete")


async def test_an_order_from_checkout_is_paid_shipped_refunded_and_found_by_its_guest(
    shop, tc_database, new_client, tc_mailer, db
) -> None:
    await enable_plugin(tc_database, shop.id, "shipping-rates")
    async with tc_database.store_transaction(shop.id, readonly=False) as conn:
        await create_rate(conn, shop.id, RateInput(name="Standard", amount_minor=500, estimated_days=3), "EUR")
    small, other = shop.variants["alpha-1-s"], shop.variants["alpha-2-s"]
    completed = await buy(new_client(), shop.slug, [(str(small), 2), (str(other), 1)])
    order_id = completed["order"]["id"]
    assert tc_mailer.last("ada@example.com", "order-confirmation")

    detail = (await shop.owner.get(shop.url(order_id))).json()
    assert (detail["payment_status"], detail["shipping_choice"]["carrier_id"]) == ("pending", "rate-table")
    [payment] = detail["payments"]
    paid = await shop.owner.post(shop.url(f"{order_id}/payments/{payment['id']}/confirm"), {})
    assert paid.status_code == 200, paid.text
    assert paid.json()["payment_status"] == "paid"
    assert await db.fetchval("SELECT count(*) FROM outbox_events WHERE name = 'order.paid'") == 1

    first, second = (item["id"] for item in detail["items"])
    ship_first = {"lines": [{"order_item_id": first, "qty": 2}], "tracking_number": "RT-1"}
    shipped = await shop.owner.post(shop.url(f"{order_id}/fulfillments"), ship_first)
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["fulfillment_status"] == "partially_fulfilled"
    price = detail["items"][1]["total_price_minor"]
    refund_second = {"amount_minor": price, "restock": [{"order_item_id": second, "qty": 1}]}
    refunded = await shop.owner.post(shop.url(f"{order_id}/refunds"), refund_second)
    assert refunded.status_code == 201, refunded.text
    order = refunded.json()
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == (
        "completed",
        "partially_refunded",
        "fulfilled",
    ), "nothing waits to ship any more, and it was paid"
    assert await shop.inventory("alpha-2-s") == 5

    guest = new_client()
    found = await guest.post(
        f"/api/storefront/{shop.slug}/orders/lookup",
        json={"order_number": completed["order"]["number"], "email": "ada@example.com"},
        headers=await csrf_headers(guest),
    )
    assert found.status_code == 200, found.text
    assert (found.json()["refunded_minor"], found.json()["shipments"][0]["tracking_number"]) == (price, "RT-1")
