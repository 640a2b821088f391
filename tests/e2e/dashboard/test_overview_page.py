"""The overview: orders and revenue today, low stock."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

pytestmark = pytest.mark.asyncio


def number(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', page)
    assert match, testid
    return match.group(1)


async def test_empty_store(shop: Any) -> None:
    page = await shop.owner.get(shop.url())
    assert page.status_code == 200
    assert number(page.text, "orders-today") == "0"
    assert number(page.text, "revenue-today") == "0.00 EUR"
    assert "Low stock" in page.text


async def test_orders_revenue_and_low_stock(shop: Any, db: asyncpg.Connection) -> None:
    await shop.place([("alpha-1-s", 1)], paid=True)  # 10.00 + 5.00 shipping
    cancelled = await shop.place([("alpha-2-s", 1)])
    await db.execute("UPDATE orders SET status = 'cancelled' WHERE id = $1", cancelled.id)
    old = await shop.place([("alpha-3-s", 1)])
    await db.execute("UPDATE orders SET placed_at = now() - interval '2 days' WHERE id = $1", old.id)
    page = await shop.owner.get(shop.url())
    assert number(page.text, "orders-today") == "2"
    assert number(page.text, "revenue-today") == "15.00 EUR"
    # The small variants have 5 or fewer left; the large ones none; drafts are left out.
    low = page.text.split('id="low-stock"')[1]
    assert "alpha-1-s" in low
    assert "alpha-1-l" in low
    assert "alpha-d" not in low


async def test_another_store_counts_nothing_here(open_shop: Any) -> None:
    alpha = await open_shop("alpha")
    bravo = await open_shop("bravo", "USD")
    await bravo.place([("bravo-1-s", 1)], paid=True)
    page = await alpha.owner.get(alpha.url())
    assert number(page.text, "orders-today") == "0"
    assert "bravo" not in page.text.split('id="low-stock"')[1]
