"""The storefront side: a signed-in customer's order history (this store's, their own, nothing else) and a guest's
lookup by number and e-mail (one 404 for every mismatch, rate limited per client and per order number)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenantcommerce.app import create_app
from tenantcommerce.testing.accounts import csrf_headers, customer_register, customer_sign_in


async def customer_of(shop, db, client, email: str) -> UUID:
    """Register ``email`` at ``shop`` and sign ``client`` in there; the ``store_customers`` id."""
    assert (await customer_register(client, shop.slug, email)).status_code == 202
    response = await customer_sign_in(client, shop.slug, email)
    assert response.status_code == 200, response.text
    found: UUID = await db.fetchval("SELECT id FROM store_customers WHERE store_id = $1 AND email = $2", shop.id, email)
    return found


def history_url(slug: str, number: int | None = None) -> str:
    return f"/api/storefront/{slug}/customers/me/orders" + (f"/{number}" if number is not None else "")


async def test_a_customer_sees_only_their_own_orders_of_this_store(shop, open_shop, db, new_client) -> None:
    bravo = await open_shop("bravo", "USD")
    ada, bob = new_client(), new_client()
    ada_at_alpha = await customer_of(shop, db, ada, "ada@example.com")
    bob_at_alpha = await customer_of(shop, db, bob, "bob@example.com")
    ada_at_bravo = await customer_of(bravo, db, new_client(), "ada@example.com")
    first = await shop.place([("alpha-1-s", 1)], customer_id=ada_at_alpha)
    second = await shop.place([("alpha-2-s", 2), ("alpha-3-s", 1)], customer_id=ada_at_alpha, paid=True)
    await shop.place([("alpha-1-s", 1)], customer_id=bob_at_alpha)
    await shop.place([("alpha-1-s", 1)], email="ada@example.com")  # a guest order: not in her account
    theirs = await bravo.place([("bravo-1-s", 1)], customer_id=ada_at_bravo)

    response = await ada.get(history_url(shop.slug))

    assert response.status_code == 200, response.text
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 24, 0)
    assert [(o["order_number"], o["item_count"], o["payment_status"]) for o in page["items"]] == [
        (second.number, 3, "paid"),
        (first.number, 1, "pending"),
    ]
    assert "id" not in page["items"][0]
    assert theirs.number == first.number, "both stores number from 1001: the number alone never crosses stores"
    mine = (await ada.get(history_url(shop.slug, first.number))).json()
    assert [item["sku"] for item in mine["items"]] == ["alpha-1-s"]


async def test_another_customers_order_and_an_unknown_number_are_not_found(shop, db, new_client, problem) -> None:
    ada, bob = new_client(), new_client()
    ada_id = await customer_of(shop, db, ada, "ada@example.com")
    await customer_of(shop, db, bob, "bob@example.com")
    placed = await shop.place([("alpha-1-s", 2)], customer_id=ada_id)
    assert (await shop.owner.post(shop.url(f"{placed.id}/fulfillments"), {"tracking_number": "T-9"})).is_success

    own = await ada.get(history_url(shop.slug, placed.number))
    other = problem(await bob.get(history_url(shop.slug, placed.number)), 404)
    unknown = problem(await ada.get(history_url(shop.slug, 9999)), 404)

    assert own.status_code == 200, own.text
    order = own.json()
    assert (order["order_number"], order["fulfillment_status"], order["shipping_method"]) == (
        placed.number,
        "fulfilled",
        "Standard",
    )
    assert order["shipments"][0]["items"] == [{"sku": "alpha-1-s", "qty": 2}]
    assert order["shipments"][0]["tracking_number"] == "T-9"
    assert str(placed.id) not in own.text
    assert str(placed.items[0]) not in own.text
    assert other["detail"] == unknown["detail"]
    assert (await bob.get(history_url(shop.slug))).json()["total"] == 0


async def test_a_session_of_another_store_or_none_is_not_signed_in_here(shop, open_shop, db, new_client, problem):
    bravo = await open_shop("bravo", "USD")
    ada = new_client()
    customer = await customer_of(bravo, db, ada, "ada@example.com")
    await bravo.place([("bravo-1-s", 1)], customer_id=customer)

    problem(await ada.get(history_url(shop.slug)), 401)
    problem(await ada.get(history_url(shop.slug, 1001)), 401)
    problem(await new_client().get(history_url(shop.slug)), 401)
    staff_session = await shop.owner.get(history_url(shop.slug))
    problem(staff_session, 401)
    assert (await ada.get(history_url(bravo.slug))).json()["total"] == 1


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1"])
async def test_bad_history_parameters_are_bad_input(shop, db, new_client, problem, query: str) -> None:
    ada = new_client()
    await customer_of(shop, db, ada, "ada@example.com")
    problem(await ada.get(f"{history_url(shop.slug)}?{query}"), 400)


# --- guest lookup ---------------------------------------------------------------------------------------------------


async def lookup(client, slug: str, body: object):
    return await client.post(f"/api/storefront/{slug}/orders/lookup", json=body, headers=await csrf_headers(client))


async def test_a_guest_finds_an_order_by_number_and_email_and_every_mismatch_is_the_same_404(
    shop, open_shop, new_client, problem
) -> None:
    bravo = await open_shop("bravo", "USD")
    placed = await shop.place([("alpha-1-s", 1)], email="Guest@Example.com")
    await bravo.place([("bravo-1-s", 1)], email="other@example.com")
    guest = new_client()

    found = await lookup(guest, shop.slug, {"order_number": placed.number, "email": "guest@EXAMPLE.com"})

    assert found.status_code == 200, found.text
    order = found.json()
    assert (order["order_number"], order["total_minor"], order["currency"]) == (placed.number, 1500, "EUR")
    assert [item["sku"] for item in order["items"]] == ["alpha-1-s"]
    for secret in (placed.id, placed.items[0], placed.payment_id, placed.payment_ref):
        assert str(secret) not in found.text
    misses = [
        {"order_number": placed.number, "email": "someone@example.com"},
        {"order_number": placed.number + 1, "email": "guest@example.com"},
        {"order_number": placed.number, "email": "other@example.com"},  # bravo's #1001 is not alpha's
    ]
    answers = [problem(await lookup(guest, shop.slug, body), 404) for body in misses]
    assert len({(a["title"], a["detail"]) for a in answers}) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"order_number": 1001}, {"order_number": "1001", "email": "a@b.co"}, {"order_number": 0, "email": "a@b.co"},
     {"order_number": 2**64, "email": "a@b.co"}, {"order_number": 1001, "email": "not-an-email"},
     {"order_number": 1001, "email": "a@b.co", "id": 1}],
    ids=["empty", "no-email", "number-text", "zero", "huge", "bad-email", "unknown-field"],
)  # fmt: skip
async def test_a_malformed_lookup_is_bad_input(shop, new_client, problem, body: object) -> None:
    problem(await lookup(new_client(), shop.slug, body), 400)


@pytest.fixture
def limited_app(tc_settings, tc_mailer) -> Callable[..., AbstractAsyncContextManager[AsyncTestClient[Litestar]]]:
    """``async with limited_app(auth_client_limit=3) as client``: a started app with small budgets."""

    @asynccontextmanager
    async def start(**overrides: int) -> AsyncIterator[AsyncTestClient[Litestar]]:
        app = create_app(msgspec.structs.replace(tc_settings, **overrides), mailer=tc_mailer)
        async with AsyncTestClient(app, base_url=f"http://{tc_settings.base_domain}") as client:
            yield client

    return start


async def test_lookups_are_limited_per_client_address(shop, limited_app, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)], email="guest@example.com")
    async with limited_app(auth_client_limit=3) as client:
        for attempt in range(3):
            response = await lookup(client, shop.slug, {"order_number": 2000 + attempt, "email": "x@example.com"})
            assert response.status_code == 404, response.text
        refused = await lookup(client, shop.slug, {"order_number": placed.number, "email": "guest@example.com"})
        body = problem(refused, 429)
        assert refused.headers["Retry-After"]
        assert "order_number" not in body["detail"]


async def test_lookups_of_one_order_are_limited_whatever_the_address(shop, limited_app, problem) -> None:
    placed = await shop.place([("alpha-1-s", 1)], email="guest@example.com")
    other = await shop.place([("alpha-2-s", 1)], email="guest@example.com")
    async with limited_app(auth_account_limit=2) as client:
        for guess in ("a@example.com", "b@example.com"):
            assert (await lookup(client, shop.slug, {"order_number": placed.number, "email": guess})).status_code == 404
        problem(await lookup(client, shop.slug, {"order_number": placed.number, "email": "guest@example.com"}), 429)
        found = await lookup(client, shop.slug, {"order_number": other.number, "email": "guest@example.com"})
        assert found.status_code == 200, "another order has a budget of its own"
