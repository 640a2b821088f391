"""Helpers of the admin API tests: signed-in actors, stores, API tokens, row counts and "nothing was written" checks.

Test modules here are not a package (``--import-mode=importlib``), so every helper is offered as a fixture that
returns the function. Shared with ``tests/e2e/auth/conftest.py`` in spirit (CSRF headers, sign-up and sign-in, more
clients, row counts); copied because conftest fixtures are per directory.

Users are inserted with a password hash computed once per run (argon2 costs ~0.1 s a hash), then sign in over HTTP:
every actor holds a real session cookie and the CSRF token of its own browser.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import TEST_PASSWORD as PASSWORD
from tenantcommerce.testing.accounts import csrf_headers as get_csrf_headers
from tenantcommerce.testing.accounts import password_hash as kit_password_hash
from tenantcommerce.testing.accounts import sign_in as do_login
from tenantcommerce.testing.accounts import sign_up_and_in as do_sign_up_and_in

ADMIN_ROUTE = re.compile(r"^/api/admin/\{slug(:[a-z]+)?\}(/|$)")

STORE_TABLES = (
    "products",
    "product_variants",
    "product_media",
    "inventory_adjustments",
    "audit_log",
    "api_tokens",
    "store_members",
    "store_invitations",
    "discounts",
    "discount_redemptions",
    "orders",
    "order_items",
    "payments",
    "fulfillments",
    "refunds",
)
"""Tables with a ``store_id`` that the admin API writes."""


@functools.cache
def password_hash() -> str:
    """An argon2id hash of :data:`PASSWORD` with the library defaults (what the app would store)."""
    return kit_password_hash(PASSWORD)


@pytest.fixture
def tc_settings(postgres: TestDatabase, tmp_path: Path) -> Settings:
    """The kit's settings, logging JSON lines (the console renderer's tracebacks cost seconds each on a 500)."""
    return msgspec.structs.replace(postgres.settings, log_format="json", media_dir=str(tmp_path / "media"))


@pytest.fixture
def csrf_headers() -> Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]:
    """:func:`get_csrf_headers`."""
    return get_csrf_headers


@pytest.fixture
def sign_up_and_in() -> Callable[..., Awaitable[dict[str, Any]]]:
    """:func:`do_sign_up_and_in`."""
    return do_sign_up_and_in


@pytest.fixture
def new_client(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], AsyncTestClient[Litestar]]:
    """Makes more clients of the app ``client`` started (another browser: a cookie jar of its own)."""

    def make() -> AsyncTestClient[Litestar]:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


async def count_rows(conn: asyncpg.Connection, table: str, where: str = "true", *args: Any) -> int:
    """``SELECT count(*)`` as the superuser (sees every row, whatever RLS says)."""
    value = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args)
    return int(value)


@pytest.fixture
def rows(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[int]]:
    """``await rows("users")``, ``await rows("products", "store_id = $1", store_id)``: counts as the superuser."""

    async def count(table: str, where: str = "true", *args: Any) -> int:
        return await count_rows(admin_conn, table, where, *args)

    return count


# --- actors --------------------------------------------------------------------------------------------------------


@dataclass
class Actor:
    """A caller of the API: a signed-in browser (session cookie + CSRF header) or a bearer-token client."""

    client: httpx.AsyncClient
    email: str
    user_id: UUID | None
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    async def get(self, path: str, *, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self._headers(headers), **kw)

    async def post(self, path: str, json: Any = None, *, headers: dict[str, str] | None = None, **kw: Any):
        if json is not None:
            kw["json"] = json
        return await self.client.post(path, headers=self._headers(headers), **kw)

    async def patch(self, path: str, json: Any = None, *, headers: dict[str, str] | None = None, **kw: Any):
        if json is not None:
            kw["json"] = json
        return await self.client.patch(path, headers=self._headers(headers), **kw)

    async def delete(self, path: str, *, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return await self.client.delete(path, headers=self._headers(headers), **kw)

    async def send(
        self, method: str, path: str, json: Any = None, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        if json is not None:
            kw["json"] = json
        return await self.client.request(method, path, headers=self._headers(headers), **kw)


@pytest.fixture
def make_user(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[UUID]]:
    """``await make_user(email)``: a user with :data:`PASSWORD`, inserted as the superuser; returns the id."""

    async def make(email: str, name: str | None = None) -> UUID:
        user_id = uuid.uuid4()
        await admin_conn.execute(
            "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)",
            user_id,
            email.lower(),
            name,
            password_hash(),
        )
        return user_id

    return make


@pytest.fixture
def sign_in(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[..., Awaitable[Actor]]:
    """``await sign_in(email)``: a new browser signed in as ``email`` (which must exist), with its CSRF header."""

    async def sign(email: str, password: str = PASSWORD) -> Actor:
        browser = new_client()
        response = await do_login(browser, email, password)
        assert response.status_code == 200, response.text
        user_id = UUID(response.json()["user"]["id"])
        return Actor(browser, email.lower(), user_id, await get_csrf_headers(browser))

    return sign


@pytest.fixture
def add_member(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[None]]:
    """``await add_member(store_id, user_id, role, overrides)``: a ``store_members`` row, as the superuser."""

    async def add(store_id: UUID, user_id: UUID, role: str, overrides: dict[str, bool] | None = None) -> None:
        await admin_conn.execute(
            "INSERT INTO store_members (id, store_id, user_id, role, permissions) VALUES ($1, $2, $3, $4, $5::jsonb)",
            uuid.uuid4(),
            store_id,
            user_id,
            role,
            msgspec.json.encode(overrides or {}).decode(),
        )

    return add


@pytest.fixture
def open_store(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[UUID]]:
    """``await open_store(actor, slug, currency="EUR")``: ``POST /api/stores`` as ``actor``; returns the store id."""

    async def open_(actor: Actor, slug: str, currency: str = "EUR", name: str | None = None) -> UUID:
        response = await actor.post(
            "/api/stores", {"slug": slug, "name": name or slug.replace("-", " ").title(), "currency": currency}
        )
        assert response.status_code == 201, response.text
        store_id = await admin_conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)
        assert isinstance(store_id, UUID)
        return store_id

    return open_


@pytest.fixture
def staff(
    make_user: Callable[..., Awaitable[UUID]],
    add_member: Callable[..., Awaitable[None]],
    sign_in: Callable[..., Awaitable[Actor]],
) -> Callable[..., Awaitable[Actor]]:
    """``await staff(email, store_id, role, overrides)``: a new user, member of the store, signed in."""

    async def make(
        email: str, store_id: UUID | None = None, role: str | None = None, overrides: dict[str, bool] | None = None
    ) -> Actor:
        user_id = await make_user(email)
        if store_id is not None and role is not None:
            await add_member(store_id, user_id, role, overrides)
        return await sign_in(email)

    return make


@pytest.fixture
def bearer(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[..., Actor]:
    """``bearer(secret)``: a cookie-less client sending ``Authorization: Bearer <secret>`` (and no CSRF header)."""

    def make(secret: str, email: str = "token") -> Actor:
        return Actor(new_client(), email, None, {"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def make_token() -> Callable[..., Awaitable[str]]:
    """``await make_token(actor, slug, permissions)``: creates an API token over HTTP; returns its secret."""

    async def make(actor: Actor, slug: str, permissions: list[str], name: str = "ci", **extra: Any) -> str:
        response = await actor.post(f"/api/admin/{slug}/tokens", {"name": name, "permissions": permissions, **extra})
        assert response.status_code in (200, 201), response.text
        secret = response.json()["token"]
        assert isinstance(secret, str)
        return secret

    return make


# --- "nothing was written" -----------------------------------------------------------------------------------------


@pytest.fixture
def store_snapshot(admin_conn: asyncpg.Connection) -> Callable[[UUID], Awaitable[dict[str, Any]]]:
    """``await store_snapshot(store_id)``: every row of the store in the admin tables (and the store row), as text.

    Two equal snapshots mean nothing of the store was inserted, changed or deleted in between.
    """
    parts = [
        f"(SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '') FROM {table} t WHERE t.store_id = $1)"
        f" AS {table}"
        for table in STORE_TABLES
    ]
    sql = "SELECT " + ", ".join(parts) + ", (SELECT s::text FROM stores s WHERE s.id = $1) AS stores"

    async def snapshot(store_id: UUID) -> dict[str, Any]:
        row = await admin_conn.fetchrow(sql, store_id)
        assert row is not None
        return dict(row)

    return snapshot


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The tables whose rows differ between two snapshots."""
    return sorted(name for name in before if before[name] != after[name])


