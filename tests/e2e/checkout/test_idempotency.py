"""``Idempotency-Key`` on cart and checkout calls: the same key and body replay the first answer without a second
write; another body answers 409; a key in use answers 409; a call that failed on our side leaves the key free (and
nothing else behind); keys belong to one client of one store; malformed keys answer 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import pytest

from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.stores import TwoStores

KEY = "3f1c1d7e-8f0b-4c1e-9a55-idem-0001"


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """JSON logs, and a one-second limit on plugin calls (a gateway that sleeps longer times out)."""
    return msgspec.structs.replace(postgres.settings, log_format="json", plugin_timeout=1.0)


async def test_the_same_key_and_body_replay_the_answer_without_writing_again(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Callable[[], Awaitable[dict[str, int]]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.add(variant, 1)
    body = {"variant_id": variant, "qty": 2}
    first = await guest.call("POST", "cart/items", body, headers={"Idempotency-Key": KEY})
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    before = await counts()
    again = await guest.call("POST", "cart/items", body, headers={"Idempotency-Key": KEY})
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await counts() == before
    assert [line["qty"] for line in (await guest.cart())["lines"]] == [3], "added once"


async def test_completing_twice_with_one_key_places_one_order_and_replays_the_answer(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Callable[[], Awaitable[dict[str, int]]],
    stock: Callable[..., Awaitable[tuple[int, int]]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    checkout_id = await guest.ready([(variant, 2)])
    first = await guest.complete(checkout_id, **{"Idempotency-Key": KEY})
    assert first.status_code == 200, first.text
    before = await counts()
    again = await guest.complete(checkout_id, **{"Idempotency-Key": KEY})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    assert again.json() == first.json()
    assert await counts() == before
    assert await stock(variant) == (3, 0)


async def test_the_same_key_with_another_body_answers_409(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Callable[[], Awaitable[dict[str, int]]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.call("POST", "cart")  # the token first: keys of a token's calls belong to it
    first = await guest.call("POST", "cart/items", {"variant_id": variant, "qty": 1}, headers={"Idempotency-Key": KEY})
    assert first.status_code == 200, first.text
    before = await counts()
    other = await guest.call("POST", "cart/items", {"variant_id": variant, "qty": 2}, headers={"Idempotency-Key": KEY})
    body = problem(other, 409, "conflict")
    assert [error["field"] for error in body["errors"]] == ["Idempotency-Key"]
    # Another path with the same key is another request too.
    elsewhere = await guest.call("PATCH", f"cart/items/{variant}", {"qty": 1}, headers={"Idempotency-Key": KEY})
    problem(elsewhere, 409, "conflict")
    assert await counts() == before
    assert [line["qty"] for line in (await guest.cart())["lines"]] == [1]


async def test_a_key_in_use_answers_409_while_the_first_call_runs(
    shop: TwoStores,
    scripted: Any,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    concurrently: Callable[..., Awaitable[list[tuple[int, Any]]]],
    admin_conn: asyncpg.Connection,
) -> None:
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)], method="scripted")
    scripted.script = ["sleep:0.5"]
    headers = {"X-Cart-Token": guest.token, "Idempotency-Key": KEY}
    path = guest.url(f"checkout/{checkout_id}/complete")
    answers = await concurrently([("POST", path, headers, None)] * 3)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409, 409], answers
    assert all("still running" in body["detail"] for status, body in answers if status == 409)
    assert len(scripted.calls) == 1
    assert await admin_conn.fetchval("SELECT count(*) FROM orders") == 1
    replay = await guest.complete(checkout_id, **{"Idempotency-Key": KEY})
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (200, "true")


@pytest.mark.parametrize(("step", "status"), [("raise", 502), ("sleep:3", 504)])
async def test_a_retry_after_a_failure_on_our_side_runs_again(
    step: str,
    status: int,
    shop: TwoStores,
    scripted: Any,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    stock: Callable[..., Awaitable[tuple[int, int]]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    checkout_id = await guest.ready([(variant, 2)], method="scripted")
    scripted.script = [step]
    failed = await guest.complete(checkout_id, **{"Idempotency-Key": KEY})
    assert failed.status_code == status, failed.text
    # The failed call left nothing: no hold, no order, no payment, the key free again.
    assert await stock(variant) == (5, 0)
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM orders") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM payments") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", KEY) == 0
    retried = await guest.complete(checkout_id, **{"Idempotency-Key": KEY})
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers, "the retry ran; it did not replay the failure"
    assert retried.json()["order"]["number"] == 1001
    assert await stock(variant) == (3, 0)
    assert len(scripted.calls) == 2


async def test_keys_belong_to_one_client(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
) -> None:
    variant = await variant_id(shop.a)
    first, second = shopper("alpha"), shopper("alpha")
    await first.add(variant, 1)
    await second.add(variant, 1)
    body = {"variant_id": variant, "qty": 1}
    mine = await first.call("POST", "cart/items", body, headers={"Idempotency-Key": KEY})
    theirs = await second.call("POST", "cart/items", body, headers={"Idempotency-Key": KEY})
    assert (mine.status_code, theirs.status_code) == (200, 200), theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"], "the second guest got the first guest's cart"
    assert [line["qty"] for line in (await second.cart())["lines"]] == [2]


async def test_keys_belong_to_one_store(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
) -> None:
    # No token and no session: the client is the address, the same at both stores.
    at_a, at_b = shopper("alpha"), shopper("bravo")
    answers = []
    for who, store in ((at_a, shop.a), (at_b, shop.b)):
        body = {"variant_id": await variant_id(store), "qty": 1}
        answers.append(await who.call("POST", "cart/items", body, headers={"Idempotency-Key": KEY}))
    assert [response.status_code for response in answers] == [200, 200], answers[1].text
    assert "idempotent-replayed" not in answers[1].headers
    assert answers[1].json()["currency"] == "USD"


BAD_KEYS = [b"k" * 256, "schlüssel".encode(), "ключ".encode(), b"two words", b"tab\tkey", b"", b"   "]


async def test_a_malformed_key_answers_400_and_runs_nothing(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Callable[[], Awaitable[dict[str, int]]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    before = await counts()
    for key in BAD_KEYS:
        response = await guest.client.post(
            guest.url("cart/items"), json={"variant_id": variant, "qty": 1}, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 400, (key, response.text)
        body = problem(response, 400, "invalid-input")
        assert [error["field"] for error in body["errors"]] == ["Idempotency-Key"]
    assert await counts() == before


async def test_a_key_of_255_visible_characters_is_accepted(
    shop: TwoStores, shopper: Callable[[str], Any], variant_id: Callable[..., Awaitable[str]]
) -> None:
    guest = shopper("alpha")
    await guest.call("POST", "cart")
    key = "".join(chr(33 + index % 94) for index in range(255))
    body = {"variant_id": await variant_id(shop.a), "qty": 1}
    first = await guest.call("POST", "cart/items", body, headers={"Idempotency-Key": key})
    again = await guest.call("POST", "cart/items", body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code, again.headers.get("idempotent-replayed")) == (200, 200, "true")


async def test_safe_methods_ignore_the_key(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
) -> None:
    guest = shopper("alpha")
    await guest.add(await variant_id(shop.a), 1)
    for _ in range(2):
        read = await guest.call("GET", "cart", headers={"Idempotency-Key": KEY})
        assert read.status_code == 200
        assert "idempotent-replayed" not in read.headers
    assert await admin_conn.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_a_retry_whose_first_answer_was_lost_gets_the_same_new_cart(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
) -> None:
    guest = shopper("alpha")
    body = {"variant_id": await variant_id(shop.a), "qty": 1}
    first = await guest.client.post(guest.url("cart/items"), json=body, headers={"Idempotency-Key": KEY})
    assert first.status_code == 200, first.text
    guest.client.cookies.clear()  # the answer never arrived: no token, no cookie
    again = await guest.client.post(guest.url("cart/items"), json=body, headers={"Idempotency-Key": KEY})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    assert (again.json()["id"], again.json()["token"]) == (first.json()["id"], first.json()["token"])
    assert again.cookies.get("tc_cart") == first.json()["token"]
    assert await admin_conn.fetchval("SELECT count(*) FROM carts") == 1
