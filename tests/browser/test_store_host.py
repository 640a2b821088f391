"""The storefront on a store's own host (``alpha.shop.test``, a subdomain of ``TC_BASE_DOMAIN``): the same pages at
``/``, their links without the ``/s/<slug>`` prefix, the cart working there too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_pages_on_the_stores_own_host(live_server: Any, page: Page) -> None:
    page.goto(live_server.host_url("alpha"))
    expect(page.get_by_role("heading", name="Featured products")).to_be_visible()
    hrefs = page.eval_on_selector_all("a[href^='/']", "(links) => links.map((link) => link.getAttribute('href'))")
    assert hrefs, "the home page links somewhere"
    assert not [href for href in hrefs if href.startswith("/s/")], hrefs
    page.get_by_role("link", name="alpha product 2").first.click()
    page.wait_for_url(re.compile(r"^http://alpha\.shop\.test:\d+/products/alpha-product-2$"))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"^http://alpha\.shop\.test:\d+/cart$"))
    expect(page.get_by_role("heading", name="alpha product 2")).to_be_visible()
    # Another store's host shows that store.
    page.goto(live_server.host_url("bravo", "/products"))
    expect(page.get_by_role("main")).to_contain_text("bravo product 1")
    expect(page.get_by_role("main")).not_to_contain_text("alpha product")
