"""Helpers of the identity tests: CSRF headers, sign-up and sign-in, second clients, row counts.

Test modules here are not a package (``--import-mode=importlib``), so every helper is offered as a fixture that
returns the function.
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
from tenantcommerce.testing.accounts import csrf_headers as get_csrf_headers
from tenantcommerce.testing.accounts import register as do_register
from tenantcommerce.testing.accounts import sign_in as do_login
from tenantcommerce.testing.accounts import sign_up_and_in as do_sign_up_and_in


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """The kit's settings, logging JSON lines: some bad input still answers 500 (see the failing tests), and the
    console renderer's rich tracebacks cost seconds each."""
    return msgspec.structs.replace(postgres.settings, log_format="json")


@pytest.fixture
def csrf_headers() -> Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]:
    """:func:`get_csrf_headers`."""
    return get_csrf_headers


@pytest.fixture
def register() -> Callable[..., Awaitable[httpx.Response]]:
    """:func:`do_register`."""
    return do_register


@pytest.fixture
def login() -> Callable[..., Awaitable[httpx.Response]]:
    """:func:`do_login`."""
    return do_login


@pytest.fixture
def sign_up_and_in() -> Callable[..., Awaitable[dict[str, Any]]]:
    """:func:`do_sign_up_and_in`."""
    return do_sign_up_and_in


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
    """``await rows("users")``, ``await rows("stores", "slug = $1", "acme")``: row counts as the superuser."""

    async def count(table: str, where: str = "true", *args: Any) -> int:
        return await count_rows(admin_conn, table, where, *args)

    return count


@pytest.fixture
def production_settings() -> Callable[[Settings], Settings]:
    """Turns test settings into production ones (https, Secure cookies with the ``__Host-`` prefix)."""

    def make(settings: Settings) -> Settings:
        return msgspec.structs.replace(settings, env="production", secret_key="x" * 40)

    return make


def set_cookies(response: httpx.Response) -> list[str]:
    """The raw ``Set-Cookie`` headers of ``response``."""
    return response.headers.get_list("set-cookie")


def cookie_named(response: httpx.Response, name: str) -> str | None:
    """The raw ``Set-Cookie`` header that sets ``name``, if any (there must be at most one)."""
    found = [header for header in set_cookies(response) if header.split("=", 1)[0].strip() == name]
    assert len(found) <= 1, found
    return found[0] if found else None


def cookie_attributes(header: str) -> tuple[str, dict[str, str]]:
    """``(value, {attribute (lower-case): value})`` of a raw ``Set-Cookie`` header."""
    first, *rest = [part.strip() for part in header.split(";")]
    value = first.split("=", 1)[1]
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.strip().lower()] = val.strip()
    return value, attributes


@pytest.fixture
def cookies() -> Any:
    """Cookie helpers: ``cookies.named(response, name)``, ``cookies.attributes(header)``, ``cookies.all(response)``."""

    class Cookies:
        named = staticmethod(cookie_named)
        attributes = staticmethod(cookie_attributes)
        all = staticmethod(set_cookies)

    return Cookies
