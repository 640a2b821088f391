"""Bad input to the discount API: each case answers its 4xx as problem+json naming the field, never a 500, and
writes nothing (no discount, no audit entry)."""

from __future__ import annotations

import uuid

import pytest

SLUG = "bad-disc"
DISCOUNTS = f"/api/admin/{SLUG}/discounts"
GOOD = {"code": "SAVE10", "kind": "percentage", "value": 1000}
LATER, EARLIER = "2030-02-01T00:00:00Z", "2030-01-01T00:00:00Z"


def without(name: str) -> dict:
    return {key: value for key, value in GOOD.items() if key != name}


CREATE_CASES = [
    # 400: the body does not match the schema, or the code is not a code.
    ("code with a space", {**GOOD, "code": "SAVE 10"}, 400, "code"),
    ("code empty", {**GOOD, "code": ""}, 400, "code"),
    ("code of spaces", {**GOOD, "code": "   "}, 400, "code"),
    ("code with a leading hyphen", {**GOOD, "code": "-SAVE"}, 400, "code"),
    ("code with punctuation", {**GOOD, "code": "SAVE!"}, 400, "code"),
    ("code of 51 characters", {**GOOD, "code": "A" * 51}, 400, "code"),
    ("code of 101 characters", {**GOOD, "code": "A" * 101}, 400, "code"),
    ("code with an accent", {**GOOD, "code": "CAFÉ"}, 400, "code"),
    ("code with NUL", {**GOOD, "code": "SA\x00VE"}, 400, "code"),
    ("code a number", {**GOOD, "code": 10}, 400, "code"),
    ("code null", {**GOOD, "code": None}, 400, "code"),
    ("code missing", without("code"), 400, "code"),
    ("kind missing", without("kind"), 400, "kind"),
    ("kind unknown", {**GOOD, "kind": "bogo"}, 400, "kind"),
    ("kind in another case", {**GOOD, "kind": "Percentage"}, 400, "kind"),
    ("value a string", {**GOOD, "value": "1000"}, 400, "value"),
    ("value a fraction", {**GOOD, "value": 10.5}, 400, "value"),
    ("value a boolean", {**GOOD, "value": True}, 400, "value"),
    ("value negative", {**GOOD, "value": -1}, 400, "value"),
    ("value huge", {**GOOD, "value": 2**70}, 400, "value"),
    ("min_subtotal_minor negative", {**GOOD, "min_subtotal_minor": -1}, 400, "min_subtotal_minor"),
    ("min_subtotal_minor huge", {**GOOD, "min_subtotal_minor": 10**13}, 400, "min_subtotal_minor"),
    ("usage_limit 0", {**GOOD, "usage_limit": 0}, 400, "usage_limit"),
    ("usage_limit a string", {**GOOD, "usage_limit": "5"}, 400, "usage_limit"),
    ("starts_at without an offset", {**GOOD, "starts_at": "2030-01-01T00:00:00"}, 400, "starts_at"),
    ("ends_at not a time", {**GOOD, "ends_at": "tomorrow"}, 400, "ends_at"),
    ("active a string", {**GOOD, "active": "yes"}, 400, "active"),
    ("times_used is not an input", {**GOOD, "times_used": 3}, 400, "times_used"),
    ("store_id is not an input", {**GOOD, "store_id": str(uuid.uuid4())}, 400, "store_id"),
    # 422: well-formed, but the value does not fit the kind, or the dates are out of order.
    ("percentage of 0", {**GOOD, "value": 0}, 422, "value"),
    ("percentage above 100 %", {**GOOD, "value": 10_001}, 422, "value"),
    ("percentage without a value", without("value"), 422, "value"),
    ("fixed amount of 0", {**GOOD, "kind": "fixed_amount", "value": 0}, 422, "value"),
    ("fixed amount without a value", {"code": "X", "kind": "fixed_amount"}, 422, "value"),
    ("free shipping with a value", {**GOOD, "kind": "free_shipping", "value": 5}, 422, "value"),
    ("ends_at before starts_at", {**GOOD, "starts_at": LATER, "ends_at": EARLIER}, 422, "ends_at"),
    ("ends_at at starts_at", {**GOOD, "starts_at": LATER, "ends_at": "2030-02-01T01:00:00+01:00"}, 422, "ends_at"),
]

