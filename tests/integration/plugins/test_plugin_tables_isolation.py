"""Plugin config, plugin state and the outbox are tenant data: as the runtime role, a store sees and writes only its
own rows, and with no store set nothing at all. Raw asyncpg, no ORM, so only Row Level Security stands between the
stores."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from uuid_utils.compat import uuid7

from tenantcommerce.db.database import Database
from tenantcommerce.jobs.outbox import emit
from tenantcommerce.plugins.events import ProductChanged
from tenantcommerce.tenancy.context import use_store
from tenantcommerce.testing import TwoStores
from tenantcommerce.testing.plugins import enable_plugin, plugin_context

PLUGIN_TABLES = ("store_plugins", "store_plugin_state", "outbox_events", "outbox_deliveries")
INSERTS = {
    "store_plugins": "INSERT INTO store_plugins (store_id, id, plugin_id, enabled) VALUES ($1, $2, 'intruder', true)",
    "store_plugin_state": "INSERT INTO store_plugin_state (store_id, id, plugin_id, state) "
    "VALUES ($1, $2, 'intruder', '{}')",
    "outbox_events": "INSERT INTO outbox_events (store_id, id, name, payload) VALUES ($1, $2, 'store.created', '{}')",
}


async def insert_in(db: Database, scope: UUID, sql: str, store_id: UUID) -> None:
    """Run one of :data:`INSERTS` for ``store_id`` in a transaction scoped to store ``scope``."""
    async with db.store_transaction(scope, readonly=False) as conn:
        await conn.execute(sql, store_id, uuid7())


async def insert_with_setting(
    conn: asyncpg.pool.PoolConnectionProxy, setting: str | None, sql: str, store_id: UUID
) -> None:
    """Run one of :data:`INSERTS` for ``store_id`` in a transaction whose store setting is ``setting`` (or unset)."""
    async with conn.transaction():
        if setting is not None:
            await conn.execute("SELECT set_config('app.current_store_id', $1, true)", setting)
        await conn.execute(sql, store_id, uuid7())


@pytest_asyncio.fixture
async def rows_of_a(db: Database, stores: TwoStores) -> TwoStores:
    """Store A with a row in every plugin table: an enabled plugin, its state, an event and its delivery."""
    await enable_plugin(db, stores.a.id, "keeper", priority=7)
    await plugin_context(db, stores.a.id, "keeper").set_state({"account": "acct_a"})
    with use_store(stores.a.store):
        async with db.session() as session:
            event_id = await emit(
                session, "product.updated", ProductChanged(product_id=UUID(str(uuid7())), slug="s", status="active")
            )
            await session.commit()
    async with db.store_transaction(stores.a.id, readonly=False) as conn:
        await conn.execute(
            "INSERT INTO outbox_deliveries (store_id, id, event_id, plugin_id) VALUES ($1, $2, $3, 'keeper')",
            stores.a.id,
            uuid7(),
            event_id,
        )
    return stores


async def test_store_a_sees_its_own_plugin_rows(db: Database, rows_of_a: TwoStores) -> None:
    counts = {}
    async with db.store_transaction(rows_of_a.a.id) as conn:
        for table in PLUGIN_TABLES:
            counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE store_id = $1", rows_of_a.a.id)

    assert all(count >= 1 for count in counts.values()), counts


async def test_store_b_sees_none_of_store_as_plugin_rows(db: Database, rows_of_a: TwoStores) -> None:
    leaks = {}
    async with db.store_transaction(rows_of_a.b.id) as conn:
        for table in PLUGIN_TABLES:
            foreign = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE store_id <> $1", rows_of_a.b.id)
            if foreign:
                leaks[table] = foreign

    assert leaks == {}


async def test_store_b_cannot_change_or_add_rows_of_store_a(db: Database, rows_of_a: TwoStores) -> None:
    a, b = rows_of_a.a.id, rows_of_a.b.id
    async with db.store_transaction(b, readonly=False) as conn:
        for table in PLUGIN_TABLES:
            assert await conn.execute(f"UPDATE {table} SET store_id = store_id WHERE store_id = $1", a) == "UPDATE 0"
            assert await conn.execute(f"DELETE FROM {table} WHERE store_id = $1", a) == "DELETE 0"
    for sql in INSERTS.values():
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await insert_in(db, b, sql, a)

    async with db.store_transaction(a) as conn:
        assert await conn.fetchval("SELECT count(*) FROM store_plugins WHERE plugin_id = 'keeper'") == 1
        assert await conn.fetchval("SELECT count(*) FROM store_plugins WHERE plugin_id = 'intruder'") == 0


@pytest.mark.parametrize("setting", [None, ""], ids=["never-set", "empty"])
async def test_with_no_store_set_no_row_is_visible_and_inserts_are_rejected(
    db: Database, rows_of_a: TwoStores, setting: str | None
) -> None:
    async with db.pool.acquire() as conn:
        async with conn.transaction():
            if setting is not None:
                await conn.execute("SELECT set_config('app.current_store_id', $1, true)", setting)
            visible = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in PLUGIN_TABLES}
        assert visible == dict.fromkeys(PLUGIN_TABLES, 0)
        for sql in INSERTS.values():
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await insert_with_setting(conn, setting, sql, rows_of_a.a.id)


async def test_plugin_state_of_one_store_is_invisible_to_another(db: Database, stores: TwoStores) -> None:
    in_a = plugin_context(db, stores.a.id, "keeper")
    in_b = plugin_context(db, stores.b.id, "keeper")
    other_plugin_in_a = plugin_context(db, stores.a.id, "other")

    await in_a.set_state({"account": "acct_a", "charges_enabled": True})

    assert await in_b.get_state() == {}
    assert await other_plugin_in_a.get_state() == {}

    await in_b.set_state({"account": "acct_b"})
    await in_a.set_state({"account": "acct_a2"})

    assert await in_a.get_state() == {"account": "acct_a2"}
    assert await in_b.get_state() == {"account": "acct_b"}
    async with in_b.transaction() as conn:
        states = await conn.fetch("SELECT store_id, plugin_id FROM store_plugin_state")
    assert [(row["store_id"], row["plugin_id"]) for row in states] == [(stores.b.id, "keeper")]


async def test_a_plugin_transaction_is_read_only_unless_asked_and_scoped_to_its_store(
    db: Database, rows_of_a: TwoStores
) -> None:
    plugin_in_b = plugin_context(db, rows_of_a.b.id, "keeper")

    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        async with plugin_in_b.transaction() as conn:
            await conn.execute(INSERTS["store_plugin_state"], rows_of_a.b.id, uuid7())
    async with plugin_in_b.transaction(readonly=False) as conn:
        await conn.execute(INSERTS["store_plugin_state"], rows_of_a.b.id, uuid7())
        setting = await conn.fetchval("SELECT current_setting('app.current_store_id')")
        stores_seen = {row["store_id"] for row in await conn.fetch("SELECT store_id FROM store_plugin_state")}

    assert setting == str(rows_of_a.b.id)
    assert stores_seen == {rows_of_a.b.id}
