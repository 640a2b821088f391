"""A guest buys end to end in a real browser: product page, cart, checkout with bank transfer, confirmation with the
payment instructions; the order is in the database and the stock went down. Once with JavaScript (htmx enhancing
the pages) and once without (plain forms, POST-redirect-GET)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def check_purchase(
    server: Any, page: Page, slug: str, product: int, qty: int, number: int, before: tuple[int, int]
) -> None:
    sku = f"{slug}-{product}-s"
    assert server.stock(sku) == (before[0] - qty, 0), "the order took the stock and released the hold"
    rows = server.fetch(
        "SELECT o.email, o.status, o.payment_status, i.sku, i.qty FROM orders o JOIN order_items i ON i.order_id = o.id"
        " JOIN stores s ON s.id = o.store_id WHERE s.slug = $1 AND o.order_number = $2",
        slug,
        number,
    )
    assert [tuple(row) for row in rows] == [(f"guest-{product}@example.com", "open", "pending", sku, qty)]
    # The confirmation shows the bank transfer's instructions (the store's IBAN) and the cart is empty again.
    expect(page.get_by_role("main")).to_contain_text("DE89370400440532013000")
    expect(page.get_by_label("0 items in the cart")).to_be_visible()


def test_a_guest_buys_with_javascript(
    live_server: Any, page: Page, buy: Callable[..., Any], shoot: Callable[[Page, str], Any]
) -> None:
    before = live_server.stock("alpha-1-s")
    purchase = buy(page, "alpha", 1, qty=2)
    shoot(page, "confirmation")
    check_purchase(live_server, page, "alpha", 1, 2, purchase.order_number, before)
    assert page.evaluate("() => typeof window.htmx") == "object", "htmx is loaded when JavaScript is on"


def test_a_guest_buys_without_javascript(
    live_server: Any, page_nojs: Page, buy: Callable[..., Any], shoot: Callable[[Page, str], Any]
) -> None:
    before = live_server.stock("alpha-2-s")
    purchase = buy(page_nojs, "alpha", 2, qty=1, step=shoot)  # the pages as they look without JavaScript
    check_purchase(live_server, page_nojs, "alpha", 2, 1, purchase.order_number, before)


def test_a_guest_finds_the_order_again(live_server: Any, page: Page, buy: Callable[..., Any]) -> None:
    """The guest order lookup (order number and e-mail) shows the order; a wrong e-mail says no order matches."""
    purchase = buy(page, "alpha", 3)
    page.goto(live_server.store_url("alpha", "/orders/lookup"))
    page.get_by_label("Order number").fill(str(purchase.order_number))
    page.get_by_label("E-mail").fill("someone-else@example.com")
    page.get_by_role("button", name=re.compile("Find|Look up|Show", re.IGNORECASE)).click()
    expect(page.get_by_role("main")).to_contain_text("No order matches")
    page.get_by_label("E-mail").fill("guest-3@example.com")
    page.get_by_role("button", name=re.compile("Find|Look up|Show", re.IGNORECASE)).click()
    expect(page.get_by_role("main")).to_contain_text("alpha product 3")


def test_checkout_errors_sit_next_to_their_field(live_server: Any, page_nojs: Page) -> None:
    """A bad country code comes back from the service as a message under that field (no JavaScript needed)."""
    page = page_nojs
    page.goto(live_server.store_url("alpha", "/products/alpha-product-4"))
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Check out").click()
    page.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+$"))
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Country code").fill("Germany")
    page.get_by_role("button", name="Save").click()
    country = page.get_by_label("Country code")
    expect(country).to_have_attribute("aria-invalid", "true")
    described_by = country.get_attribute("aria-describedby") or ""
    assert described_by, "the field points at its message"
    expect(page.locator(f"#{described_by.split()[0]}".replace(".", "\\."))).not_to_be_empty()
