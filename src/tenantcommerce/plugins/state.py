"""Per-store plugin state (``store_plugin_state``): written by the plugin or the platform, never by merchants."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from uuid_utils.compat import uuid7


async def read_state(conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy, plugin_id: str) -> dict[str, Any]:
    """The state of ``plugin_id`` in the store of the current transaction."""
    raw = await conn.fetchval(
        "SELECT state::text FROM store_plugin_state WHERE store_id = current_setting('app.current_store_id')::uuid "
        "AND plugin_id = $1",
        plugin_id,
    )
    return {} if raw is None else dict(msgspec.json.decode(raw))


async def write_state(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy, plugin_id: str, state: dict[str, Any]
) -> None:
    """Replace the state of ``plugin_id`` in the store of the current transaction."""
    await conn.execute(
        """
        INSERT INTO store_plugin_state (store_id, id, plugin_id, state)
        VALUES (current_setting('app.current_store_id')::uuid, $1, $2, $3::jsonb)
        ON CONFLICT (store_id, plugin_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()
        """,
        uuid7(),
        plugin_id,
        msgspec.json.encode(state).decode(),
    )
