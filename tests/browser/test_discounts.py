"""A discount from the dashboard to the checkout, in a real browser (store ``bravo``, on the night theme): the owner
creates a code; a shopper's unknown code is refused next to its field, the real one shows in the checkout's
totals. The htmx enhancement of the storefront (boosted links) is checked on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

CODE = "BROWSER10"


def test_the_owners_discount_code_reaches_the_checkout(
    live_server: Any, new_page: Callable[..., Page], sign_in: Callable[..., None], shoot: Callable[[Page, str], Any]
) -> None:
    owner = new_page()
    sign_in(owner, "owner@bravo.test", "bravo")
    response = owner.goto(live_server.admin_url("bravo", "/discounts"))
    assert response is not None
    assert response.status == 200, response.status
    owner.get_by_label("Code", exact=True).fill(CODE)
    owner.get_by_label("Kind").select_option("percentage")
    owner.get_by_label(re.compile(r"^Value")).fill("10")
    owner.get_by_role("button", name="Create discount").click()
    owner.wait_for_load_state()
    expect(owner.get_by_role("main")).to_contain_text(CODE)
    shoot(owner, "discount-created")
    kind = live_server.value("SELECT kind FROM discounts WHERE code = $1", CODE)
    assert kind == "percentage"

    shopper = new_page(javascript=False)
    shopper.goto(live_server.store_url("bravo", "/products/bravo-product-2"))
    shopper.get_by_role("button", name="Add to cart").click()
    shopper.wait_for_url(re.compile(r"/cart$"))
    shopper.get_by_label("Discount code").fill("NOPE")
    with shopper.expect_navigation() as refused:
        shopper.get_by_role("button", name="Check out").click()
    assert refused.value is not None
    assert refused.value.status == 422
    field = shopper.get_by_label("Discount code")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("NOPE")
    shoot(shopper, "unknown-code")

    field.fill(CODE)
    shopper.get_by_role("button", name="Check out").click()
    shopper.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+$"))
    summary = shopper.get_by_role("complementary", name="Order summary")
    expect(summary).to_contain_text(f"Discount ({CODE})")
    expect(summary).to_contain_text("\N{MINUS SIGN}1.00 USD")  # 10 % of 10.01 USD
    shoot(shopper, "code-applied")


def test_storefront_links_are_boosted_with_javascript(live_server: Any, page: Page) -> None:
    """With JavaScript, htmx swaps the next page in (no full load: the window's state survives); the address bar
    follows."""
    page.goto(live_server.store_url("alpha"))
    page.evaluate("() => { window.stillHere = true; }")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    page.wait_for_url(re.compile(r"/s/alpha/products$"))
    expect(page.get_by_role("heading", name=re.compile("Products", re.IGNORECASE)).first).to_be_visible()
    assert page.evaluate("() => window.stillHere") is True, "the link loaded a whole new page"
