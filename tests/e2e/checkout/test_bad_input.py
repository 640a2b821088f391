"""Bad input to the cart and checkout answers 4xx as DESIGN §10 says (400 schema, 404 missing or another store's,
422 business rule, 409 state), names the field to blame, and writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tenantcommerce.testing.stores import TwoStores

ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}
Counts = Callable[[], Awaitable[dict[str, int]]]


def fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


async def test_unknown_and_other_store_variants_answer_404(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    before = await counts()
    for variant in (str(uuid.uuid4()), await variant_id(shop.b)):
        response = await guest.call("POST", "cart/items", {"variant_id": variant, "qty": 1})
        body = problem(response, 404, "not-found")
        assert fields(body) == ["variant_id"]
        assert "bravo" not in response.text
    assert await counts() == before, "not even an empty cart"
    await guest.add(await variant_id(shop.a), 1)
    other = await variant_id(shop.b)
    problem(await guest.call("PATCH", f"cart/items/{other}", {"qty": 1}), 404)
    problem(await guest.call("DELETE", f"cart/items/{other}"), 404)


BAD_QUANTITIES = [0, -1, 10_001, 10**12, 2**63, "2", 1.5, True, None]


async def test_a_quantity_out_of_range_or_of_the_wrong_type_answers_400(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    before = await counts()
    for qty in BAD_QUANTITIES:
        added = await guest.call("POST", "cart/items", {"variant_id": variant, "qty": qty})
        assert "qty" in str(problem(added, 400, "invalid-input")), (qty, added.text)
    assert await counts() == before
    await guest.add(variant, 1)
    before = await counts()
    for qty in BAD_QUANTITIES:
        changed = await guest.call("PATCH", f"cart/items/{variant}", {"qty": qty})
        assert "qty" in str(problem(changed, 400, "invalid-input")), (qty, changed.text)
    assert await counts() == before
    assert [line["qty"] for line in (await guest.cart())["lines"]] == [1]


MALFORMED = [
    ("POST", "cart/items", b'{"variant_id": '),
    ("POST", "cart/items", b"[1, 2]"),
    ("POST", "cart/items", b"not json"),
    ("PATCH", "cart/items/{variant}", b'{"qty": 1'),
    ("POST", "checkout", b"{'email': 'x'}"),
    ("PATCH", "checkout/{checkout}", b'{"email": "a@example.com",}'),
    ("POST", "checkout/{checkout}/complete", b"\xff\xfe"),
]


async def test_malformed_json_answers_400(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    checkout_id = await guest.ready([(variant, 1)])
    before = await counts()
    for method, path, raw in MALFORMED:
        response = await guest.call(
            method, path.format(variant=variant, checkout=checkout_id), content=raw,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert response.status_code == 400, (method, path, raw, response.text)
        problem(response, 400, "invalid-input")
    assert await counts() == before


UNKNOWN_FIELDS = [
    ("POST", "cart/items", {"variant_id": "{variant}", "qty": 1, "price_minor": 1}, "price_minor"),
    ("POST", "cart/items", {"variant_id": "{variant}", "qty": 1, "store_id": "{variant}"}, "store_id"),
    ("PATCH", "cart/items/{variant}", {"qty": 1, "unit_price_minor": 0}, "unit_price_minor"),
    ("POST", "checkout", {"email": "a@example.com", "customer_id": "{variant}"}, "customer_id"),
    ("PATCH", "checkout/{checkout}", {"status": "completed"}, "status"),
    ("PATCH", "checkout/{checkout}", {"totals": {"total": 0}}, "totals"),
    ("PATCH", "checkout/{checkout}", {"shipping_address": {**ADDRESS, "phone": "1"}}, "phone"),
    ("PATCH", "checkout/{checkout}", {"shipping": {"carrier_id": "x", "rate_id": "y", "amount_minor": 0}},
     "amount_minor"),
    ("POST", "checkout/{checkout}/complete", {"amount_minor": 1}, "amount_minor"),
]  # fmt: skip


async def test_unknown_fields_answer_400_naming_them(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    checkout_id = await guest.ready([(variant, 1)])
    before = await counts()
    for method, path, body, unknown in UNKNOWN_FIELDS:
        filled = json.loads(json.dumps(body).replace("{variant}", variant))
        response = await guest.call(method, path.format(variant=variant, checkout=checkout_id), filled)
        assert response.status_code == 400, (method, path, body, response.text)
        answer = problem(response, 400, "invalid-input")
        assert unknown in str(answer), answer
    assert await counts() == before


BAD_ADDRESSES = [
    ({**ADDRESS, "country": "de"}, "country"),
    ({**ADDRESS, "country": "DEU"}, "country"),
    ({key: value for key, value in ADDRESS.items() if key != "country"}, "country"),
    ({**ADDRESS, "region": "Bavaria"}, "region"),
    ({**ADDRESS, "postal_code": ""}, "postal_code"),
    ({**ADDRESS, "postal_code": "1" * 21}, "postal_code"),
    ({**ADDRESS, "city": "x" * 101}, "city"),
    ({**ADDRESS, "line1": "Street\x00 1"}, "line1"),
    ({**ADDRESS, "name": 42}, "name"),
    ("Berlin", None),
]


async def test_a_malformed_address_answers_400_naming_the_field(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)])
    before = await counts()
    for address, field in BAD_ADDRESSES:
        for name in ("shipping_address", "billing_address"):
            response = await guest.call("PATCH", f"checkout/{checkout_id}", {name: address})
            assert response.status_code == 400, (name, address, response.text)
            answer = problem(response, 400, "invalid-input")
            assert [error["field"] for error in answer["errors"]] == [f"{name}.{field}" if field else name], answer
    assert await counts() == before
    read = (await guest.call("GET", f"checkout/{checkout_id}")).json()
    assert read["shipping_address"]["country"] == "DE"


async def test_a_malformed_email_answers_400(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)])
    before = await counts()
    for email in ["not-an-email", "", "a@", "x" * 400 + "@example.com", 42, None]:
        patched = await guest.call("PATCH", f"checkout/{checkout_id}", {"email": email})
        assert fields(problem(patched, 400)) == ["email"], (email, patched.text)
        if email is not None:
            created = await guest.call("POST", "checkout", {"email": email})
            assert fields(problem(created, 400)) == ["email"], (email, created.text)
    assert await counts() == before


async def test_choices_the_store_does_not_offer_answer_422_and_change_nothing(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    add_discount: Callable[..., Awaitable[uuid.UUID]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    await add_discount(shop.b, "BRAVO10")
    await add_discount(shop.a, "OFF", active=False)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)])
    before_read = (await guest.call("GET", f"checkout/{checkout_id}")).json()
    rate_b = None
    cases = [
        ({"shipping": {"carrier_id": "rate-table", "rate_id": str(uuid.uuid4())}}, "shipping"),
        ({"shipping": {"carrier_id": "no-such-carrier", "rate_id": "x"}}, "shipping"),
        ({"payment_method": "no-such-method"}, "payment_method"),
        ({"discount_code": "BRAVO10"}, "discount_code"),
        ({"discount_code": "NOPE"}, "discount_code"),
        ({"discount_code": "OFF"}, "discount_code"),
        ({"discount_code": "not a code!"}, "discount_code"),
        # A valid change in the same call is not kept either.
        ({"email": "changed@example.com", "payment_method": "no-such-method"}, "payment_method"),
        ({"email": "changed@example.com", "discount_code": "BRAVO10"}, "discount_code"),
    ]
    del rate_b
    before = await counts()
    for change, field in cases:
        response = await guest.call("PATCH", f"checkout/{checkout_id}", change)
        assert fields(problem(response, 422, "unprocessable")) == [field], (change, response.text)
    refused = await guest.complete(checkout_id, {"payment_method": "no-such-method"})
    assert fields(problem(refused, 422)) == ["payment_method"]
    assert await counts() == before
    after_read = (await guest.call("GET", f"checkout/{checkout_id}")).json()
    assert after_read == before_read


async def test_another_store_shipping_rate_is_not_offered(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: Any,
    problem: Callable[..., dict[str, Any]],
) -> None:
    rate_b = str(await admin_conn.fetchval("SELECT id FROM shipping_rates WHERE store_id = $1", shop.b.id))
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)])
    response = await guest.call(
        "PATCH", f"checkout/{checkout_id}", {"shipping": {"carrier_id": "rate-table", "rate_id": rate_b}}
    )
    assert fields(problem(response, 422)) == ["shipping"]


async def test_shipping_before_an_address_answers_422(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: Any,
    problem: Callable[..., dict[str, Any]],
) -> None:
    rate = str(await admin_conn.fetchval("SELECT id FROM shipping_rates WHERE store_id = $1", shop.a.id))
    guest = shopper("alpha")
    await guest.add(await variant_id(shop.a), 1)
    checkout_id = (await guest.checkout())["id"]
    response = await guest.call(
        "PATCH", f"checkout/{checkout_id}", {"shipping": {"carrier_id": "rate-table", "rate_id": rate}}
    )
    assert fields(problem(response, 422)) == ["shipping_address"]


async def test_completing_an_incomplete_checkout_answers_422_listing_what_is_missing(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    stock: Callable[..., Awaitable[tuple[int, int]]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    variant = await variant_id(shop.a)
    await guest.add(variant, 1)
    checkout_id = (await guest.checkout(email=None))["id"]
    before = await counts()
    body = problem(await guest.complete(checkout_id), 422, "unprocessable")
    assert fields(body) == ["email", "shipping_address", "shipping", "payment_method"]
    for name in ("email", "shipping_address", "shipping", "payment_method"):
        assert name in body["detail"]
    await guest.update(checkout_id, {"email": "ada@example.com", "shipping_address": ADDRESS})
    body = problem(await guest.complete(checkout_id, {"payment_method": "bank-transfer"}), 422)
    assert fields(body) == ["shipping"]
    assert await stock(variant) == (5, 0)
    assert {table: n for table, n in (await counts()).items() if table != "checkouts"} == {
        table: n for table, n in before.items() if table != "checkouts"
    }


async def test_a_completed_checkout_cannot_change(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    counts: Counts,
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    checkout_id = await guest.ready([(await variant_id(shop.a), 1)])
    assert (await guest.complete(checkout_id)).status_code == 200
    before = await counts()
    problem(await guest.call("PATCH", f"checkout/{checkout_id}", {"email": "late@example.com"}), 409, "conflict")
    assert await counts() == before


async def test_unknown_checkout_ids_answer_404(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    problem: Callable[..., dict[str, Any]],
) -> None:
    guest = shopper("alpha")
    await guest.add(await variant_id(shop.a), 1)
    missing = str(uuid.uuid4())
    problem(await guest.call("GET", f"checkout/{missing}"), 404)
    problem(await guest.call("PATCH", f"checkout/{missing}", {"email": "a@example.com"}), 404)
    problem(await guest.complete(missing), 404)
    response = await guest.call("GET", "checkout/not-a-uuid")
    assert response.status_code in (400, 404), response.text
