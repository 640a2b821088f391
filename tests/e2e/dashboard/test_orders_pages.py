"""Orders in the dashboard: list with filters and search, detail, fulfil, cancel, refund, confirm a payment; errors
next to their fields; what a role may not do is not shown and is refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from tenantcommerce.web.rendering import money

pytestmark = pytest.mark.asyncio


async def test_list_filters_and_searches(shop: Any) -> None:
    first = await shop.place([("alpha-1-s", 1)], email="ada@example.com")
    second = await shop.place([("alpha-2-s", 2)], paid=True, email="grace@example.com")
    page = await shop.owner.get(shop.url("orders"))
    assert page.status_code == 200
    assert f"#{first.number}" in page.text
    assert f"#{second.number}" in page.text
    assert "2 orders" in page.text
    paid = await shop.owner.get(shop.url("orders"), params={"payment_status": "paid"})
    assert f"#{second.number}" in paid.text
    assert f"#{first.number}" not in paid.text
    found = await shop.owner.get(shop.url("orders"), params={"q": "ada@"})
    assert f"#{first.number}" in found.text
    assert f"#{second.number}" not in found.text
    by_number = await shop.owner.get(shop.url("orders"), params={"q": f"#{second.number}"})
    assert "1 order<" in by_number.text
    none = await shop.owner.get(shop.url("orders"), params={"status": "cancelled"})
    assert "No order matches these filters." in none.text


async def test_a_bad_filter_is_a_400_page(shop: Any) -> None:
    response = await shop.owner.get(shop.url("orders"), params={"status": "lost"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


async def test_fulfil_all_waiting(shop: Any, db: asyncpg.Connection) -> None:
    order = await shop.place([("alpha-1-s", 2)], paid=True)
    detail = await shop.owner.get(shop.url(f"orders/{order.id}"))
    assert detail.status_code == 200
    assert "Mark as shipped" in detail.text
    response = await shop.owner.submit(
        shop.url(f"orders/{order.id}/fulfil"), {"tracking_number": "TRK1", "notify_customer": "on"}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == shop.url(f"orders/{order.id}?notice=fulfilled")
    after = await shop.owner.get(response.headers["location"])
    assert "Shipment recorded." in after.text
    assert "TRK1" in after.text
    assert await db.fetchval("SELECT fulfillment_status FROM orders WHERE id = $1", order.id) == "fulfilled"
    assert "Mark as shipped" not in after.text


async def test_fulfil_more_than_waiting_shows_the_error_on_the_form(shop: Any, db: asyncpg.Connection) -> None:
    order = await shop.place([("alpha-1-s", 1)], paid=True)
    item_id = await db.fetchval("SELECT id FROM order_items WHERE order_id = $1", order.id)
    response = await shop.owner.submit(shop.url(f"orders/{order.id}/fulfil"), {f"ship-{item_id}": "3"})
    assert response.status_code in (409, 422), response.text
    assert 'role="alert"' in response.text
    assert await db.fetchval("SELECT fulfillment_status FROM orders WHERE id = $1", order.id) == "unfulfilled"


async def test_refund_within_and_beyond_what_was_paid(shop: Any, db: asyncpg.Connection) -> None:
    order = await shop.place([("alpha-1-s", 1)], paid=True)
    too_much = await shop.owner.submit(shop.url(f"orders/{order.id}/refund"), {"amount": "999.00"})
    assert too_much.status_code == 422, too_much.text
    assert 'id="amount-error"' in too_much.text or "That did not work" in too_much.text
    assert 'value="999.00"' in too_much.text  # what was typed stays
    bad = await shop.owner.submit(shop.url(f"orders/{order.id}/refund"), {"amount": "ten"})
    assert bad.status_code == 400
    assert 'id="amount-error"' in bad.text
    ok = await shop.owner.submit(shop.url(f"orders/{order.id}/refund"), {"amount": "5.00", "reason": "scratched"})
    assert ok.status_code == 303, ok.text
    assert await db.fetchval("SELECT refunded_minor FROM orders WHERE id = $1", order.id) == 500
    page = await shop.owner.get(ok.headers["location"])
    assert "Refund recorded." in page.text
    assert "scratched" in page.text
    assert "Retry refund" not in page.text  # it succeeded
    # The payment is partially refunded now: the form stays, offering what is left.
    assert f"Up to {money(order.total_minor - 500, 'EUR')}." in page.text
    refund_id = await db.fetchval("SELECT id FROM refunds WHERE order_id = $1", order.id)
    retried = await shop.owner.submit(shop.url(f"orders/{order.id}/refunds/{refund_id}/retry"))
    assert retried.status_code == 409, retried.text
    assert "That did not work" in retried.text


async def test_the_refund_form_offers_what_a_refund_may_still_take(shop: Any, db: asyncpg.Connection) -> None:
    """The amount shown is the service's own limit: pending refunds hold their share, and nothing once it is all
    given back."""
    order = await shop.place([("alpha-1-s", 1)], paid=True)
    payment_id = await db.fetchval("SELECT id FROM payments WHERE order_id = $1", order.id)
    await db.execute(
        "INSERT INTO refunds (id, store_id, order_id, payment_id, amount_minor, currency, status)"
        " VALUES ($1, $2, $3, $4, 300, 'EUR', 'pending')",
        uuid.uuid4(), shop.id, order.id, payment_id,
    )  # fmt: skip
    page = await shop.owner.get(shop.url(f"orders/{order.id}"))
    assert f"Up to {money(order.total_minor - 300, 'EUR')}." in page.text
    await db.execute("UPDATE refunds SET status = 'failed' WHERE order_id = $1", order.id)
    everything = money(order.total_minor, "EUR").split(" ")[0]
    done = await shop.owner.submit(shop.url(f"orders/{order.id}/refund"), {"amount": everything})
    assert done.status_code == 303, done.text
    page = await shop.owner.get(shop.url(f"orders/{order.id}"))
    assert 'id="refund"' not in page.text


async def test_cancel_puts_stock_back(shop: Any, db: asyncpg.Connection) -> None:
    order = await shop.place([("alpha-1-s", 2)])
    assert await shop.inventory("alpha-1-s") == 3
    response = await shop.owner.submit(shop.url(f"orders/{order.id}/cancel"), {"reason": "customer asked"})
    assert response.status_code == 303, response.text
    assert await db.fetchval("SELECT status FROM orders WHERE id = $1", order.id) == "cancelled"
    assert await shop.inventory("alpha-1-s") == 5
    again = await shop.owner.submit(shop.url(f"orders/{order.id}/cancel"), {})
    assert again.status_code == 409
    assert "That did not work" in again.text


async def test_confirm_a_bank_transfer(shop: Any, db: asyncpg.Connection) -> None:
    order = await shop.place([("alpha-1-s", 1)])
    detail = await shop.owner.get(shop.url(f"orders/{order.id}"))
    action = re.search(r'action="([^"]+/confirm)"', detail.text)
    assert action
    response = await shop.owner.submit(action.group(1))
    assert response.status_code == 303, response.text
    assert await db.fetchval("SELECT payment_status FROM orders WHERE id = $1", order.id) == "paid"


async def test_another_stores_order_is_a_404(open_shop: Callable[..., Awaitable[Any]]) -> None:
    alpha = await open_shop("alpha")
    bravo = await open_shop("bravo", "USD")
    theirs = await bravo.place([("bravo-1-s", 1)], paid=True)
    assert (await alpha.owner.get(alpha.url(f"orders/{theirs.id}"))).status_code == 404
    refused = await alpha.owner.submit(alpha.url(f"orders/{theirs.id}/cancel"), {})
    assert refused.status_code == 404


async def test_roles_see_only_what_they_may_do(
    shop: Any, member: Callable[..., Awaitable[Any]], db: asyncpg.Connection
) -> None:
    order = await shop.place([("alpha-1-s", 1)], paid=True)
    staff = await member(shop.id, "staff@alpha.test", "staff")
    viewer = await member(shop.id, "viewer@alpha.test", "viewer")
    staff_page = await staff.get(shop.url(f"orders/{order.id}"))
    assert "Mark as shipped" in staff_page.text
    assert "Refund" not in staff_page.text
    assert "Cancel order" not in staff_page.text
    viewer_page = await viewer.get(shop.url(f"orders/{order.id}"))
    assert viewer_page.status_code == 200
    assert "Mark as shipped" not in viewer_page.text
    # The server refuses anyway.
    refused = await staff.submit(shop.url(f"orders/{order.id}/refund"), {"amount": "1.00"})
    assert refused.status_code == 403
    assert "orders:refund" in refused.text
    assert (await viewer.submit(shop.url(f"orders/{order.id}/fulfil"), {})).status_code == 403
    assert await db.fetchval("SELECT refunded_minor FROM orders WHERE id = $1", order.id) == 0
    no_orders = await member(shop.id, "blind@alpha.test", "staff", {"orders:read": False})
    overview = await no_orders.get(shop.url())
    assert f'href="/admin/{shop.slug}/orders"' not in overview.text
    assert (await no_orders.get(shop.url("orders"))).status_code == 403


async def test_the_filter_form_as_a_browser_sends_it(shop: Any) -> None:
    """Without JavaScript the form sends every field, the empty "any" selects included."""
    order = await shop.place([("alpha-1-s", 1)], email="grace@example.com")
    query = "q=grace%40&status=&payment_status=&fulfillment_status="
    page = await shop.owner.get(shop.url(f"orders?{query}"))
    assert page.status_code == 200, page.text
    assert f"#{order.number}" in page.text
    bad_id = await shop.owner.get(shop.url("orders?customer_id=nope"))
    assert bad_id.status_code == 400
