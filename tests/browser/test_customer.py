"""A store's customer in a real browser: a guest's cart survives signing in (merged into the customer's), the
order placed while signed in is in the order history, and signing out ends the session; a wrong password is said
next to the form's field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenantcommerce.testing.accounts import TEST_PASSWORD

pytestmark = pytest.mark.browser

EMAIL = "grace@example.com"


def register(live_server: Any, page: Page, slug: str, email: str) -> None:
    """Register ``email`` as a customer of ``slug`` through the JSON API, in the page's cookie jar."""
    csrf = page.request.get(f"{live_server.url}/api/auth/csrf")
    assert csrf.status == 204, csrf.text()
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    registered = page.request.post(
        f"{live_server.url}/api/storefront/{slug}/customers/register",
        data={"email": email, "password": TEST_PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert registered.status == 202, registered.text()


def sign_in(live_server: Any, page: Page, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto(live_server.store_url("alpha", "/account/sign-in"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()


def test_a_customer_signs_in_buys_and_finds_the_order(
    live_server: Any, page: Page, buy: Callable[..., Any], shoot: Callable[[Page, str], Any]
) -> None:
    register(live_server, page, "alpha", EMAIL)
    # A guest's cart...
    page.goto(live_server.store_url("alpha", "/products/alpha-product-5"))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart$"))
    # ...is still there after signing in.
    sign_in(live_server, page, EMAIL)
    page.wait_for_url(re.compile(r"/account/orders$"))
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    expect(page.get_by_text("You have no orders yet.")).to_be_visible()
    expect(page.get_by_label("1 items in the cart")).to_be_visible()

    purchase = buy(page, "alpha", 5)
    page.goto(live_server.store_url("alpha", "/account/orders"))
    shoot(page, "history")
    page.get_by_role("link", name=f"#{purchase.order_number}").click()
    page.wait_for_url(re.compile(rf"/account/orders/{purchase.order_number}$"))
    expect(page.get_by_role("main")).to_contain_text("alpha product 5")
    customer_id = live_server.value(
        "SELECT customer_id FROM orders WHERE id = $1", live_server.order_id("alpha", purchase.order_number)
    )
    assert customer_id is not None, "the order belongs to the signed-in customer"

    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(live_server.store_url("alpha", "/account/orders"))
    expect(page).to_have_url(re.compile(r"/account/sign-in$"))


def test_a_wrong_password_is_said_at_the_field(live_server: Any, page_nojs: Page) -> None:
    sign_in(live_server, page_nojs, "nobody@example.com", "not the password")
    password = page_nojs.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page_nojs.get_by_role("main")).to_contain_text("wrong")