@pytest.fixture
def changed() -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    """:func:`changed_tables`."""
    return changed_tables


# --- routes --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminRoute:
    """One method of one admin route, as the app declares it."""

    method: str
    path: str  # the template, e.g. /api/admin/{slug:str}/products/{product_id:uuid}
    params: tuple[str, ...]  # path parameters other than slug
    permissions: tuple[str, ...]  # what its guards require (from the names of ``requires(...)`` guards)
    has_body: bool

    def url(self, slug: str, values: dict[str, str]) -> str:
        """The path with ``slug`` and ``values`` (by parameter name) filled in."""

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            return slug if name == "slug" else values[name]

        return re.sub(r"\{([a-z_]+)(?::[a-z]+)?\}", fill, self.path)


def admin_routes_of(app: Litestar) -> list[AdminRoute]:
    """Every method of every ``/api/admin/{slug}/...`` route of ``app`` (OPTIONS and HEAD aside)."""
    found: list[AdminRoute] = []
    for route in app.routes:
        if not ADMIN_ROUTE.match(route.path):
            continue
        params = tuple(name for name in getattr(route, "path_parameters", {}) if name != "slug")
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods):
                if method in ("OPTIONS", "HEAD"):
                    continue
                guards = [g for layer in handler.ownership_layers for g in (getattr(layer, "guards", None) or [])]
                names = [getattr(guard, "__name__", "") for guard in guards]
                permissions = tuple(
                    match.group(1) for name in names if (match := re.fullmatch(r"requires\((.+)\)", name))
                )
                has_body = "data" in handler.parsed_fn_signature.parameters
                found.append(AdminRoute(method, route.path, params, permissions, has_body))
    return sorted(found, key=lambda r: (r.path, r.method))


@pytest.fixture
def admin_routes(app: Litestar) -> list[AdminRoute]:
    """:func:`admin_routes_of` for the app under test."""
    return admin_routes_of(app)
