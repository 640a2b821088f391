"""Merchant flows in a real browser: the owner signs in, creates a product (and the storefront sells it), finds a
guest's order and ships it; a staff member sees only the sections their permissions allow."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

OWNER = "owner@alpha.test"
STAFF = "staff@alpha.test"
OWNER_ONLY_SECTIONS = ("Settings", "Members", "API tokens", "Audit log")


def test_signing_in_with_a_wrong_password_says_so_next_to_the_form(live_server: Any, page: Page) -> None:
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mail").fill(OWNER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/login"))


def test_the_owner_creates_a_product_the_storefront_sells(
    live_server: Any, page: Page, sign_in: Callable[..., None], shoot: Callable[[Page, str], Any]
) -> None:
    sign_in(page, OWNER)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Products").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Browser-made lamp")
    page.get_by_label("Slug").fill("browser-made-lamp")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("SKU").fill("lamp-1")
    page.get_by_label("Title").fill("Brass")
    page.get_by_label(re.compile(r"^Price")).fill("24.50")
    page.get_by_label("In stock").fill("7")
    page.get_by_role("button", name="Create product").click()
    page.wait_for_url(re.compile(r"/admin/alpha/products/[0-9a-f-]+\?notice=created$"))
    expect(page.get_by_role("status")).to_be_visible()
    shoot(page, "created")
    assert live_server.stock("lamp-1") == (7, 0)

    page.goto(live_server.store_url("alpha", "/products/browser-made-lamp"))
    expect(page.get_by_role("heading", name="Browser-made lamp")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("24.50 EUR")
    expect(page.get_by_role("button", name="Add to cart")).to_be_enabled()


def test_the_owner_finds_an_order_and_ships_it(
    live_server: Any,
    new_page: Callable[..., Page],
    buy: Callable[..., Any],
    sign_in: Callable[..., None],
    shoot: Callable[[Page, str], Any],
) -> None:
    purchase = buy(new_page(), "alpha", 4)
    page = new_page()
    sign_in(page, OWNER)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    # The search by URL (the filter form itself: test_the_orders_filter_form_searches).
    page.goto(live_server.admin_url("alpha", "/orders?q=guest-4%40example.com"))
    page.get_by_role("link", name=f"#{purchase.order_number}").click()
    page.wait_for_url(re.compile(r"/admin/alpha/orders/[0-9a-f-]+"))
    expect(page.get_by_role("main")).to_contain_text("alpha product 4")
    page.get_by_label("Tracking number").fill("TRACK-42")
    page.get_by_role("button", name="Mark as shipped").click()
    page.wait_for_url(re.compile(r"notice=fulfilled$"))
    expect(page.get_by_role("status")).to_be_visible()
    shoot(page, "shipped")
    order_id = live_server.order_id("alpha", purchase.order_number)
    status = live_server.value("SELECT fulfillment_status FROM orders WHERE id = $1", order_id)
    assert status == "fulfilled"
    expect(page.get_by_role("button", name="Mark as shipped")).to_have_count(0)


def test_the_orders_filter_form_searches(
    live_server: Any, placed_order: Any, new_page: Callable[..., Page], sign_in: Callable[..., None]
) -> None:
    page = new_page(javascript=False)
    sign_in(page, OWNER)
    page.goto(live_server.admin_url("alpha", "/orders"))
    page.get_by_label("Search").fill("guest-6@example.com")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Filter").click()
    response = navigation.value
    assert response is not None
    assert response.status == 200, response.status
    expect(page.get_by_role("link", name=f"#{placed_order.order_number}")).to_be_visible()


def test_with_javascript_the_orders_list_filters_as_you_type(
    live_server: Any, placed_order: Any, page: Page, sign_in: Callable[..., None]
) -> None:
    sign_in(page, OWNER)
    page.goto(live_server.admin_url("alpha", "/orders"))
    page.evaluate("() => { window.stillTheSamePage = true; }")
    page.get_by_label("Search").fill("no-such-customer@example.com")
    expect(page.get_by_text("No order matches these filters.")).to_be_visible()
    page.get_by_label("Search").fill("guest-6@example.com")
    expect(page.get_by_role("link", name=f"#{placed_order.order_number}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/alpha/orders\?q=guest-6%40example\.com"))
    assert page.evaluate("() => window.stillTheSamePage") is True, "htmx replaced the list, not the page"
    page.get_by_label("Status").select_option("cancelled")
    expect(page.get_by_text("No order matches these filters.")).to_be_visible()
    assert page.evaluate("() => window.stillTheSamePage") is True


def test_a_staff_member_sees_no_settings(
    live_server: Any,
    placed_order: Any,
    page: Page,
    sign_in: Callable[..., None],
    shoot: Callable[[Page, str], Any],
) -> None:
    purchase = placed_order
    sign_in(page, STAFF)
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link", name="Orders")).to_be_visible()
    expect(sections.get_by_role("link", name="Products")).to_be_visible()
    for name in OWNER_ONLY_SECTIONS:
        expect(sections.get_by_role("link", name=name)).to_have_count(0)
    shoot(page, "staff-overview")
    # The server refuses what the navigation hides.
    refused = page.goto(live_server.admin_url("alpha", "/settings"))
    assert refused is not None
    assert refused.status in (403, 404), refused.status
    # Staff may ship but not refund or cancel: those forms are not offered.
    page.goto(live_server.admin_url("alpha", f"/orders/{live_server.order_id('alpha', purchase.order_number)}"))
    expect(page.get_by_role("button", name="Mark as shipped")).to_be_visible()
    expect(page.get_by_role("button", name="Refund")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)


def test_the_owner_sees_settings_when_the_dashboard_has_them(
    live_server: Any, page: Page, sign_in: Callable[..., None]
) -> None:
    sign_in(page, OWNER)
    settings = page.goto(live_server.admin_url("alpha", "/settings"))
    assert settings is not None
    assert settings.status == 200, settings.status
    assert settings.status == 200
    page.goto(live_server.admin_url("alpha", "/"))
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings")).to_be_visible()
