"""Helpers of the discount API tests: signed-in members of a store, row snapshots ("nothing was written").

Test modules here are not a package (``--import-mode=importlib``), so every helper is a fixture. The actor helpers
follow ``tests/e2e/admin/conftest.py`` (conftest fixtures are per directory): users are inserted as the superuser
with a password hash computed once per run, then sign in over HTTP and hold a real session and CSRF token.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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
from tenantcommerce.testing.accounts import TEST_PASSWORD
from tenantcommerce.testing.accounts import csrf_headers as get_csrf_headers
from tenantcommerce.testing.accounts import password_hash as kit_password_hash
from tenantcommerce.testing.accounts import sign_in as do_login

DISCOUNT_TABLES = ("discounts", "discount_redemptions", "audit_log")
"""What the discount API may write, per store."""


@functools.cache
def password_hash() -> str:
    return kit_password_hash(TEST_PASSWORD)


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """The kit's settings, logging JSON lines (the console renderer's tracebacks cost seconds each)."""
    return msgspec.structs.replace(postgres.settings, log_format="json")


@dataclass
class Actor:
    """A caller: a signed-in browser (session cookie + CSRF header) or a bearer-token client."""

    client: httpx.AsyncClient
    email: str
    user_id: UUID | None
    headers: dict[str, str] = field(default_factory=dict)

    async def send(self, method: str, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        if json is not None:
            kw["json"] = json
        headers = {**self.headers, **kw.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.send("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.send("POST", path, json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.send("PATCH", path, json, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.send("DELETE", path, **kw)


@pytest.fixture
def new_client(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], AsyncTestClient[Litestar]]:
    """Another browser of the app ``client`` started (a cookie jar of its own)."""

    def make() -> AsyncTestClient[Litestar]:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


@pytest.fixture
def member(
    admin_conn: asyncpg.Connection, new_client: Callable[[], AsyncTestClient[Litestar]]
) -> Callable[..., Awaitable[Actor]]:
    """``await member(email, store_id, role)``: a new user, member of the store (unless ``role`` is None), signed
    in."""

    async def make(email: str, store_id: UUID | None = None, role: str | None = "owner") -> Actor:
        user_id = uuid.uuid4()
        await admin_conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)", user_id, email, password_hash()
        )
        if store_id is not None and role is not None:
            await admin_conn.execute(
                "INSERT INTO store_members (id, store_id, user_id, role) VALUES ($1, $2, $3, $4)",
                uuid.uuid4(),
                store_id,
                user_id,
                role,
            )
        browser = new_client()
        response = await do_login(browser, email)
        assert response.status_code == 200, response.text
        return Actor(browser, email, user_id, await get_csrf_headers(browser))

    return make


@pytest.fixture
def bearer(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[[str], Actor]:
    """``bearer(secret)``: a cookie-less client sending ``Authorization: Bearer <secret>``."""

    def make(secret: str) -> Actor:
        return Actor(new_client(), "token", None, {"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def snapshot(admin_conn: asyncpg.Connection) -> Callable[[UUID], Awaitable[dict[str, str]]]:
    """``await snapshot(store_id)``: the store's rows of :data:`DISCOUNT_TABLES`, as text (equal: nothing written)."""

    async def take(store_id: UUID) -> dict[str, str]:
        out = {}
        for table in DISCOUNT_TABLES:
            out[table] = await admin_conn.fetchval(
                f"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '') FROM {table} t WHERE t.store_id = $1",
                store_id,
            )
        return out

    return take


@pytest.fixture
def rows_of(admin_conn: asyncpg.Connection) -> Callable[[str, UUID], Awaitable[int]]:
    """``await rows_of(table, store_id)``: the store's rows in ``table``, counted as the superuser."""

    async def count(table: str, store_id: UUID) -> int:
        return int(await admin_conn.fetchval(f"SELECT count(*) FROM {table} WHERE store_id = $1", store_id))

    return count
