"""The guest cart over HTTP: found by its token (header or cookie), confined to its store, and revalidated on every
read, saying what changed since the shopper last saw it (a price, the product withdrawn, the stock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from tenantcommerce.testing.accounts import csrf_headers
from tenantcommerce.testing.stores import TwoStores


async def test_the_cart_says_when_a_price_changed_once_then_remembers_it(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.add(variant, 2)
    await admin_conn.execute("UPDATE product_variants SET price_minor = 1250 WHERE id = $1", UUID(variant))
    cart = await guest.cart()
    assert cart["changes"] == [
        {
            "variant_id": variant,
            "kind": "price_changed",
            "message": "the price of alpha product 1 (Small) changed from 10.00 EUR to 12.50 EUR",
            "previous_price": {"amount_minor": 1000, "currency": "EUR"},
            "price": {"amount_minor": 1250, "currency": "EUR"},
        }
    ]
    assert cart["lines"][0]["unit_price"]["amount_minor"] == 1250
    assert cart["subtotal"]["amount_minor"] == 2500
    assert cart["checkout_ready"] is True, "a new price alone does not block the checkout"
    assert (await guest.cart())["changes"] == [], "a change is reported once"
    checkout = await guest.checkout()
    assert checkout["lines"][0]["unit_price"]["amount_minor"] == 1250


async def test_the_cart_says_when_the_product_is_withdrawn_and_refuses_to_check_out(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    counts: Callable[[], Awaitable[dict[str, int]]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.add(variant, 1)
    await admin_conn.execute("UPDATE products SET status = 'archived' WHERE id = $1", shop.a.product_ids[0])
    cart = await guest.cart()
    assert [(change["variant_id"], change["kind"]) for change in cart["changes"]] == [(variant, "unavailable")]
    assert cart["lines"][0]["purchasable"] is False
    assert cart["checkout_ready"] is False
    assert [c["kind"] for c in (await guest.cart())["changes"]] == ["unavailable"], "still unavailable"
    before = await counts()
    refused = await guest.call("POST", "checkout", {"email": "ada@example.com"})
    body = problem(refused, 422)
    assert [error["field"] for error in body["errors"]] == [f"lines.{variant}"]
    assert await counts() == before
    again = await guest.call("POST", "cart/items", {"variant_id": variant, "qty": 1})
    assert [error["field"] for error in problem(again, 422)["errors"]] == ["variant_id"]


async def test_the_cart_says_when_the_stock_dropped_below_its_quantity(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.add(variant, 3)
    await admin_conn.execute("UPDATE product_variants SET inventory = 1 WHERE id = $1", UUID(variant))
    cart = await guest.cart()
    assert [(c["kind"], c["available"]) for c in cart["changes"]] == [("insufficient_stock", 1)]
    assert (cart["lines"][0]["available"], cart["lines"][0]["purchasable"], cart["checkout_ready"]) == (1, False, False)
    refused = await guest.call("POST", "checkout", {"email": "ada@example.com"})
    assert problem(refused, 422)["errors"] == [{"field": f"lines.{variant}", "message": "only 1 available"}]
    fixed = await guest.call("PATCH", f"cart/items/{variant}", {"qty": 1})
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["changes"], fixed.json()["checkout_ready"]) == ([], True)


async def test_stock_held_by_another_checkout_is_not_available(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    variant = await variant_id(shop.a, inventory=3)
    first, second = shopper("alpha"), shopper("alpha")
    await second.add(variant, 2)
    placed = await first.buy(variant, 2)
    assert placed.status_code == 200, placed.text
    cart = await second.cart()
    assert [(c["kind"], c["available"]) for c in cart["changes"]] == [("insufficient_stock", 1)]
    too_many = await shopper("alpha").call("POST", "cart/items", {"variant_id": variant, "qty": 2})
    assert problem(too_many, 422)["errors"] == [{"field": "qty", "message": "at most 1 available"}]


async def test_adding_again_adds_to_the_line_within_what_is_available(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.add(variant, 2)
    cart = await guest.add(variant, 3)
    assert [(line["variant_id"], line["qty"]) for line in cart["lines"]] == [(variant, 5)]
    more = await guest.call("POST", "cart/items", {"variant_id": variant, "qty": 1})
    assert problem(more, 422)["errors"] == [{"field": "qty", "message": "at most 5 available"}]
    assert [line["qty"] for line in (await guest.cart())["lines"]] == [5]


async def test_a_guest_cart_is_found_by_its_cookie_too_and_only_by_its_own_token(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    created = await guest.add(variant, 1)
    # The browser keeps the tc_cart cookie: reading needs no header.
    by_cookie = await guest.client.get(guest.url("cart"))
    assert by_cookie.status_code == 200, by_cookie.text
    assert by_cookie.json()["id"] == created["id"]
    # A cookie-authenticated change needs the CSRF header (the cookie is ambient); the header token does not.
    forged = await guest.client.post(guest.url("cart/items"), json={"variant_id": variant, "qty": 1})
    assert forged.status_code == 403, forged.text
    with_csrf = await guest.client.post(
        guest.url("cart/items"), json={"variant_id": variant, "qty": 1}, headers=await csrf_headers(guest.client)
    )
    assert with_csrf.status_code == 200, with_csrf.text
    assert with_csrf.json()["lines"][0]["qty"] == 2
    # Someone else's (or a made-up) token finds nothing; another store does not know this token.
    stranger = shopper("alpha")
    stranger.token = "x" * 43
    problem(await stranger.call("GET", "cart"), 404)
    elsewhere = shopper("bravo")
    elsewhere.token = guest.token
    problem(await elsewhere.call("GET", "cart"), 404)
    problem(await elsewhere.call("PATCH", f"cart/items/{variant}", {"qty": 1}), 404)
    problem(await elsewhere.call("DELETE", f"cart/items/{variant}"), 404)
    assert [line["qty"] for line in (await guest.cart())["lines"]] == [2]


async def test_post_cart_creates_an_empty_cart_once(shop: TwoStores, shopper: Callable[[str], Any]) -> None:
    guest = shopper("alpha")
    created = await guest.call("POST", "cart")
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["lines"], body["item_count"], body["checkout_ready"], body["currency"]) == ([], 0, False, "EUR")
    assert body["token"]
    again = await guest.call("POST", "cart")
    assert again.status_code == 201, again.text
    assert again.json()["id"] == body["id"]
    assert again.json()["token"] is None


async def test_an_empty_cart_cannot_check_out(
    shop: TwoStores, shopper: Callable[[str], Any], problem: Callable[..., dict[str, Any]]
) -> None:
    guest = shopper("alpha")
    await guest.call("POST", "cart")
    refused = await guest.call("POST", "checkout", {"email": "ada@example.com"})
    assert [error["field"] for error in problem(refused, 422)["errors"]] == ["cart"]
    problem(await shopper("alpha").call("POST", "checkout"), 404)  # no cart at all
