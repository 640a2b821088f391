"""A payment finished in the browser (the kit's test card, standing in for Stripe's Payment Element, whose script
cannot load offline): after paying, the shopper comes back to the confirmation, which waits for the gateway's
webhook and then shows the order by itself (htmx polling ``.../status``)."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_back_from_paying_the_page_waits_for_the_webhook_then_shows_the_order(
    live_server: Any, page: Page, shoot: Any, checkout_to_pay: Any, test_card: Any
) -> None:
    gateway, plugin_id = test_card
    sku = "alpha-7-s"
    before = live_server.stock(sku)
    checkout_to_pay(page, "alpha", 7)
    page.get_by_role("radio", name=re.compile(r"Card \(test\)")).check()
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+/done$"))
    expect(page.get_by_role("heading", name="Payment")).to_be_visible()
    assert live_server.stock(sku) == (before[0], before[1] + 1), "the checkout holds the stock while it is paid"
    done = page.url
    checkout_id = UUID(done.rsplit("/", 2)[1])

    # What the gateway's page does once the shopper has paid: back to the confirmation, ?returned=1.
    with page.expect_request(re.compile(r"/status$")):
        page.goto(f"{done}?returned=1&redirect_status=succeeded")
        expect(page.get_by_role("heading", name="Confirming your payment")).to_be_visible()
    shoot(page, "payment-waiting")
    assert live_server.value("SELECT count(*) FROM orders WHERE checkout_id = $1", checkout_id) == 0

    total = live_server.value("SELECT total_minor FROM checkouts WHERE id = $1", checkout_id)
    body, headers = gateway.webhook(gateway.succeeded(live_server.alpha.id, checkout_id, total, "EUR"))
    answer = httpx.post(f"{live_server.url}/api/payments/{plugin_id}/webhook", content=body, headers=headers)
    assert answer.json()["outcome"] == "applied", answer.text

    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()  # polled every 2 s
    assert page.url == done, "htmx followed HX-Redirect to the plain confirmation"
    number = int(page.locator("main p strong").first.inner_text())
    assert live_server.value("SELECT checkout_id FROM orders WHERE order_number = $1 AND store_id = $2", number,
                             live_server.alpha.id) == checkout_id  # fmt: skip
    assert live_server.stock(sku) == (before[0] - 1, before[1]), "the order took the stock and released the hold"
