"""Helpers for testing plugins: enable one for a store, build the context a plugin gets, register a test plugin."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from uuid_utils.compat import uuid7

from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.tenancy.context import StoreContext

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tenantcommerce.db.database import Database
    from tenantcommerce.plugins.host import PluginInfo


async def enable_plugin(
    database: Database,
    store_id: UUID,
    plugin_id: str,
    *,
    config: dict[str, Any] | None = None,
    priority: int = 0,
    enabled: bool = True,
) -> None:
    """Write the store's ``store_plugins`` row for ``plugin_id`` (as the merchant's admin API would, without the
    config validation: tests of invalid saved config use this)."""
    async with database.store_transaction(store_id, readonly=False) as conn:
        await conn.execute(
            """
            INSERT INTO store_plugins (store_id, id, plugin_id, enabled, priority, config)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb)
            ON CONFLICT (store_id, plugin_id)
            DO UPDATE SET enabled = EXCLUDED.enabled, priority = EXCLUDED.priority, config = EXCLUDED.config
            """,
            store_id,
            uuid7(),
            plugin_id,
            enabled,
            priority,
            msgspec.json.encode(config or {}).decode(),
        )


async def store_context(database: Database, store_id: UUID) -> StoreContext:
    """The store as the resolver gives it now, uncached (with its current ``plugins_version``)."""
    from litestar.stores.memory import MemoryStore

    from tenantcommerce.tenancy.resolver import StoreResolver

    store = await StoreResolver(database, MemoryStore(), ttl=0).by_id(store_id)
    if store is None:
        raise LookupError(f"no store {store_id}")
    return store


def plugin_context(database: Database, store_id: UUID, plugin_id: str, config: Any = None) -> PluginContext:
    """The ``plugin`` argument a plugin receives for ``store_id``, with ``config`` already decoded."""
    return PluginContext(plugin_id=plugin_id, store_id=store_id, config=config, database=database)


def register_into(app: Litestar, plugin: object, plugin_id: str) -> PluginInfo:
    """Register ``plugin`` in a built app: hooks and providers at once, routes mounted."""
    from tenantcommerce.app import runtime_of
    from tenantcommerce.plugins.routes import plugin_routers

    runtime = runtime_of(app)
    info = runtime.plugin_host.register(plugin, plugin_id)
    for router in plugin_routers(runtime, only=plugin_id):
        app.register(router)
    if runtime._plugins is not None:
        runtime._plugins.sets.forget()
    return info


async def run_pending_jobs(client: AsyncTestClient[Litestar]) -> None:
    """Run the worker of the app behind ``client`` until no job is ready (event deliveries, their retries).

    The app lives on the test client's own event loop (in another thread), so the worker runs there too.
    """
    from tenantcommerce.app import runtime_of
    from tenantcommerce.jobs.worker import run_worker

    runtime = runtime_of(client.app)
    await asyncio.to_thread(client.blocking_portal.call, partial(run_worker, runtime, concurrency=1, wait=False))
