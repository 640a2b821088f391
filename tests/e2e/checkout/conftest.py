"""Helpers of the checkout tests: a store set up to sell (the three plugin packages enabled, a shipping rate, a tax
rate), a guest shopper's calls, and row counts for "nothing was written" checks.

Test modules here are not a package (``--import-mode=importlib``), so helpers are offered as fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate as create_shipping_rate
from tenantcommerce_tax_rates.admin import create_rate as create_tax_rate
from tenantcommerce_tax_rates.schemas import TaxRateInput

from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.tenancy.context import use_store
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.plugins import enable_plugin
from tenantcommerce.testing.stores import StoreFixture, TwoStores

SHIPPING_MINOR = 500
TAX_BP = 2000

ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}

COMMERCE_TABLES = (
    "carts",
    "cart_items",
    "checkouts",
    "inventory_reservations",
    "orders",
    "order_items",
    "payments",
    "discount_redemptions",
    "idempotency_keys",
    "inventory_adjustments",
    "outbox_events",
)


async def make_shop(database: Database, store: StoreFixture, *, prices_include_tax: bool = False) -> None:
    """Enable manual payments, rate-table shipping (a flat rate) and rate-table tax (20 % in DE) in ``store``."""
    await enable_plugin(
        database,
        store.id,
        "manual-payments",
        config={"bank_transfer": {"account_holder": store.store.name, "iban": "DE89370400440532013000"}},
    )
    await enable_plugin(database, store.id, "shipping-rates")
    await enable_plugin(database, store.id, "tax-rates", config={"prices_include_tax": prices_include_tax})
    async with database.store_transaction(store.id, readonly=False) as conn:
        await create_shipping_rate(
            conn,
            store.id,
            RateInput(name="Standard", amount_minor=SHIPPING_MINOR, estimated_days=3),
            store.store.currency,
        )
    with use_store(store.store):
        async with database.session() as session:
            await create_tax_rate(session, store.id, TaxRateInput(name="VAT", country="DE", rate_bp=TAX_BP), None)
            await session.commit()


@pytest_asyncio.fixture
async def shop(tc_database: Database, two_stores: TwoStores) -> TwoStores:
    """``two_stores`` with both stores ready to sell (see :func:`make_shop`)."""
    await make_shop(tc_database, two_stores.a)
    await make_shop(tc_database, two_stores.b)
    return two_stores


@pytest_asyncio.fixture
async def admin_conn(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: arranges and inspects data, never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def counts(admin_conn: asyncpg.Connection) -> Callable[[], Awaitable[dict[str, int]]]:
    """Row counts of the tables checkout writes."""

    async def count() -> dict[str, int]:
        return {table: await admin_conn.fetchval(f"SELECT count(*) FROM {table}") for table in COMMERCE_TABLES}

    return count


@dataclass
class Shopper:
    """A guest with a cart token, shopping at one store through the app's HTTP API."""

    client: AsyncTestClient[Litestar]
    slug: str
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Cart-Token": self.token} if self.token else {}

    def url(self, path: str) -> str:
        return f"/api/storefront/{self.slug}/{path}"

    async def call(self, method: str, path: str, json: Any = None, **headers: str) -> Any:
        response = await self.client.request(method, self.url(path), json=json, headers={**self.headers, **headers})
        if response.status_code < 300 and isinstance(response.json(), dict) and response.json().get("token"):
            self.token = response.json()["token"]
        return response

    async def variant(self, product_slug: str, index: int = 0) -> dict[str, Any]:
        product = (await self.client.get(self.url(f"products/{product_slug}"))).json()
        variant: dict[str, Any] = product["variants"][index]
        return variant

    async def buy(self, variant_id: UUID | str, qty: int = 1, *, method: str = "bank-transfer") -> Any:
        """Cart -> checkout -> address, shipping, payment -> complete; the completed checkout's answer."""
        response = await self.call("POST", "cart/items", {"variant_id": str(variant_id), "qty": qty})
        assert response.status_code == 200, response.text
        checkout = await self.call("POST", "checkout", {"email": "ada@example.com"})
        assert checkout.status_code == 201, checkout.text
        checkout_id = checkout.json()["id"]
        updated = await self.call("PATCH", f"checkout/{checkout_id}", {"shipping_address": ADDRESS})
        assert updated.status_code == 200, updated.text
        quote = updated.json()["shipping_quotes"][0]
        chosen = await self.call(
            "PATCH",
            f"checkout/{checkout_id}",
            {"shipping": {"carrier_id": quote["carrier_id"], "rate_id": quote["rate_id"]}, "payment_method": method},
        )
        assert chosen.status_code == 200, chosen.text
        return await self.call("POST", f"checkout/{checkout_id}/complete")


@pytest.fixture
def shopper(client: AsyncTestClient[Litestar], app: Litestar) -> Callable[[str], Shopper]:
    """A new guest of store ``slug`` (each with a cookie jar of its own)."""

    def make(slug: str) -> Shopper:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return Shopper(other, slug)

    return make
