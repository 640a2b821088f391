"""The ``stripe`` Alembic branch (down and up again, isolation invariants) and Row Level Security on
``stripe_payment_intents``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from tenantcommerce.db.admin import connect_admin
from tenantcommerce.db.database import Database
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.testing import TestDatabase
from uuid_utils.compat import uuid7

from tenantcommerce_stripe.gateway import StripeGateway

from .conftest import StripeStore, payment_request

TABLE = "stripe_payment_intents"


@pytest.fixture
async def st_admin(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """The server's superuser on the test database (reads the catalog)."""
    conn = await connect_admin(postgres.admin_url, postgres.name)
    try:
        yield conn
    finally:
        await conn.close()


async def table_exists(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT count(*) FROM pg_class WHERE relname = $1 AND relkind = 'r'", TABLE))


async def versions(conn: asyncpg.Connection) -> set[str]:
    return {row["version_num"] for row in await conn.fetch("SELECT version_num FROM alembic_version")}


async def test_the_branch_downgrades_to_its_base_and_upgrades_again(
    postgres: TestDatabase, st_admin: asyncpg.Connection
) -> None:
    migrations = Migrations(postgres.settings)
    assert "stripe_0001" in await versions(st_admin)
    assert await migrations.invariants() == []
    rls = await st_admin.fetchrow("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1", TABLE)
    assert (rls["relrowsecurity"], rls["relforcerowsecurity"]) == (True, True)

    await migrations.downgrade("stripe@base")

    assert not await table_exists(st_admin)
    after = await versions(st_admin)
    assert "stripe_0001" not in after
    assert after, "the core and the other branches stay"

    await migrations.upgrade()

    assert await table_exists(st_admin)
    assert await migrations.invariants() == []


async def test_another_store_cannot_see_or_write_a_stores_payment_intents(
    st_store: Callable[..., Awaitable[StripeStore]], st_gateway: StripeGateway, tc_database: Database
) -> None:
    a = await st_store("alpha")
    b = await st_store("bravo")
    await st_gateway.create_payment(a.ctx, payment_request("k1"), a.plugin)

    async with tc_database.store_transaction(a.ctx.id) as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {TABLE}") == 1
    async with tc_database.store_transaction(b.ctx.id, readonly=False) as conn:
        assert await conn.fetch(f"SELECT * FROM {TABLE} WHERE store_id = $1", a.ctx.id) == []
        assert await conn.execute(f"DELETE FROM {TABLE} WHERE store_id = $1", a.ctx.id) == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tc_database.store_transaction(b.ctx.id, readonly=False) as conn:
            await conn.execute(
                f"INSERT INTO {TABLE} (store_id, id, idempotency_key, payment_intent_id, checkout_id, amount_minor, "
                "currency) VALUES ($1, $2, 'k1', 'pi_3x', $2, 1, 'EUR')",
                a.ctx.id,
                uuid7(),
            )
