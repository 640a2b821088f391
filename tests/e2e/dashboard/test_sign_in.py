"""Signing in to the dashboard: the form, the session it makes, the store picker and switcher, sign-out, CSRF."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytestmark = pytest.mark.asyncio


async def test_a_page_of_a_store_sends_an_anonymous_visitor_to_sign_in(shop: Any, browser: Callable[[], Any]) -> None:
    visitor = browser()
    response = await visitor.get(f"/admin/{shop.slug}/orders")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/login?next=/admin/{shop.slug}/orders"


async def test_sign_in_form_signs_in_and_goes_where_it_was_asked(shop: Any, browser: Callable[[], Any]) -> None:
    visitor = browser()
    page = await visitor.get(f"/admin/login?next=/admin/{shop.slug}/products")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'value="/admin/{shop.slug}/products"' in page.text
    response = await visitor.submit(
        "/admin/login",
        {"email": "owner@alpha.test", "password": "correct horse battery", "next": f"/admin/{shop.slug}/products"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/{shop.slug}/products"
    products = await visitor.get(f"/admin/{shop.slug}/products")
    assert products.status_code == 200
    assert "alpha product 1" in products.text
    # The same session works for the JSON API (one sign-in for both faces).
    me = await visitor.client.get("/api/auth/me")
    assert me.json()["user"]["email"] == "owner@alpha.test"


async def test_wrong_password_re_renders_the_form_with_one_message(shop: Any, browser: Callable[[], Any]) -> None:
    visitor = browser()
    await visitor.get("/admin/login")
    wrong = await visitor.submit("/admin/login", {"email": "owner@alpha.test", "password": "not the password 1"})
    unknown = await visitor.submit("/admin/login", {"email": "nobody@alpha.test", "password": "not the password 1"})
    assert wrong.status_code == unknown.status_code == 401
    assert "the e-mail or the password is wrong" in wrong.text
    assert 'value="owner@alpha.test"' in wrong.text  # the e-mail is kept, the password is not
    assert "not the password" not in wrong.text
    assert (await visitor.client.get("/api/auth/me")).status_code == 401


async def test_malformed_e_mail_is_a_400_next_to_the_field(shop: Any, browser: Callable[[], Any]) -> None:
    visitor = browser()
    response = await visitor.submit("/admin/login", {"email": "not an address", "password": "x"})
    assert response.status_code == 400
    assert 'id="email-error"' in response.text
    assert 'aria-invalid="true"' in response.text


async def test_next_never_leaves_the_dashboard(shop: Any, browser: Callable[[], Any]) -> None:
    visitor = browser()
    await visitor.get("/admin/login")
    response = await visitor.submit(
        "/admin/login", {"email": "owner@alpha.test", "password": "correct horse battery", "next": "//evil.test/"}
    )
    assert response.headers["location"] == "/admin/"


async def test_a_form_without_the_csrf_token_is_refused(shop: Any, browser: Callable[[], Any]) -> None:
    visitor = browser()
    await visitor.get("/admin/login")
    response = await visitor.client.post(
        "/admin/login", data={"email": "owner@alpha.test", "password": "x"}, follow_redirects=False
    )
    assert response.status_code == 403


async def test_store_picker_switcher_and_sign_out(
    open_shop: Callable[..., Awaitable[Any]], member: Callable[..., Awaitable[Any]]
) -> None:
    alpha = await open_shop("alpha")
    bravo = await open_shop("bravo", "USD")
    both = await member(alpha.id, "both@example.com", "staff")
    await member(bravo.id, "both@example.com", "viewer")
    picker = await both.get("/admin/")
    assert picker.status_code == 200
    assert 'href="/admin/alpha/"' in picker.text
    assert 'href="/admin/bravo/"' in picker.text
    overview = await both.get("/admin/alpha/")
    assert "Switch store" in overview.text
    assert 'href="/admin/bravo/"' in overview.text
    # One store only: straight to it.
    assert (await alpha.owner.get("/admin/")).headers["location"] == "/admin/alpha/"
    out = await both.submit("/admin/logout")
    assert out.status_code == 303
    assert (await both.get("/admin/alpha/")).status_code == 303


async def test_a_store_the_user_does_not_work_in_is_a_404_page(
    open_shop: Callable[..., Awaitable[Any]], member: Callable[..., Awaitable[Any]]
) -> None:
    alpha = await open_shop("alpha")
    bravo = await open_shop("bravo", "USD")
    assert bravo.slug
    response = await alpha.owner.get("/admin/bravo/orders")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "bravo product" not in response.text


async def test_static_files_are_served_with_versions(client: Any) -> None:
    from tenantcommerce.web.admin.static import asset_url

    url = asset_url("admin.css")
    assert "?v=" in url
    cached = await client.get(url)
    assert cached.status_code == 200
    assert "immutable" in cached.headers["cache-control"]
    assert cached.headers["content-type"].startswith("text/css"), "browsers ignore a stylesheet of another type"
    plain = await client.get("/static/admin/admin.css")
    assert plain.headers["cache-control"] == "public, max-age=300"
    assert (await client.get("/static/admin/../rendering.py")).status_code == 404
    assert (await client.get("/static/admin/nothing.css")).status_code == 404


async def test_a_customer_session_opens_no_dashboard(shop: Any, browser: Callable[[], Any]) -> None:
    from tenantcommerce.testing.accounts import customer_register, customer_sign_in

    shopper = browser()
    assert (await customer_register(shopper.client, shop.slug, "jo@example.com")).status_code == 202
    assert (await customer_sign_in(shopper.client, shop.slug, "jo@example.com")).status_code == 200
    await shop.place([("alpha-1-s", 1)], email="secret@example.com")
    for path in ("", "orders", "products", "settings"):
        response = await shopper.get(shop.url(path))
        assert response.status_code in (303, 404), path
        assert "secret@example.com" not in response.text
    assert (await shopper.get("/admin/")).headers["location"] == "/admin/login"
