"""The plugin's Alembic branch (``tax_rates``) and the isolation of its table, on real Postgres."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import pytest
from tenantcommerce.db.database import Database
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing import TestDatabase
from uuid_utils.compat import uuid7

InsertRate = Callable[..., Awaitable[UUID]]


async def table_exists(postgres: TestDatabase) -> bool:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        return bool(await conn.fetchval("SELECT to_regclass('public.tax_rates') IS NOT NULL"))
    finally:
        await conn.close()


async def test_the_branch_is_a_head_and_the_database_is_at_it(postgres: TestDatabase) -> None:
    migrations = Migrations(postgres.settings)
    assert "tax_rates_0001" in migrations.heads()
    assert await migrations.current() == migrations.version_heads()
    assert "tax_rates_0001" in await migrations.current()


async def test_the_branch_downgrades_to_its_base_alone_and_upgrades_again(postgres: TestDatabase) -> None:
    migrations = Migrations(postgres.settings)
    others = set(await migrations.current()) - {"tax_rates_0001"}

    after_downgrade = await migrations.downgrade("tax_rates@base")

    # alembic_version keeps heads only: the other plugins' branches, or the core's 0004 when there are none.
    assert set(after_downgrade) == (others or {"0004"}), "the core and other branches stay where they were"
    assert not await table_exists(postgres)

    after_upgrade = await migrations.upgrade()

    assert after_upgrade == migrations.version_heads()
    assert await table_exists(postgres)
    assert await migrations.invariants() == []


async def test_the_table_passes_the_isolation_invariants(postgres: TestDatabase) -> None:
    assert await Migrations(postgres.settings).invariants() == []


async def test_a_store_cannot_see_or_change_another_stores_rates(
    tc_database: Database, tax_insert_rate: InsertRate
) -> None:
    a = await create_store(tc_database, slug="rls-a", name="A", currency="EUR", owner_email="o@rls-a.test")
    b = await create_store(tc_database, slug="rls-b", name="B", currency="EUR", owner_email="o@rls-b.test")
    rate_id = await tax_insert_rate(a.id, name="VAT", country="DE", rate_bp=1900)

    async with tc_database.store_transaction(a.id) as conn:
        assert await conn.fetchval("SELECT count(*) FROM tax_rates") == 1
    async with tc_database.store_transaction(b.id, readonly=False) as conn:
        assert await conn.fetchval("SELECT count(*) FROM tax_rates") == 0
        assert await conn.fetchval("SELECT count(*) FROM tax_rates WHERE id = $1", rate_id) == 0
        assert await conn.execute("UPDATE tax_rates SET rate_bp = 0 WHERE id = $1", rate_id) == "UPDATE 0"
        assert await conn.execute("DELETE FROM tax_rates WHERE id = $1", rate_id) == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tc_database.store_transaction(b.id, readonly=False) as conn:
            await conn.execute(
                "INSERT INTO tax_rates (store_id, id, name, country, rate_bp) VALUES ($1, $2, 'Sneaky', 'DE', 1)",
                a.id,
                uuid7(),
            )
    async with tc_database.store_transaction(a.id) as conn:
        assert await conn.fetchval("SELECT rate_bp FROM tax_rates WHERE id = $1", rate_id) == 1900


async def test_one_whole_country_rate_of_each_name_per_store(
    tc_database: Database, tax_insert_rate: InsertRate
) -> None:
    a = await create_store(tc_database, slug="uniq-a", name="A", currency="EUR", owner_email="o@uniq-a.test")
    b = await create_store(tc_database, slug="uniq-b", name="B", currency="EUR", owner_email="o@uniq-b.test")
    await tax_insert_rate(a.id, name="VAT", country="DE", rate_bp=1900)
    await tax_insert_rate(a.id, name="VAT", country="DE", region="DE-BY", rate_bp=100)  # another region: fine
    await tax_insert_rate(b.id, name="VAT", country="DE", rate_bp=1900)  # another store: fine

    with pytest.raises(asyncpg.UniqueViolationError, match="uq_tax_rates_store_id_country_region_name"):
        await tax_insert_rate(a.id, name="VAT", country="DE", rate_bp=700)  # NULL region equals NULL region


@pytest.mark.parametrize(
    ("column", "value"),
    [("rate_bp", 100_001), ("rate_bp", -1), ("region", "FR-75"), ("region", "DE-by"), ("name", "")],
)
async def test_the_table_refuses_rows_the_api_would_refuse(
    tc_database: Database, tax_insert_rate: InsertRate, column: str, value: object
) -> None:
    store = await create_store(tc_database, slug="checks", name="C", currency="EUR", owner_email="o@checks.test")
    fields = {"name": "VAT", "country": "DE", "rate_bp": 1900, column: value}
    with pytest.raises(asyncpg.CheckViolationError):
        await tax_insert_rate(store.id, **fields)
