"""Migration 0004 (plugins and outbox) on a database with data: down to 0003 removes everything it made, the job
queue included, and up again restores a schema that keeps every isolation invariant."""

from __future__ import annotations

import asyncpg

from tenantcommerce.db.admin import connect_admin
from tenantcommerce.db.database import Database
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.testing import TestDatabase, TwoStores
from tenantcommerce.testing.plugins import enable_plugin, plugin_context

TABLES_OF_0004 = ("store_plugins", "store_plugin_state", "outbox_events", "outbox_deliveries")
FUNCTIONS_OF_0004 = ("tc_outbox_backlog", "tc_bump_plugins_version")


async def procrastinate_objects(conn: asyncpg.Connection) -> list[str]:
    """Tables, sequences, functions and types of the job queue in ``public``."""
    rows = await conn.fetch(
        r"""
        SELECT 'relation ' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname LIKE 'procrastinate\_%'
        UNION ALL
        SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\_%'
        UNION ALL
        SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate\_%' AND t.typtype IN ('e', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
        """
    )
    return sorted(row["name"] for row in rows)


async def objects_of_0004(conn: asyncpg.Connection) -> dict[str, list[str]]:
    tables = await conn.fetch("SELECT relname FROM pg_class WHERE relname = ANY($1::text[])", list(TABLES_OF_0004))
    functions = await conn.fetch("SELECT proname FROM pg_proc WHERE proname = ANY($1::text[])", list(FUNCTIONS_OF_0004))
    column = await conn.fetchval(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'stores' AND column_name = 'plugins_version'"
    )
    return {
        "tables": sorted(row["relname"] for row in tables),
        "functions": sorted(row["proname"] for row in functions),
        "stores.plugins_version": ["plugins_version"] if column else [],
        "job queue": await procrastinate_objects(conn),
    }


async def test_0004_downgrades_to_0003_with_data_and_upgrades_again(
    postgres: TestDatabase, tc_database: Database, own_stores: TwoStores
) -> None:
    await enable_plugin(tc_database, own_stores.a.id, "some-plugin", config={"x": 1})
    await plugin_context(tc_database, own_stores.a.id, "some-plugin").set_state({"account": "acct"})
    await tc_database.close()  # nothing of the test holds a connection while the schema changes
    migrations = Migrations(postgres.settings)
    before = await migrations.current()
    conn = await connect_admin(postgres.admin_url, postgres.name)
    try:
        made = await objects_of_0004(conn)
        assert all(made.values()), made
        assert await conn.fetchval("SELECT count(*) FROM procrastinate_jobs") >= 2, "the stores' store.created jobs"

        assert await migrations.downgrade("0003") == ["0003"]

        assert await objects_of_0004(conn) == {
            "tables": [],
            "functions": [],
            "stores.plugins_version": [],
            "job queue": [],
        }
        assert await conn.fetchval("SELECT count(*) FROM stores") >= 2, "the stores themselves stay"

        assert sorted(await migrations.upgrade()) == sorted(before)

        assert await objects_of_0004(conn) == made
        assert await migrations.invariants() == []
        assert await migrations.drift() == []
        store_id = own_stores.a.id
        await conn.execute(
            "INSERT INTO store_plugins (store_id, id, plugin_id) VALUES ($1, gen_random_uuid(), 'again')", store_id
        )
        assert await conn.fetchval("SELECT plugins_version FROM stores WHERE id = $1", store_id) == 1, "trigger"
    finally:
        await conn.close()


async def test_version_heads_are_what_alembic_version_holds_after_upgrade(postgres: TestDatabase) -> None:
    # Runtime.start() refuses to serve unless alembic_version holds exactly these. A plugin branch depends on the
    # core's 0004; alembic then stores the plugin's revision in place of 0004.
    migrations = Migrations(postgres.settings)

    assert await migrations.current() == migrations.version_heads()
    assert await migrations.check() == []
