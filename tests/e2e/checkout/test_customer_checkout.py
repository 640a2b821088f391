"""Signed-in customers: their cart follows the account (any browser), a guest cart merges into it at sign-in, and a
checkout is reachable only by whoever owns it, at its own store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from tenantcommerce.testing.stores import TwoStores


async def test_a_customer_cart_follows_the_account_and_its_order_is_theirs(
    shop: TwoStores,
    customer: Callable[..., Awaitable[Any]],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
) -> None:
    jo = await customer("alpha", "jo@example.com")
    variant = await variant_id(shop.a)
    added = await jo.add(variant, 2)
    assert added["token"] is None, "a customer's cart needs no token"
    # The session cookie is ambient: without the CSRF header a change is refused.
    forged = await jo.client.post(jo.url("cart/items"), json={"variant_id": variant, "qty": 1})
    assert forged.status_code == 403, forged.text
    # Signed in from another browser: the same cart.
    elsewhere = await customer("alpha", "jo@example.com")
    cart = await elsewhere.cart()
    assert (cart["id"], [line["qty"] for line in cart["lines"]]) == (added["id"], [2])
    checkout = await elsewhere.checkout(email=None)
    assert checkout["email"] == "jo@example.com", "the e-mail defaults to the customer's"
    checkout_id = checkout["id"]
    read = await jo.call("GET", f"checkout/{checkout_id}")
    assert read.status_code == 200, read.text
    quote = (await jo.update(checkout_id, {"shipping_address": {"country": "DE"}}))["shipping_quotes"][0]
    await jo.update(checkout_id, {"shipping": {"carrier_id": quote["carrier_id"], "rate_id": quote["rate_id"]},
                                  "payment_method": "bank-transfer"})  # fmt: skip
    completed = await jo.complete(checkout_id)
    assert completed.status_code == 200, completed.text
    order = await admin_conn.fetchrow(
        "SELECT o.email, c.email AS customer_email FROM orders o JOIN store_customers c ON c.id = o.customer_id "
        "WHERE o.id = $1",
        UUID(completed.json()["order"]["id"]),
    )
    assert tuple(order) == ("jo@example.com", "jo@example.com")


async def test_a_guest_cart_merges_into_the_customer_cart_at_sign_in(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    customer: Callable[..., Awaitable[Any]],
    signed_in: Callable[..., Awaitable[Any]],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    problem: Callable[..., dict[str, Any]],
) -> None:
    one, two, three = [await variant_id(shop.a, index) for index in range(3)]
    # The customer already has a cart (one x2, two x1), made in another browser.
    jo = await customer("alpha", "jo@example.com")
    await jo.add(one, 2)
    own = await jo.add(two, 1)
    # Meanwhile, a guest browser fills a cart (one x1, three x1), then signs in as the customer.
    guest = shopper("alpha")
    await guest.add(one, 1)
    guest_cart = await guest.add(three, 1)
    token = guest.token
    await signed_in(guest, "jo@example.com")
    merged = await guest.cart()
    assert merged["id"] == own["id"]
    assert sorted((line["variant_id"], line["qty"]) for line in merged["lines"]) == sorted(
        [(one, 3), (two, 1), (three, 1)]
    )
    assert (await jo.cart())["id"] == own["id"]
    status = await admin_conn.fetchval("SELECT status FROM carts WHERE id = $1", UUID(guest_cart["id"]))
    assert status == "merged"
    # The guest token no longer finds a cart.
    stranger = shopper("alpha")
    stranger.token = token
    problem(await stranger.call("GET", "cart"), 404)


async def test_a_guest_cart_becomes_the_customer_cart_when_they_have_none(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    problem: Callable[..., dict[str, Any]],
    register_customer: Callable[..., Awaitable[None]],
    signed_in: Callable[..., Awaitable[Any]],
) -> None:
    variant = await variant_id(shop.a)
    await register_customer("alpha", "jo@example.com")
    guest = shopper("alpha")
    cart = await guest.add(variant, 2)
    token = guest.token
    await signed_in(guest, "jo@example.com")
    mine = await guest.cart()
    assert (mine["id"], [line["qty"] for line in mine["lines"]]) == (cart["id"], [2])
    stranger = shopper("alpha")
    stranger.token = token
    problem(await stranger.call("GET", "cart"), 404)


async def test_a_checkout_is_reachable_only_by_its_owner_at_its_store(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    customer: Callable[..., Awaitable[Any]],
    variant_id: Callable[..., Awaitable[str]],
    counts: Callable[[], Awaitable[dict[str, int]]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    variant = await variant_id(shop.a)
    jo = await customer("alpha", "jo@example.com")
    jos = await jo.ready([(variant, 1)])
    guest = shopper("alpha")
    guests = await guest.ready([(variant, 1)])
    kim = await customer("alpha", "kim@example.com")
    await kim.add(variant, 1)  # Kim has a cart of her own (and so a token hash of her own)
    outsiders = {
        "another customer": kim,
        "a guest": shopper("alpha"),
        "a guest with a cart": guest,
    }
    # The same guest token at the other store, and the owner at the other store.
    at_b = shopper("bravo")
    at_b.token = guest.token
    before = await counts()
    for label, who in outsiders.items():
        for method, path, body in (
            ("GET", f"checkout/{jos}", None),
            ("PATCH", f"checkout/{jos}", {"email": "thief@example.com"}),
            ("POST", f"checkout/{jos}/complete", None),
        ):
            response = await who.call(method, path, body)
            assert response.status_code == 404, (label, method, response.text)
            problem(response, 404)
    for method, path, body in (
        ("GET", f"checkout/{guests}", None),
        ("PATCH", f"checkout/{guests}", {"email": "thief@example.com"}),
        ("POST", f"checkout/{guests}/complete", None),
    ):
        for label, who in {"a customer": jo, "the token at another store": at_b}.items():
            response = await who.call(method, path, body)
            assert response.status_code == 404, (label, method, response.text)
    jo_at_b = shopper("bravo")
    jo_at_b.client = jo.client
    jo_at_b.base_headers = dict(jo.base_headers)
    jo_at_b.send_token = False
    problem(await jo_at_b.call("GET", f"checkout/{jos}"), 404)
    problem(await jo_at_b.call("POST", f"checkout/{jos}/complete"), 404)
    assert await counts() == before
    # The owners still can.
    assert (await jo.complete(jos)).status_code == 200
    assert (await guest.complete(guests)).status_code == 200
