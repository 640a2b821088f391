"""The outbox prune: delivered events older than the keep window go, everything else stays, store by store."""

from __future__ import annotations

import asyncpg

from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.jobs.outbox import prune_outbox
from tenantcommerce.testing import TestDatabase, TwoStores


async def _event(conn: asyncpg.Connection, store_id: object, name: str, *, delivered_days_ago: int | None) -> None:
    await conn.execute(
        """
        INSERT INTO outbox_events (store_id, id, name, payload, delivered_at, created_at)
        VALUES ($1, gen_random_uuid(), $2, '{}'::jsonb,
                CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3::int) END,
                now() - interval '30 days')
        """,
        store_id,
        name,
        delivered_days_ago,
    )


async def _names(conn: asyncpg.Connection) -> set[tuple[str, str]]:
    rows = await conn.fetch("SELECT s.slug, e.name FROM outbox_events e JOIN stores s ON s.id = e.store_id")
    return {(row["slug"], row["name"]) for row in rows}


async def test_only_events_delivered_before_the_window_are_deleted_in_every_store(
    postgres: TestDatabase, tc_database: Database, own_stores: TwoStores
) -> None:
    # The owner connection sees every store (BYPASSRLS): arrange and inspect through it.
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        await conn.execute(f"SET ROLE {postgres.settings.db_owner_role}")
        for store in (own_stores.a, own_stores.b):
            await _event(conn, store.id, "old-delivered", delivered_days_ago=8)
            await _event(conn, store.id, "recent-delivered", delivered_days_ago=2)
            await _event(conn, store.id, "never-delivered", delivered_days_ago=None)

        deleted = await prune_outbox(tc_database, keep_days=7)

        assert deleted == 2
        kept = {"recent-delivered", "never-delivered", "store.created"}  # the stores' own, not delivered yet
        assert await _names(conn) == {(store.slug, name) for store in (own_stores.a, own_stores.b) for name in kept}
        assert await prune_outbox(tc_database, keep_days=7) == 0
    finally:
        await conn.close()
