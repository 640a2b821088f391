"""Themes in a real browser: two stores on different themes side by side (``alpha`` on the default theme,
``bravo`` on the ``night`` test theme of ``tests/browser/night/``), and every page's stylesheets actually load and
apply (served with their CSS type, parsed into rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

STYLESHEETS = """() => [...document.querySelectorAll('link[rel=stylesheet]')].map((link) => ({
    href: link.href, rules: link.sheet ? link.sheet.cssRules.length : 0}))"""


def stylesheets(page: Page) -> list[dict[str, Any]]:
    """The page's linked stylesheets and how many rules each parsed into (0: not applied)."""
    sheets: list[dict[str, Any]] = page.evaluate(STYLESHEETS)
    return sheets


def check_stylesheets(page: Page) -> None:
    sheets = stylesheets(page)
    assert sheets, f"{page.url} links no stylesheet"
    for sheet in sheets:
        response = page.request.get(sheet["href"])
        assert response.ok, (sheet["href"], response.status)
        assert response.headers["content-type"].startswith("text/css"), (sheet["href"], response.headers)
        assert sheet["rules"] > 0, f"{sheet['href']} did not apply on {page.url}"


def background(page: Page) -> str:
    colour: str = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    return colour


def test_two_stores_on_different_themes_side_by_side(
    live_server: Any, new_page: Callable[..., Page], axe: Callable[[Page], None], shoot: Callable[[Page, str], Any]
) -> None:
    alpha, bravo = new_page(), new_page()
    alpha.goto(live_server.store_url("alpha", "/products/alpha-product-1"))
    bravo.goto(live_server.store_url("bravo", "/products/bravo-product-1"))
    shoot(alpha, "alpha-default")
    shoot(bravo, "bravo-night")
    # Each store shows its own catalog and currency...
    expect(alpha.get_by_role("main")).to_contain_text("EUR")
    expect(bravo.get_by_role("main")).to_contain_text("USD")
    # ...in its own theme: bravo's pages add the night stylesheet, alpha's do not, and the page looks dark.
    alpha_sheets = [sheet["href"] for sheet in stylesheets(alpha)]
    bravo_sheets = [sheet["href"] for sheet in stylesheets(bravo)]
    assert any("/static/themes/night/night.css?v=" in href for href in bravo_sheets), bravo_sheets
    assert not any("/night/" in href for href in alpha_sheets), alpha_sheets
    assert background(bravo) == "rgb(11, 16, 32)"
    assert background(alpha) != background(bravo)
    # Templates the night theme lacks are the default theme's: the same forms work there.
    expect(bravo.get_by_role("button", name="Add to cart")).to_be_enabled()
    for page in (alpha, bravo):
        check_stylesheets(page)
        axe(page)


def test_the_owner_picks_another_theme_in_the_dashboard(
    live_server: Any, new_page: Callable[..., Page], sign_in: Callable[..., None], shoot: Callable[[Page, str], Any]
) -> None:
    shop = new_page()
    shop.goto(live_server.store_url("charlie"))
    assert not any("/night/" in sheet["href"] for sheet in stylesheets(shop))
    owner = new_page()
    sign_in(owner, "owner@charlie.test", "charlie")
    response = owner.goto(live_server.admin_url("charlie", "/settings"))
    assert response is not None
    assert response.status == 200, response.status
    owner.get_by_label("Storefront theme").select_option("night")
    owner.get_by_role("button", name="Save settings").click()
    owner.wait_for_load_state()
    shoot(owner, "settings-saved")
    theme = live_server.value("SELECT settings->>'theme' FROM stores WHERE slug = 'charlie'")
    assert theme == "night"
    shop.reload()
    assert any("/static/themes/night/night.css?v=" in sheet["href"] for sheet in stylesheets(shop))
    assert background(shop) == "rgb(11, 16, 32)"
    shoot(shop, "charlie-night")


def test_the_storefront_stylesheets_apply(live_server: Any, page: Page) -> None:
    page.goto(live_server.store_url("alpha"))
    check_stylesheets(page)
    assert page.evaluate("() => typeof window.htmx") == "object"


def test_the_dashboard_stylesheets_apply(live_server: Any, page: Page) -> None:
    page.goto(f"{live_server.url}/admin/login")
    check_stylesheets(page)
