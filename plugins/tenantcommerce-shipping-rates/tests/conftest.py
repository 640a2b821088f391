"""Fixtures of the shipping-rates tests (names start with ``shipping_`` so they never shadow the kit's)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.testing.accounts import csrf_headers, sign_up_and_in

PLUGIN_ID = "shipping-rates"
PROBLEM_PREFIX = "urn:tenantcommerce:problem:"


@dataclass
class Merchant:
    """A signed-in store owner (session cookie and CSRF header) of the test's ``client``."""

    client: AsyncTestClient[Litestar]
    headers: dict[str, str]

    async def open_store(self, slug: str, currency: str = "EUR", *, enable: bool = True) -> str:
        """``POST /api/stores`` (and enable the plugin unless ``enable`` is false); the slug."""
        created = await self.client.post(
            "/api/stores", json={"slug": slug, "name": slug.title(), "currency": currency}, headers=self.headers
        )
        assert created.status_code == 201, created.text
        if enable:
            await self.set_plugin(slug, enabled=True)
        return slug

    async def set_plugin(self, slug: str, **changes: Any) -> httpx.Response:
        """``PATCH /api/admin/{slug}/plugins/shipping-rates`` with ``changes``; asserts 200."""
        response = await self.client.patch(f"/api/admin/{slug}/plugins/{PLUGIN_ID}", json=changes, headers=self.headers)
        assert response.status_code == 200, response.text
        return response

    def rates_url(self, slug: str, rate_id: str | None = None) -> str:
        """The rates collection of store ``slug`` (or one rate of it)."""
        url = f"/api/admin/{slug}/plugins/{PLUGIN_ID}/rates"
        return f"{url}/{rate_id}" if rate_id else url

    async def create_rate(self, slug: str, **fields: Any) -> dict[str, Any]:
        """``POST`` a rate; asserts 201 and returns it."""
        response = await self.client.post(self.rates_url(slug), json=fields, headers=self.headers)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def rate_names(self, slug: str) -> list[str]:
        """Names of every rate of store ``slug``, in list order."""
        response = await self.client.get(self.rates_url(slug), params={"limit": 100})
        assert response.status_code == 200, response.text
        return [rate["name"] for rate in response.json()["items"]]


@pytest_asyncio.fixture
async def shipping_merchant(client: AsyncTestClient[Litestar]) -> Merchant:
    """A merchant signed in on ``client`` (opens stores with :meth:`Merchant.open_store`)."""
    await sign_up_and_in(client, "merchant@rates.test")
    return Merchant(client, await csrf_headers(client))


def check_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` is a problem+json answer with ``status``; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].startswith(PROBLEM_PREFIX)
    assert body["detail"]
    return body


@pytest.fixture
def shipping_problem() -> Callable[[httpx.Response, int], dict[str, Any]]:
    """:func:`check_problem` (test modules are not a package, so helpers come as fixtures)."""
    return check_problem


def fields_of(problem: dict[str, Any]) -> set[str]:
    """The fields a problem's ``errors`` name."""
    return {error["field"] for error in problem.get("errors", [])}


@pytest.fixture
def shipping_error_fields() -> Callable[[dict[str, Any]], set[str]]:
    """:func:`fields_of`."""
    return fields_of
