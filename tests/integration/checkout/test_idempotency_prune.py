"""The hourly prune deletes idempotency keys past their 24-hour replay window, in every store, and keeps newer ones."""

from __future__ import annotations

import datetime

import asyncpg

from tenantcommerce.db.base import new_id
from tenantcommerce.db.database import Database
from tenantcommerce.storefront.idempotency import KEEP_KEYS
from tenantcommerce.storefront.maintenance import prune_idempotency_keys
from tenantcommerce.testing.stores import TwoStores


async def add_key(admin_conn: asyncpg.Connection, store_id: object, key: str, age: datetime.timedelta) -> None:
    await admin_conn.execute(
        "INSERT INTO idempotency_keys (store_id, id, client, key, request_hash, state, created_at)"
        " VALUES ($1, $2, 'cart:abc', $3, $4, 'done', now() - $5::interval)",
        store_id,
        new_id(),
        key,
        b"\0" * 32,
        age,
    )


async def test_only_keys_past_the_window_are_deleted_in_every_store(
    database: Database, two_stores: TwoStores, admin_conn: asyncpg.Connection
) -> None:
    minute = datetime.timedelta(minutes=1)
    for store in (two_stores.a, two_stores.b):
        await add_key(admin_conn, store.id, "old", KEEP_KEYS + minute)
        await add_key(admin_conn, store.id, "recent", KEEP_KEYS - minute)
    assert await prune_idempotency_keys(database) == 2
    left = await admin_conn.fetch("SELECT store_id, key FROM idempotency_keys ORDER BY store_id")
    assert sorted((row["store_id"], row["key"]) for row in left) == sorted(
        [(two_stores.a.id, "recent"), (two_stores.b.id, "recent")]
    )
    assert await prune_idempotency_keys(database) == 0
