"""``PluginContext``: what a plugin gets with every call for a store: its config, its state, the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from tenantcommerce.plugins import state as plugin_state

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database


@dataclass(frozen=True)
class PluginContext:
    """One plugin's view of one store.

    Attributes:
        plugin_id: the plugin being called (its entry-point name).
        store_id: the store the call is for (the same as ``ctx.id``).
        config: the store's config for this plugin, decoded into the Struct the plugin registered with
            ``tc_register_settings_schemas`` (``None`` when it registered none).
        database: connections as the runtime role; use :meth:`transaction` for this store's rows.
    """

    plugin_id: str
    store_id: UUID
    config: Any
    database: Database

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = True) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """An asyncpg connection in a transaction scoped to this store (Row Level Security shows only its rows).

        Commits when the block ends, rolls back when it raises.
        """
        async with self.database.store_transaction(self.store_id, readonly=readonly) as conn:
            yield conn

    async def get_state(self) -> dict[str, Any]:
        """This plugin's state for the store (``{}`` when none was written)."""
        async with self.transaction() as conn:
            return await plugin_state.read_state(conn, self.plugin_id)

    async def set_state(self, state: dict[str, Any]) -> None:
        """Replace this plugin's state for the store. Only the plugin (and the platform) can write it: merchants
        configure plugins through ``config``, never through state."""
        async with self.transaction(readonly=False) as conn:
            await plugin_state.write_state(conn, self.plugin_id, state)
