"""A customer session belongs to one store: anonymous at every other store, on the platform, and in every admin."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

SESSION_COOKIE = "tc_session"
_PARAM = re.compile(r"\{(\w+):\w+\}")


def admin_routes(app: Litestar) -> list[tuple[str, str]]:
    """``(method, path template)`` of every admin endpoint the app serves (so a route added later is covered)."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/admin/"):
            found.extend((method, route.path) for method in sorted(route.methods) if method not in ("HEAD", "OPTIONS"))
    assert len(found) >= 15, found  # products, variants, inventory, settings, tokens, members, audit
    return found


def fill(template: str, values: dict[str, str]) -> str:
    """The template with each ``{name:type}`` replaced by ``values[name]`` (a fresh UUID for unknown ids)."""
    return _PARAM.sub(lambda match: values.get(match.group(1), str(uuid4())), template)


async def try_every_admin_route(client, app: Litestar, slug: str, ids: dict[str, str], headers: dict[str, str]):
    """Send each admin endpoint of store ``slug``; yield ``(method, path, response)``."""
    values = {"slug": slug, **ids}
    for method, template in admin_routes(app):
        path = fill(template, values)
        if method in ("GET", "DELETE"):
            response = await client.request(method, path, headers=headers)
        else:
            response = await client.request(method, path, json={}, headers=headers)
        yield method, path, response


def assert_shut_out(method: str, path: str, response) -> None:
    assert response.status_code in (401, 404), f"{method} {path}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), f"{method} {path}"
    body = response.json()
    assert set(body) <= {"status", "type", "title", "detail"}, f"{method} {path}: {body}"


@pytest.fixture
async def customer_of_a(client, two_stores, sign_up_and_in) -> dict:
    """``client`` signed in as a customer of store A (``jo@example.com``)."""
    return await sign_up_and_in(client, two_stores.a.slug, "jo@example.com")


async def test_customer_session_is_anonymous_at_another_store(
    client, new_client, two_stores, customer_of_a, login, problem
) -> None:
    a, b = two_stores.a, two_stores.b
    # The account is a customer of B too (signed in there from another browser): A's session still means nothing at B.
    assert (await login(new_client(), b.slug, "jo@example.com")).status_code == 200

    assert (await client.get(f"/api/storefront/{a.slug}/customers/me")).status_code == 200
    problem(await client.get(f"/api/storefront/{b.slug}/customers/me"), 401, "authentication-required")

    # The same cookie replayed on store B's own host is no better.
    sid = client.cookies[SESSION_COOKIE]
    stranger = new_client()
    for url in (f"http://{b.slug}.shop.test/api/storefront/{b.slug}/customers/me",
                f"http://shop.test/api/storefront/{b.slug}/customers/me"):  # fmt: skip
        problem(await stranger.get(url, headers={"cookie": f"{SESSION_COOKIE}={sid}"}), 401)
    assert (await client.get(f"/api/storefront/{a.slug}/customers/me")).status_code == 200, "A's session still stands"


async def test_customer_session_is_anonymous_on_the_platform(
    client, two_stores, customer_of_a, csrf_headers, rows, problem
) -> None:
    problem(await client.get("/api/auth/me"), 401, "authentication-required")
    problem(await client.get("/api/stores"), 401, "authentication-required")
    headers = await csrf_headers(client)
    stores_before = await rows("stores")
    created = await client.post("/api/stores", json={"slug": "jos-shop", "name": "Jo's"}, headers=headers)
    problem(created, 401, "authentication-required")
    assert await rows("stores") == stores_before
    change = await client.post(
        "/api/auth/password/change",
        json={"current_password": "correct horse battery", "new_password": "a different passphrase"},
        headers=headers,
    )
    problem(change, 401, "authentication-required")
    assert (await client.get(f"/api/storefront/{two_stores.a.slug}/customers/me")).status_code == 200


@pytest.mark.parametrize("member_of_a", [False, True], ids=["customer", "customer-who-is-also-owner"])
async def test_customer_session_reaches_no_admin_endpoint(
    client, app, two_stores, customer_of_a, csrf_headers, admin_conn, member_of_a
) -> None:
    a, b = two_stores.a, two_stores.b
    user_id = UUID(await admin_conn.fetchval("SELECT id::text FROM users WHERE email = 'jo@example.com'"))
    if member_of_a:
        # Even an owner of store A gets nothing through a *customer* session: admin needs a staff sign-in or a token.
        await admin_conn.execute(
            "INSERT INTO store_members (id, store_id, user_id, role) VALUES ($1, $2, $3, 'owner')",
            uuid4(),
            a.id,
            user_id,
        )
    owner_a = str(await admin_conn.fetchval("SELECT user_id FROM store_members WHERE store_id = $1 LIMIT 1", a.id))
    headers = await csrf_headers(client)
    audit_before = await admin_conn.fetchval("SELECT count(*) FROM audit_log")
    products_before = await admin_conn.fetch("SELECT id, name, status, updated_at FROM products ORDER BY id")

    for store, ids in (
        (a, {"product_id": str(a.product_ids[0]), "user_id": owner_a}),
        (b, {"product_id": str(b.product_ids[0])}),
    ):
        async for method, path, response in try_every_admin_route(client, app, store.slug, ids, headers):
            assert_shut_out(method, path, response)

    assert await admin_conn.fetchval("SELECT count(*) FROM audit_log") == audit_before
    assert await admin_conn.fetch("SELECT id, name, status, updated_at FROM products ORDER BY id") == products_before
    assert await admin_conn.fetchval("SELECT count(*) FROM api_tokens") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM store_invitations") == 0
