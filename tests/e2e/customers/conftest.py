"""Helpers of the storefront-customer tests: CSRF headers, customer sign-up and sign-in, more clients, row counts.

Test modules here are not a package (``--import-mode=importlib``), so every helper is offered as a fixture that
returns the function. Copied from ``tests/e2e/auth/conftest.py`` where they are the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
from tenantcommerce.testing.accounts import customer_register
from tenantcommerce.testing.accounts import customer_sign_in as customer_login


async def platform_register(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """``POST /api/auth/register`` (a platform account, not a customer of any store yet)."""
    headers = await get_csrf_headers(client)
    return await client.post("/api/auth/register", json={"email": email, "password": password}, headers=headers)


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """The kit's settings, logging JSON lines (the console renderer's tracebacks cost seconds each)."""
    return msgspec.structs.replace(postgres.settings, log_format="json")


@pytest.fixture
def csrf_headers() -> Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]:
    """:func:`get_csrf_headers`."""
    return get_csrf_headers


@pytest.fixture
def register() -> Callable[..., Awaitable[httpx.Response]]:
    """:func:`customer_register`: ``await register(client, slug, email, password, name=...)``."""
    return customer_register


@pytest.fixture
def login() -> Callable[..., Awaitable[httpx.Response]]:
    """:func:`customer_login`: ``await login(client, slug, email, password)``."""
    return customer_login


@pytest.fixture
def register_platform() -> Callable[..., Awaitable[httpx.Response]]:
    """:func:`platform_register`."""
    return platform_register


@pytest.fixture
def sign_up_and_in() -> Callable[..., Awaitable[dict[str, Any]]]:
    """Register ``email`` at store ``slug`` and sign ``client`` in there; return the login answer."""

    async def run(client: httpx.AsyncClient, slug: str, email: str, password: str = PASSWORD) -> dict[str, Any]:
        registered = await customer_register(client, slug, email, password)
        assert registered.status_code == 202, registered.text
        response = await customer_login(client, slug, email, password)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["email"] == email.lower()
        return body

    return run


@pytest.fixture
def new_client(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], AsyncTestClient[Litestar]]:
    """Makes more clients of the app ``client`` started (another browser: a cookie jar of its own).

    They share ``client``'s event-loop thread (its blocking portal), where the app's connection pools live; they
    hold nothing to close.
    """

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
    """``await rows("users")``, ``await rows("store_customers", "store_id = $1", id)``: counts as the superuser."""

    async def count(table: str, where: str = "true", *args: Any) -> int:
        return await count_rows(admin_conn, table, where, *args)

    return count
