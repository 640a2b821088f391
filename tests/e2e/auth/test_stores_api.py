"""``/api/stores`` over HTTP: a signed-in user creates stores they own and lists the stores they work in."""

from __future__ import annotations

import json
import secrets
from uuid import uuid4

import pytest

from tenantcommerce.auth.permissions import PERMISSIONS

PASSWORD = "correct horse battery"
ANN = "ann@example.com"
STORES = "/api/stores"


def field_names(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


@pytest.fixture
async def ann(client, sign_up_and_in, csrf_headers):
    """Ann, signed in on ``client``; returns the CSRF headers to send."""
    signed_in = await sign_up_and_in(client, ANN, PASSWORD)
    headers = await csrf_headers(client)
    return {"id": signed_in["user"]["id"], "headers": headers}


async def test_create_store_makes_the_caller_its_owner(client, ann, admin_conn) -> None:
    response = await client.post(
        STORES, json={"slug": "acme-2", "name": "Acme Ltd", "currency": "EUR"}, headers=ann["headers"]
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"slug": "acme-2", "name": "Acme Ltd", "currency": "EUR", "status": "active"}

    row = await admin_conn.fetchrow("SELECT id, owner_user_id::text AS owner, currency, status FROM stores")
    assert row["owner"] == ann["id"]
    member = await admin_conn.fetchrow(
        "SELECT user_id::text AS user_id, role FROM store_members WHERE store_id = $1", row["id"]
    )
    assert dict(member) == {"user_id": ann["id"], "role": "owner"}

    owner_view = {"slug": "acme-2", "name": "Acme Ltd", "role": "owner", "permissions": sorted(PERMISSIONS)}
    listed = await client.get(STORES)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [owner_view]
    me = await client.get("/api/auth/me")
    assert me.json()["stores"] == [owner_view]

    # A second store; the currency defaults to USD. Both are listed, by slug.
    second = await client.post(STORES, json={"slug": "007", "name": "Bond"}, headers=ann["headers"])
    assert second.status_code == 201, second.text
    assert second.json()["currency"] == "USD"
    assert [store["slug"] for store in (await client.get(STORES)).json()] == ["007", "acme-2"]


async def test_stores_are_listed_only_for_those_who_work_in_them(
    client, new_client, ann, sign_up_and_in, csrf_headers
) -> None:
    assert (await client.post(STORES, json={"slug": "acme", "name": "Acme"}, headers=ann["headers"])).status_code == 201
    bob = new_client()
    await sign_up_and_in(bob, "bob@example.com", PASSWORD)
    assert (await bob.get(STORES)).json() == []
    assert (await bob.get("/api/auth/me")).json()["stores"] == []


BAD_SLUGS = [
    "ab",  # too short
    "a",
    "",
    "a" * 64,  # too long
    "Acme",  # uppercase
    "ACME",
    "www",  # reserved
    "api",
    "admin",
    "static",
    "s",
    "-acme",  # leading hyphen
    "acme-",  # trailing hyphen
    "ac me",
    "ac_me",
    "acme.shop",
    "ácme",
    "acme\n",
    "acme\x00",
]


async def test_bad_slugs_are_refused_naming_slug(client, ann, rows, problem) -> None:
    failures = []
    for slug in BAD_SLUGS:
        response = await client.post(STORES, json={"slug": slug, "name": "Acme"}, headers=ann["headers"])
        if response.status_code not in (400, 422):
            failures.append(f"{slug!r}: {response.status_code} {response.text}")
            continue
        body = problem(response, response.status_code)
        if field_names(body) != {"slug"}:
            failures.append(f"{slug!r}: errors do not name slug alone: {body}")
        if await rows("stores") or await rows("store_members"):
            failures.append(f"{slug!r}: a row was written")
    assert not failures, "\n".join(failures)
    ok = await client.post(STORES, json={"slug": "a" * 63, "name": "Acme"}, headers=ann["headers"])
    assert ok.status_code == 201, ok.text  # the bounds are 3 to 63


async def test_duplicate_slug_is_409(client, new_client, ann, sign_up_and_in, csrf_headers, rows, problem) -> None:
    assert (await client.post(STORES, json={"slug": "acme", "name": "Acme"}, headers=ann["headers"])).status_code == 201
    again = await client.post(STORES, json={"slug": "acme", "name": "Acme again"}, headers=ann["headers"])
    assert field_names(problem(again, 409, "conflict")) == {"slug"}
    bob = new_client()
    await sign_up_and_in(bob, "bob@example.com", PASSWORD)
    taken = await bob.post(STORES, json={"slug": "acme", "name": "Bob's"}, headers=await csrf_headers(bob))
    assert field_names(problem(taken, 409, "conflict")) == {"slug"}
    assert await rows("stores") == 1
    assert await rows("store_members") == 1
    assert (await bob.get(STORES)).json() == []


async def test_bad_currencies_are_400_naming_currency(client, ann, rows, problem) -> None:
    for currency in ("eur", "EURO", "EU", "", "E1R", "€€€", None, 978):
        response = await client.post(
            STORES, json={"slug": "acme", "name": "Acme", "currency": currency}, headers=ann["headers"]
        )
        assert field_names(problem(response, 400, "invalid-input")) == {"currency"}, (currency, response.text)
    assert await rows("stores") == 0


async def test_bad_names_are_400_naming_name(client, ann, rows, problem) -> None:
    failures = []
    for name in ("", "   ", "n" * 201, None, 42, ["Acme"], "Acme\x00Ltd"):
        response = await client.post(STORES, json={"slug": "acme", "name": name}, headers=ann["headers"])
        if response.status_code != 400 or field_names(response.json()) != {"name"}:
            failures.append(f"{name!r}: {response.status_code} {response.text}")
            continue
        problem(response, 400, "invalid-input")
    assert not failures, "\n".join(failures)
    assert await rows("stores") == 0
    ok = await client.post(STORES, json={"slug": "acme", "name": "n" * 200}, headers=ann["headers"])
    assert ok.status_code == 201, ok.text


async def test_unknown_fields_are_400_naming_them(client, ann, rows, problem) -> None:
    failures = []
    for extra in ({"owner_user_id": str(uuid4())}, {"status": "suspended"}, {"is_operator": True}):
        response = await client.post(STORES, json={"slug": "acme", "name": "Acme", **extra}, headers=ann["headers"])
        body = problem(response, 400, "invalid-input")
        (field,) = extra
        if not any(field in error["field"] for error in body["errors"]):
            failures.append(f"{extra}: errors do not name {field!r}: {body['errors']}")
    assert await rows("stores") == 0
    assert not failures, "\n".join(failures)


async def test_wrong_types_and_missing_fields_are_400_naming_the_field(client, ann, rows, problem) -> None:
    failures = []
    for payload, field in (
        ({"slug": 123, "name": "Acme"}, "slug"),
        ({"slug": ["acme"], "name": "Acme"}, "slug"),
        ({"slug": None, "name": "Acme"}, "slug"),
        ({"slug": "acme", "name": "Acme", "currency": True}, "currency"),
        ({"name": "Acme"}, "slug"),
        ({"slug": "acme"}, "name"),
    ):
        body = problem(await client.post(STORES, json=payload, headers=ann["headers"]), 400, "invalid-input")
        if not any(error["field"] == field for error in body["errors"]):
            failures.append(f"{payload}: errors do not name {field!r}: {body['errors']}")
    assert await rows("stores") == 0
    assert not failures, "\n".join(failures)


async def test_bodies_that_are_not_a_store_object_are_400(client, ann, rows, problem) -> None:
    whole = json.dumps({"slug": "acme", "name": "Acme"})
    failures = []
    for raw in (b"[]", b'"acme"', b"null", b"42", b"{", b"", whole[:-1].encode(), b"\xff\xfe"):
        response = await client.post(
            STORES, content=raw, headers={**ann["headers"], "content-type": "application/json"}
        )
        body = problem(response, 400, "invalid-input")
        if not body.get("errors"):
            failures.append(f"{raw!r}: a 400 for input without an errors list: {body}")
    assert await rows("stores") == 0
    assert not failures, "\n".join(failures)


async def test_anonymous_cannot_create_or_list_stores(client, csrf_headers, rows, problem) -> None:
    headers = await csrf_headers(client)
    problem(
        await client.post(STORES, json={"slug": "acme", "name": "Acme"}, headers=headers),
        401,
        "authentication-required",
    )
    problem(await client.get(STORES), 401, "authentication-required")
    assert await rows("stores") == 0
    assert await rows("users") == 0


async def test_a_store_customer_session_cannot_create_stores(client, csrf_headers, admin_conn, rows, problem) -> None:
    """A storefront customer's session (bound to one store) is not a platform sign-in.

    The storefront customer endpoints do not exist yet, so the session row is written directly, exactly as the
    session backend writes it; a staff session written the same way proves the forged row is well-formed.
    """
    user_id = await admin_conn.fetchval(
        "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'carol@example.com') RETURNING id"
    )
    store_id = await admin_conn.fetchval(
        "INSERT INTO stores (id, owner_user_id, slug, name, currency) "
        "VALUES (gen_random_uuid(), $1, 'bravo', 'Bravo', 'USD') RETURNING id",
        user_id,
    )

    async def session_for(kind: str) -> str:
        session_id = secrets.token_hex(32)
        data = {"uid": str(user_id), "epoch": 0, "kind": kind, "store": str(store_id) if kind == "customer" else None}
        await admin_conn.execute(
            "INSERT INTO sessions (id, session_id, data, expires_at) "
            "VALUES (gen_random_uuid(), $1, $2, now() + interval '1 hour')",
            session_id,
            json.dumps(data).encode(),
        )
        return session_id

    headers = await csrf_headers(client)
    client.cookies.set("tc_session", await session_for("staff"), domain="shop.test")
    assert (await client.get("/api/auth/me")).status_code == 200, "the forged staff session should sign in"

    client.cookies.set("tc_session", await session_for("customer"), domain="shop.test")
    problem(await client.get("/api/auth/me"), 401, "authentication-required")
    problem(await client.post(STORES, json={"slug": "acme", "name": "Acme"}, headers=headers), 401)
    problem(await client.get(STORES), 401)
    # On the store's own host the customer is signed in to the storefront, and still cannot create stores.
    on_store = {**headers, "host": "bravo.shop.test"}
    response = await client.post(STORES, json={"slug": "acme", "name": "Acme"}, headers=on_store)
    assert response.status_code in (401, 403, 404), response.text
    assert await rows("stores") == 1
