"""Shared fixtures of the end-to-end HTTP tests (real Postgres through the ``tenantcommerce.testing`` kit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase

PROBLEM_PREFIX = "urn:tenantcommerce:problem:"


@pytest_asyncio.fixture
async def admin_conn(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test database: arranges data, never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def add_domain(admin_conn: asyncpg.Connection) -> Callable[[UUID, str], Awaitable[None]]:
    """Insert a ``store_domains`` row (as the superuser) serving ``domain`` for a store."""

    async def add(store_id: UUID, domain: str) -> None:
        await admin_conn.execute(
            "INSERT INTO store_domains (id, store_id, domain) VALUES ($1, $2, $3)", uuid4(), store_id, domain
        )

    return add


def check_problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is a problem+json answer with ``status`` (and problem type ``kind``); return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEM_PREFIX)
    if kind is not None:
        assert body["type"] == PROBLEM_PREFIX + kind
    assert isinstance(body.get("title"), str)
    assert body["title"]
    assert isinstance(body.get("detail"), str)
    assert body["detail"]
    return body


@pytest.fixture
def problem() -> Callable[..., dict[str, Any]]:
    """:func:`check_problem`, as a fixture (test modules here are not a package)."""
    return check_problem


async def eventually(
    send: Callable[[], Awaitable[httpx.Response]], status: int, *, within: float = 2.0
) -> httpx.Response:
    """Send until the answer has ``status`` or ``within`` seconds pass; return the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        response = await send()
        if response.status_code == status or loop.time() >= deadline:
            return response
        await asyncio.sleep(0.05)


@pytest.fixture
def poll() -> Callable[..., Awaitable[httpx.Response]]:
    """:func:`eventually`, as a fixture."""
    return eventually
