"""The ``shipping_rates`` branch: it downgrades and upgrades on its own, its table keeps the isolation invariants,
Row Level Security keeps each store to its own rates, and the table's checks back up the API's rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from tenantcommerce.db.database import Database
from tenantcommerce.db.isolation import tenant_tables
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing import TestDatabase, insert_sample_row

from tenantcommerce_shipping_rates import storage
from tenantcommerce_shipping_rates.rates import RateInput


@pytest_asyncio.fixture
async def superuser(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """The test server's superuser on the test database: arranges and inspects, never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


async def table_exists(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass('public.shipping_rates') IS NOT NULL"))


async def test_the_branch_downgrades_to_its_base_alone_and_upgrades_again(
    postgres: TestDatabase, superuser: asyncpg.Connection
) -> None:
    migrations = Migrations(postgres.settings)
    assert "shipping_rates_0001" in await migrations.current()

    after_downgrade = await migrations.downgrade("shipping_rates@base")

    assert not await table_exists(superuser)
    assert "shipping_rates_0001" not in after_downgrade
    assert await superuser.fetchval("SELECT to_regclass('public.store_plugins') IS NOT NULL"), "the core stays"

    await migrations.upgrade()

    assert await table_exists(superuser)
    assert "shipping_rates_0001" in await migrations.current()
    assert await migrations.invariants() == []


async def test_the_table_is_a_tenant_table_that_keeps_every_isolation_invariant(
    postgres: TestDatabase, superuser: asyncpg.Connection
) -> None:
    assert "shipping_rates" in await tenant_tables(superuser)
    assert await Migrations(postgres.settings).invariants() == []


async def test_a_sample_row_fits_the_table_so_the_cores_isolation_tests_cover_it(superuser: asyncpg.Connection) -> None:
    store = await insert_sample_row(superuser, "stores", currency="EUR")

    row = await insert_sample_row(superuser, "shipping_rates", store["id"])

    assert (row["store_id"], row["kind"], row["countries"], row["active"]) == (store["id"], "flat", [], True)


async def two_stores_with_rates(tc_database: Database) -> tuple[StoreContext, StoreContext]:
    a = await create_store(tc_database, slug="rls-a", name="A", currency="EUR", owner_email="o@rls-a.test")
    b = await create_store(tc_database, slug="rls-b", name="B", currency="USD", owner_email="o@rls-b.test")
    async with tc_database.store_transaction(a.id, readonly=False) as conn:
        await storage.create_rate(conn, a.id, RateInput(name="A only", amount_minor=495), a.currency)
    return a, b


async def test_store_b_sees_none_of_store_as_rates_even_without_a_store_filter(tc_database: Database) -> None:
    a, b = await two_stores_with_rates(tc_database)

    async with tc_database.store_transaction(b.id) as conn:
        unfiltered = await conn.fetchval("SELECT count(*) FROM shipping_rates")
        by_id = await conn.fetchval("SELECT count(*) FROM shipping_rates WHERE store_id = $1", a.id)
        through_storage = await storage.active_rates(conn, a.id, "EUR")
    async with tc_database.store_transaction(a.id) as conn:
        own = await conn.fetchval("SELECT count(*) FROM shipping_rates")

    assert (unfiltered, by_id, through_storage, own) == (0, 0, [], 1)


async def test_store_b_cannot_write_into_or_change_store_as_rates(tc_database: Database) -> None:
    a, b = await two_stores_with_rates(tc_database)

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tc_database.store_transaction(b.id, readonly=False) as conn:
            await storage.create_rate(conn, a.id, RateInput(name="Planted", amount_minor=1), "EUR")
    async with tc_database.store_transaction(b.id, readonly=False) as conn:
        changed = await conn.execute("UPDATE shipping_rates SET amount_minor = 0")
        removed = await conn.execute("DELETE FROM shipping_rates")

    assert (changed, removed) == ("UPDATE 0", "DELETE 0")
    async with tc_database.store_transaction(a.id) as conn:
        assert await conn.fetch("SELECT name, amount_minor FROM shipping_rates") == [("A only", 495)]


async def test_without_a_store_the_runtime_role_sees_no_rates(tc_database: Database) -> None:
    await two_stores_with_rates(tc_database)

    async with tc_database.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM shipping_rates") == 0


@pytest.mark.parametrize(
    ("columns", "values"),
    [
        ("kind, amount_minor", "'express', 1"),
        ("kind, amount_minor, band_min, band_max", "'weight', 1, 500, 500"),
        ("kind, amount_minor, band_max", "'flat', 1, 10"),
        ("kind, amount_minor", "'flat', -1"),
        ("kind, amount_minor, free_over_minor", "'flat', 1, 0"),
        ("kind, amount_minor, countries", "'flat', 1, ARRAY['de']"),
        ("kind, amount_minor, countries", "'flat', 1, ARRAY['DEU']"),
        ("kind, amount_minor, countries", "'flat', 1, ARRAY[NULL, 'DE']"),
        ("kind, amount_minor, estimated_days", "'flat', 1, 400"),
    ],
)
async def test_the_table_refuses_what_the_api_refuses(superuser: asyncpg.Connection, columns: str, values: str) -> None:
    store = await insert_sample_row(superuser, "stores", currency="EUR")

    with pytest.raises(asyncpg.CheckViolationError):
        await superuser.execute(
            f"INSERT INTO shipping_rates (store_id, id, name, {columns}) VALUES ($1, gen_random_uuid(), 'x', {values})",
            store["id"],
        )
