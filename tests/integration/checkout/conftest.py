"""Fixtures of the reservation and placement tests: a started :class:`~tenantcommerce.runtime.Runtime` (runtime role,
a pool large enough for real concurrency, the three plugin packages), a store ready to sell, and checkouts inserted
as the superuser in bulk.

Concurrency here is real: every task runs in its own ORM session on its own pooled connection, started together with
``asyncio.gather``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
import pytest_asyncio
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate as create_shipping_rate
from tenantcommerce_tax_rates.admin import create_rate as create_tax_rate
from tenantcommerce_tax_rates.schemas import TaxRateInput

from tenantcommerce.auth.mailer import RecordingMailer
from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.plugins import enable_plugin, store_context
from tenantcommerce.testing.stores import TwoStores

POOL = 40
ADDRESS = {"country": "DE", "city": "Berlin"}


@pytest_asyncio.fixture
async def admin_conn(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: arranges and inspects data, never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def database(postgres: TestDatabase) -> AsyncIterator[Database]:
    """Runtime-role connections, :data:`POOL` of them (engine and asyncpg pool each)."""
    database = Database(postgres.runtime_url, pool_size=POOL)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


@pytest_asyncio.fixture
async def runtime(postgres: TestDatabase) -> AsyncIterator[Runtime]:
    """A started runtime (what the app and the worker hold), with a recording mailer."""
    settings = msgspec.structs.replace(postgres.settings, log_format="json", db_pool_size=POOL)
    started = Runtime(settings, mailer_override=RecordingMailer())
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest_asyncio.fixture
async def store(tc_database: Database, two_stores: TwoStores) -> StoreContext:
    """Store A of ``two_stores``, selling: bank transfer, one flat 5.00 shipping rate, 20 % tax in DE; as the
    resolver gives it now (its current plugin version)."""
    a = two_stores.a
    await enable_plugin(
        tc_database,
        a.id,
        "manual-payments",
        config={"bank_transfer": {"account_holder": "A", "iban": "DE89370400440532013000"}},
    )
    await enable_plugin(tc_database, a.id, "shipping-rates")
    await enable_plugin(tc_database, a.id, "tax-rates")
    async with tc_database.store_transaction(a.id, readonly=False) as conn:
        await create_shipping_rate(conn, a.id, RateInput(name="Standard", amount_minor=500), a.store.currency)
    with use_store(a.store):
        async with tc_database.session() as session:
            await create_tax_rate(session, a.id, TaxRateInput(name="VAT", country="DE", rate_bp=2000), None)
            await session.commit()
    return await store_context(tc_database, a.id)


@pytest.fixture
def variant(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[UUID]]:
    """``await variant(store, product=0, inventory=None)``: the id of the small variant of the store's
    ``product``-th product (its stock set to ``inventory`` first, when given)."""

    async def find(store: StoreContext, product: int = 0, inventory: int | None = None) -> UUID:
        found = await admin_conn.fetchval(
            "SELECT id FROM product_variants WHERE store_id = $1 AND sku = $2",
            store.id,
            f"{store.slug}-{product + 1}-s",
        )
        if inventory is not None:
            await admin_conn.execute("UPDATE product_variants SET inventory = $2 WHERE id = $1", found, inventory)
        return UUID(str(found))

    return find


@pytest.fixture
def checkouts(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[list[UUID]]]:
    """``await checkouts(store, lines, n, **columns)``: ``n`` open guest checkouts of ``lines`` (``(variant_id,
    qty)``), with an e-mail, the address, the store's shipping rate and bank transfer chosen; their ids."""

    async def make(store: StoreContext, lines: Sequence[tuple[UUID, int]], n: int, **columns: Any) -> list[UUID]:
        rows = {
            row["id"]: row
            for row in await admin_conn.fetch(
                "SELECT v.id, v.product_id, v.sku, v.title, v.price_minor, p.name FROM product_variants v "
                "JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id WHERE v.id = ANY($1::uuid[])",
                [variant for variant, _ in lines],
            )
        }
        snapshot = json.dumps(
            [
                {"variant_id": str(variant), "product_id": str(rows[variant]["product_id"]),
                 "sku": rows[variant]["sku"], "product_name": rows[variant]["name"],
                 "variant_title": rows[variant]["title"], "qty": qty, "unit_price_minor": rows[variant]["price_minor"]}
                for variant, qty in lines
            ]
        )  # fmt: skip
        rate = await admin_conn.fetchval("SELECT id FROM shipping_rates WHERE store_id = $1", store.id)
        choice = json.dumps({"carrier_id": "rate-table", "rate_id": str(rate), "name": "Standard", "amount_minor": 500})
        ids = [uuid.uuid4() for _ in range(n)]
        names = ["store_id", "id", "cart_token_hash", "currency", "email", "lines", "shipping_address",
                 "shipping_choice", "payment_method", *columns]  # fmt: skip
        casts = ["", "", "", "", "", "::jsonb", "::jsonb", "::jsonb", "", *("" for _ in columns)]
        placeholders = ", ".join(f"${index + 1}{cast}" for index, cast in enumerate(casts))
        await admin_conn.executemany(
            f"INSERT INTO checkouts ({', '.join(names)}) VALUES ({placeholders})",
            [
                (store.id, checkout_id, checkout_id.bytes * 2, store.currency, "ada@example.com", snapshot,
                 json.dumps(ADDRESS), choice, "bank-transfer", *columns.values())
                for checkout_id in ids
            ],
        )  # fmt: skip
        return ids

    return make
