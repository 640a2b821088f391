"""API tokens over HTTP: shown once, stored hashed, scoped to one store and to a subset of the creator's current
permissions, expiring, revocable, and exempt from CSRF (only tokens of ours)."""

from __future__ import annotations

import datetime
import hashlib

import pytest

SLUG, OTHER = "tok-shop", "other-shop"
SHOP = f"/api/admin/{SLUG}"
TOKENS = f"{SHOP}/tokens"


def fields_of(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


def parse_time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
async def ann(client, staff, open_store):
    """Ann, owner of tok-shop, signed in."""
    ann = await staff("ann@tok.test")
    ann.store_id = await open_store(ann, SLUG)
    return ann


@pytest.fixture
async def sam(ann, staff):
    """Sam, staff of tok-shop with the one extra permission ``tokens:manage``."""
    return await staff("sam@tok.test", ann.store_id, "staff", {"tokens:manage": True})


async def test_a_token_is_shown_once_and_stored_hashed(ann, admin_conn) -> None:
    created = await ann.post(TOKENS, {"name": "ci", "permissions": ["products:write", "products:read"]})
    assert created.status_code in (200, 201), created.text
    body = created.json()
    secret, details = body["token"], body["details"]
    assert secret.startswith("tc_")
    assert len(secret) >= 40
    assert details["prefix"] == secret[: len(details["prefix"])]
    assert 3 < len(details["prefix"]) < 16, "the prefix identifies the token without giving it away"
    assert details["name"] == "ci"
    assert details["permissions"] == ["products:read", "products:write"]
    assert details["created_by"] == "ann@tok.test"
    assert details["revoked_at"] is None
    assert details["last_used_at"] is None
    lifetime = parse_time(details["expires_at"]) - parse_time(details["created_at"])
    assert datetime.timedelta(days=90) - datetime.timedelta(minutes=1) <= lifetime <= datetime.timedelta(days=90)
    assert secret not in str(details)

    listed = await ann.get(TOKENS)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert set(page) == {"items", "limit", "offset", "total"}
    assert page["total"] == 1
    [item] = page["items"]
    assert item == details
    assert "token" not in item
    assert secret not in listed.text
    assert secret[len(details["prefix"]) :] not in listed.text

    row = await admin_conn.fetchrow("SELECT *, t::text AS whole FROM api_tokens t")
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row["whole"]
    assert secret[len(details["prefix"]) :] not in row["whole"]
    assert row["store_id"] == ann.store_id

    audit = await ann.get(f"{SHOP}/audit")
    assert secret not in audit.text
    [entry] = [entry for entry in audit.json()["items"] if entry["action"] == "token.created"]
    assert entry["actor_user_id"] == str(ann.user_id)
    assert entry["target_id"] == details["id"]
    assert entry["request_id"] == created.headers["x-request-id"]


async def test_a_chosen_lifetime_is_kept(ann) -> None:
    created = await ann.post(TOKENS, {"name": "short", "permissions": ["products:read"], "expires_in_days": 1})
    assert created.status_code in (200, 201), created.text
    details = created.json()["details"]
    lifetime = parse_time(details["expires_at"]) - parse_time(details["created_at"])
    assert datetime.timedelta(hours=23) < lifetime <= datetime.timedelta(days=1)


async def test_permissions_beyond_the_creators_are_refused_naming_them(sam, make_token, problem, rows) -> None:
    response = await sam.post(
        TOKENS, {"name": "grab", "permissions": ["products:read", "settings:write", "members:manage"]}
    )
    body = problem(response, 422)
    assert set(fields_of(body)) == {"permissions"}
    messages = " ".join(error["message"] for error in body["errors"])
    assert "settings:write" in messages
    assert "members:manage" in messages
    assert "products:read" not in messages, "a permission Sam holds is not a problem"
    assert await rows("api_tokens") == 0

    # Within Sam's own permissions it works.
    await make_token(sam, SLUG, ["products:read", "products:write", "tokens:manage"])
    assert await rows("api_tokens") == 1


async def test_unknown_permissions_are_refused_naming_them(ann, problem, rows) -> None:
    for permissions in (["products:delete"], ["products:read", "everything"], ["*"], ["PRODUCTS:READ"]):
        body = problem(await ann.post(TOKENS, {"name": "x", "permissions": permissions}), 422)
        assert "permissions" in fields_of(body), body
        unknown = [name for name in permissions if name not in ("products:read",)]
        messages = " ".join(error["message"] for error in body["errors"])
        assert all(name in messages for name in unknown), body
    assert await rows("api_tokens") == 0


async def test_a_token_does_what_it_carries_and_nothing_more(ann, make_token, bearer, problem, rows) -> None:
    token = bearer(await make_token(ann, SLUG, ["products:read", "products:write"]))

    assert (await token.get(f"{SHOP}/products")).status_code == 200
    created = await token.post(f"{SHOP}/products", {"name": "By token", "slug": "by-token"})
    assert created.status_code == 201, created.text
    assert await rows("products") == 1

    for method, path, body, permission in [
        ("GET", f"{SHOP}/settings", None, "settings:read"),
        ("PATCH", f"{SHOP}/settings", {"name": "Token shop"}, "settings:write"),
        ("GET", TOKENS, None, "tokens:manage"),
        ("POST", TOKENS, {"name": "child", "permissions": ["products:read"]}, "tokens:manage"),
        ("GET", f"{SHOP}/members", None, "members:read"),
        ("GET", f"{SHOP}/audit", None, "audit:read"),
        ("POST", f"{SHOP}/inventory/adjustments", {}, "inventory:write"),
    ]:
        answer = problem(await token.send(method, path, body), 403, "permission-denied")
        assert permission in answer["detail"], (method, path, answer)
    assert await rows("api_tokens") == 1
    assert (await ann.get(f"{SHOP}/settings")).json()["name"] != "Token shop"


async def test_a_token_cannot_make_tokens(ann, make_token, bearer, problem, rows) -> None:
    """Even carrying ``tokens:manage``, a token cannot mint tokens (a leaked token could otherwise renew itself);
    it can still list and revoke them."""
    manager = bearer(await make_token(ann, SLUG, ["tokens:manage", "products:read"]))
    for permissions in (["products:read"], ["settings:write"], ["tokens:manage"]):
        problem(await manager.post(TOKENS, {"name": "child", "permissions": permissions}), 403, "permission-denied")
    assert await rows("api_tokens") == 1
    listed = await manager.get(TOKENS)
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 1
    other = await ann.post(TOKENS, {"name": "other", "permissions": ["products:read"]})
    revoked = await manager.delete(f"{TOKENS}/{other.json()['details']['id']}")
    assert revoked.status_code == 204, revoked.text


async def test_a_token_of_one_store_is_404_on_another(ann, open_store, make_token, bearer, problem, store_snapshot):
    """Ann owns both stores; her token of tok-shop still does not work on other-shop."""
    other_id = await open_store(ann, OTHER)
    token = bearer(await make_token(ann, SLUG, ["products:read", "products:write", "settings:write"]))
    before = await store_snapshot(other_id)
    problem(await token.get(f"/api/admin/{OTHER}/products"), 404, "not-found")
    problem(await token.post(f"/api/admin/{OTHER}/products", {"name": "X", "slug": "x"}), 404, "not-found")
    problem(await token.patch(f"/api/admin/{OTHER}/settings", {"name": "X"}), 404, "not-found")
    assert await store_snapshot(other_id) == before
    assert (await ann.get(f"/api/admin/{OTHER}/products")).status_code == 200, "her session works there"


async def test_a_revoked_token_is_refused_at_once(ann, bearer, open_store, problem, admin_conn) -> None:
    created = await ann.post(TOKENS, {"name": "ci", "permissions": ["products:read"]})
    secret, token_id = created.json()["token"], created.json()["details"]["id"]
    token = bearer(secret)
    assert (await token.get(f"{SHOP}/products")).status_code == 200

    revoked = await ann.delete(f"{TOKENS}/{token_id}")
    assert revoked.status_code == 204, revoked.text
    problem(await token.get(f"{SHOP}/products"), 401, "authentication-required")
    problem(await token.post(f"{SHOP}/products", {"name": "X", "slug": "x"}), 401, "authentication-required")

    [item] = (await ann.get(TOKENS)).json()["items"]
    assert item["revoked_at"] is not None
    audit = (await ann.get(f"{SHOP}/audit")).json()["items"]
    [entry] = [entry for entry in audit if entry["action"] == "token.revoked"]
    assert entry["target_id"] == token_id
    assert entry["request_id"] == revoked.headers["x-request-id"]
    assert entry["actor_user_id"] == str(ann.user_id)

    # Revoking again changes nothing (and is not audited twice); unknown ids and other stores' tokens are 404.
    assert (await ann.delete(f"{TOKENS}/{token_id}")).status_code == 204
    audit = (await ann.get(f"{SHOP}/audit")).json()["items"]
    assert [entry["action"] for entry in audit].count("token.revoked") == 1
    problem(await ann.delete(f"{TOKENS}/00000000-0000-0000-0000-000000000000"), 404)
    await open_store(ann, OTHER)
    other = await ann.post(f"/api/admin/{OTHER}/tokens", {"name": "other", "permissions": ["products:read"]})
    other_id = other.json()["details"]["id"]
    problem(await ann.delete(f"{TOKENS}/{other_id}"), 404)
    assert await admin_conn.fetchval("SELECT revoked_at FROM api_tokens WHERE id = $1", other_id) is None
    assert (await bearer(other.json()["token"]).get(f"/api/admin/{OTHER}/products")).status_code == 200


async def test_an_expired_token_is_refused(ann, make_token, bearer, problem, admin_conn) -> None:
    secret = await make_token(ann, SLUG, ["products:read"])
    token = bearer(secret)
    await admin_conn.execute("UPDATE api_tokens SET expires_at = now() + interval '1 minute'")
    assert (await token.get(f"{SHOP}/products")).status_code == 200
    await admin_conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    problem(await token.get(f"{SHOP}/products"), 401, "authentication-required")
    problem(await token.post(f"{SHOP}/products", {"name": "X", "slug": "x"}), 401, "authentication-required")


async def test_a_token_never_exceeds_its_creators_current_permissions(
    ann, sam, make_token, bearer, problem, rows
) -> None:
    token = bearer(await make_token(sam, SLUG, ["products:read", "products:write", "inventory:write"]))
    created = await token.post(f"{SHOP}/products", {"name": "One", "slug": "one"})
    assert created.status_code == 201, created.text

    # Sam becomes a viewer: the token loses products:write with him (it keeps reading).
    demoted = await ann.patch(f"{SHOP}/members/{sam.user_id}", {"role": "viewer"})
    assert demoted.status_code == 200, demoted.text
    problem(await token.post(f"{SHOP}/products", {"name": "Two", "slug": "two"}), 403, "permission-denied")
    problem(await token.post(f"{SHOP}/inventory/adjustments", {}), 403, "permission-denied")
    assert (await token.get(f"{SHOP}/products")).status_code == 200

    # An override taking products:read from Sam takes it from his token too.
    revoked = await ann.patch(f"{SHOP}/members/{sam.user_id}", {"permissions": {"products:read": False}})
    assert revoked.status_code == 200, revoked.text
    problem(await token.get(f"{SHOP}/products"), 403, "permission-denied")

    # Once Sam is no member at all, his token no longer works in the store.
    removed = await ann.delete(f"{SHOP}/members/{sam.user_id}")
    assert removed.status_code == 204, removed.text
    problem(await token.get(f"{SHOP}/products"), 404, "not-found")
    assert await rows("products") == 1


async def test_token_requests_need_no_csrf_token(ann, make_token, bearer, rows) -> None:
    token = bearer(await make_token(ann, SLUG, ["products:write", "products:read"]))
    assert token.client.cookies.get("csrftoken") is None
    assert set(token.headers) == {"Authorization"}
    created = await token.post(f"{SHOP}/products", {"name": "A", "slug": "a"})
    assert created.status_code == 201, created.text
    patched = await token.patch(f"{SHOP}/products/{created.json()['id']}", {"status": "archived"})
    assert patched.status_code == 200, patched.text
    assert await rows("products", "status = 'archived'") == 1
    # The scheme is case-insensitive.
    secret = token.headers["Authorization"].split(" ", 1)[1]
    lower = bearer(secret)
    lower.headers = {"Authorization": f"bearer {secret}"}
    assert (await lower.post(f"{SHOP}/products", {"name": "C", "slug": "c"})).status_code == 201
    assert await rows("products") == 2


async def test_a_bearer_token_wins_over_the_session_cookie(ann, make_token, problem, rows) -> None:
    """A signed-in owner whose request carries a read-only token acts with the token's rights (no CSRF needed)."""
    secret = await make_token(ann, SLUG, ["products:read"])
    headers = {"Authorization": f"Bearer {secret}"}  # and no X-CSRFToken
    answer = problem(await ann.client.post(f"{SHOP}/products", json={"name": "A", "slug": "a"}, headers=headers), 403)
    assert "products:write" in answer["detail"]
    assert await rows("products") == 0


async def test_other_bearer_values_with_a_session_cookie_still_need_csrf(ann, problem, rows) -> None:
    """Only our tokens (``tc_...``) exempt a request from CSRF: another Authorization header does not."""
    for value in ("Bearer something-else", "Bearer ", "Basic YW5uOnB3", "Bearer tc", "tc_abc"):
        answer = problem(
            await ann.client.post(
                f"{SHOP}/products", json={"name": "Forged", "slug": "forged"}, headers={"Authorization": value}
            ),
            403,
        )
        assert "csrf" in answer["detail"].lower(), (value, answer)
    assert await rows("products") == 0
    # With the CSRF header the session authenticates the same request.
    response = await ann.post(
        f"{SHOP}/products", {"name": "Real", "slug": "real"}, headers={"Authorization": "Bearer something-else"}
    )
    assert response.status_code == 201, response.text
    assert await rows("products") == 1


async def test_an_unknown_token_of_ours_is_401_even_with_a_session(ann, problem, rows) -> None:
    """A bad ``tc_`` token is refused outright; the session cookie next to it does not stand in for it."""
    answer = problem(
        await ann.post(f"{SHOP}/products", {"name": "X", "slug": "x"}, headers={"Authorization": "Bearer tc_nope"}),
        401,
        "authentication-required",
    )
    assert "token" in answer["detail"]
    problem(await ann.get(f"{SHOP}/products", headers={"Authorization": "Bearer tc_nope"}), 401)
    assert await rows("products") == 0


async def test_a_token_cannot_act_outside_the_admin_api_of_its_store(ann, make_token, bearer, rows) -> None:
    """Creating stores and accepting invitations need a signed-in person, not a store's token."""
    token = bearer(await make_token(ann, SLUG, ["products:read"]))
    created = await token.post("/api/stores", {"slug": "token-made", "name": "Token made"})
    assert created.status_code == 401, created.text
    assert await rows("stores") == 1
    accepted = await token.post("/api/auth/invitations/accept", {"token": "x" * 43})
    assert accepted.status_code == 401, accepted.text


async def test_a_token_reveals_nothing_about_its_creators_other_stores(ann, open_store, make_token, bearer) -> None:
    """A token is scoped to one store: it does not list the stores its creator works in elsewhere."""
    await open_store(ann, OTHER)
    token = bearer(await make_token(ann, SLUG, ["products:read"]))
    response = await token.get("/api/auth/me")
    if response.status_code == 200:
        assert [store["slug"] for store in response.json()["stores"]] == [SLUG], response.text
    else:
        assert response.status_code == 401, response.text
    assert OTHER not in response.text
    assert (await token.get("/api/stores")).status_code == 401
