"""Fixtures of the tax-rates tests (named ``tax_*`` so they never shadow the core kit's fixtures).

* ``tax_owner``: ``client`` signed in as the owner of two stores, ``tax-a`` (EUR) and ``tax-b`` (USD), both with the
  plugin enabled through the core admin API; it sends requests with the CSRF header.
* ``tax_insert_rate``: inserts a rate row for a store as the runtime role (inside the store's transaction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.db.database import Database
from tenantcommerce.testing.accounts import csrf_headers, sign_up_and_in
from uuid_utils.compat import uuid7

PLUGIN_ID = "tax-rates"


@dataclass
class TaxOwner:
    """A signed-in owner of stores ``a`` and ``b`` (slugs), calling the API with the CSRF header."""

    client: AsyncTestClient[Litestar]
    headers: dict[str, str]
    a: str
    b: str

    def rates(self, slug: str, suffix: str = "") -> str:
        """The URL of the store's rates (``suffix``: ``/<rate_id>``)."""
        return f"/api/admin/{slug}/plugins/{PLUGIN_ID}/rates{suffix}"

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.client.get(url, **kwargs)

    async def post(self, url: str, body: Any) -> Any:
        return await self.client.post(url, json=body, headers=self.headers)

    async def patch(self, url: str, body: Any) -> Any:
        return await self.client.patch(url, json=body, headers=self.headers)

    async def delete(self, url: str) -> Any:
        return await self.client.delete(url, headers=self.headers)

    async def configure(self, slug: str, body: dict[str, Any]) -> Any:
        """``PATCH /api/admin/{slug}/plugins/tax-rates`` (the core's enable/configure endpoint)."""
        return await self.patch(f"/api/admin/{slug}/plugins/{PLUGIN_ID}", body)

    async def plugin_view(self, slug: str) -> dict[str, Any]:
        """``GET /api/admin/{slug}/plugins/tax-rates``: the core's view of the plugin in the store."""
        response = await self.get(f"/api/admin/{slug}/plugins/{PLUGIN_ID}")
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    async def create_rate(self, slug: str, **body: Any) -> dict[str, Any]:
        """Create a rate that must be accepted; the answer's body."""
        response = await self.post(self.rates(slug), body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest_asyncio.fixture
async def tax_owner(client: AsyncTestClient[Litestar]) -> TaxOwner:
    """Stores ``tax-a`` (EUR) and ``tax-b`` (USD) of one signed-in owner, with the plugin enabled in both."""
    await sign_up_and_in(client, "owner@tax-rates.test")
    owner = TaxOwner(client=client, headers=await csrf_headers(client), a="tax-a", b="tax-b")
    for slug, currency in ((owner.a, "EUR"), (owner.b, "USD")):
        created = await owner.post("/api/stores", {"slug": slug, "name": slug.title(), "currency": currency})
        assert created.status_code == 201, created.text
        enabled = await owner.configure(slug, {"enabled": True})
        assert enabled.status_code == 200, enabled.text
    return owner


@pytest.fixture
def tax_insert_rate(tc_database: Database) -> Callable[..., Awaitable[UUID]]:
    """``await tax_insert_rate(store_id, name=..., country=..., rate_bp=..., ...)``: the new rate's id."""

    async def insert(store_id: UUID, **fields: Any) -> UUID:
        row = {"region": None, "applies_to_shipping": False, "tax_code": None, **fields}
        rate_id = uuid7()
        async with tc_database.store_transaction(store_id, readonly=False) as conn:
            await conn.execute(
                "INSERT INTO tax_rates (store_id, id, name, country, region, rate_bp, applies_to_shipping, tax_code) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                store_id,
                rate_id,
                row["name"],
                row["country"],
                row["region"],
                row["rate_bp"],
                row["applies_to_shipping"],
                row["tax_code"],
            )
        return rate_id

    return insert