UPDATE_CASES = [
    ("kind changed", {"kind": "fixed_amount"}, 422, "kind"),
    ("value 0", {"value": 0}, 422, "value"),
    ("value above 100 %", {"value": 20_000}, 422, "value"),
    ("ends_at before the stored starts_at", {"ends_at": "2029-12-31T00:00:00Z"}, 422, "ends_at"),
    ("starts_at after the stored ends_at", {"starts_at": "2031-01-01T00:00:00Z"}, 422, "ends_at"),
    ("usage_limit below the uses so far", {"usage_limit": 2}, 422, "usage_limit"),
    ("usage_limit 0", {"usage_limit": 0}, 400, "usage_limit"),
    ("code malformed", {"code": "no spaces"}, 400, "code"),
    ("code of another discount", {"code": "OTHER"}, 409, "code"),
    ("code of another discount, typed loosely", {"code": " other "}, 409, "code"),
    ("code null", {"code": None}, 400, "code"),
    ("active null", {"active": None}, 400, "active"),
    ("times_used", {"times_used": 0}, 400, "times_used"),
    ("id", {"id": str(uuid.uuid4())}, 400, "id"),
    ("value a string", {"value": "5"}, 400, "value"),
    ("kind unknown", {"kind": "bogo"}, 400, "kind"),
]


@pytest.fixture
async def shop(client, member, admin_conn):
    """bad-disc, its owner, a discount SAVE10 (used 3 times of 10, in January 2030) and another, OTHER."""
    owner = await member("owner@bad-disc.test", None)
    response = await owner.post("/api/stores", {"slug": SLUG, "name": "Bad Disc", "currency": "EUR"})
    assert response.status_code == 201, response.text
    store_id = await admin_conn.fetchval("SELECT id FROM stores WHERE slug = $1", SLUG)
    made = await owner.post(DISCOUNTS, {**GOOD, "usage_limit": 10, "starts_at": EARLIER, "ends_at": LATER})
    assert made.status_code == 201, made.text
    other = await owner.post(DISCOUNTS, {"code": "OTHER", "kind": "free_shipping"})
    assert other.status_code == 201, other.text
    discount_id = made.json()["id"]
    await admin_conn.execute("UPDATE discounts SET times_used = 3 WHERE id = $1", uuid.UUID(discount_id))
    return {"owner": owner, "store_id": store_id, "url": f"{DISCOUNTS}/{discount_id}"}


async def refused(shop, snapshot, problem, method: str, url: str, body, status: int, field: str) -> str | None:
    """Why the answer to ``body`` is wrong (``None`` when it is right)."""
    before = await snapshot(shop["store_id"])
    response = await shop["owner"].send(method, url, body)
    try:
        answer = problem(response, status)
        assert field in [error["field"] for error in answer.get("errors", [])], answer
    except AssertionError as exc:
        return f"{response.status_code} {exc}"
    if await snapshot(shop["store_id"]) != before:
        return "wrote something"
    return None


async def test_create_refuses_each_bad_body(shop, snapshot, problem) -> None:
    """Every case is sent (one shop for all: a wrongly accepted case would be reported, not mask the next)."""
    failures = []
    for label, body, status, field in CREATE_CASES:
        wrong = await refused(shop, snapshot, problem, "POST", DISCOUNTS, body, status, field)
        if wrong:
            failures.append(f"POST {label}: {wrong}")
    assert not failures, "\n".join(failures)


async def test_update_refuses_each_bad_body(shop, snapshot, problem) -> None:
    failures = []
    for label, body, status, field in UPDATE_CASES:
        wrong = await refused(shop, snapshot, problem, "PATCH", shop["url"], body, status, field)
        if wrong:
            failures.append(f"PATCH {label}: {wrong}")
    assert not failures, "\n".join(failures)


async def test_a_duplicate_code_is_a_conflict_however_it_is_typed(shop, snapshot, problem) -> None:
    for code in ("SAVE10", "save10", "  Save10\t"):
        assert await refused(shop, snapshot, problem, "POST", DISCOUNTS, {**GOOD, "code": code}, 409, "code") is None, (
            code
        )


async def test_the_usage_limit_may_come_down_to_the_uses_so_far(shop) -> None:
    response = await shop["owner"].patch(shop["url"], {"usage_limit": 3})
    assert response.status_code == 200, response.text
    assert (response.json()["usage_limit"], response.json()["times_used"]) == (3, 3)


RAW_BODIES = [b"[]", b"null", b"{", b"", b'"text"', b"\xff\xfe", b"\x00", b'{"code": ']


async def test_malformed_bodies_are_400(shop, snapshot, problem) -> None:
    before = await snapshot(shop["store_id"])
    for raw in RAW_BODIES:
        for method, url in (("POST", DISCOUNTS), ("PATCH", shop["url"])):
            response = await shop["owner"].send(method, url, content=raw, headers={"content-type": "application/json"})
            problem(response, 400, "invalid-input")
    assert await snapshot(shop["store_id"]) == before


async def test_bad_list_queries_are_400(shop, problem) -> None:
    for params, field in [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"active": "maybe"}, "active"),
        ({"q": "x" * 101}, "q"),
    ]:
        answer = problem(await shop["owner"].get(DISCOUNTS, params=params), 400, "invalid-input")
        assert field in [error["field"] for error in answer["errors"]], params


async def test_a_malformed_id_is_not_found(shop, problem) -> None:
    problem(await shop["owner"].get(f"{DISCOUNTS}/not-a-uuid"), 404)
