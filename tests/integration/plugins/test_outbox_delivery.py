"""The transactional outbox and the worker: an event exists exactly when its transaction commits, reaches every
enabled plugin at least once, is retried for the plugins that failed only, and is queued again by the relay when its
job gave up.

Each test has a database of its own (the worker takes every job of the database) and a started ``Runtime`` on the
test's loop; failed deliveries are retried at once (``event_retry_wait=0`` in the test settings), so
``run_worker(wait=False)`` returns when every job has succeeded or failed for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
from uuid_utils.compat import uuid7

from tenantcommerce import hookimpl
from tenantcommerce.db.database import Database
from tenantcommerce.jobs.outbox import DELIVER_TASK, emit
from tenantcommerce.jobs.worker import relay_outbox, run_worker
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.events import EVENT_KINDS, PluginToggled, ProductChanged, StoreCreated
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.testing import TwoStores
from tenantcommerce.testing.plugins import enable_plugin

StartRuntime = Callable[..., Awaitable[Runtime]]


async def run_jobs(runtime: Runtime) -> None:
    """Run the worker until no job is ready (failing, not hanging, should a job retry for ever)."""
    async with asyncio.timeout(60):
        await run_worker(runtime, wait=False, concurrency=1)


def product(slug: str) -> ProductChanged:
    return ProductChanged(product_id=UUID(str(uuid7())), slug=slug, status="active")


async def emit_in(runtime: Runtime, store: StoreContext, *events: tuple[str, msgspec.Struct]) -> list[UUID]:
    """Emit ``events`` in one transaction of ``store`` and commit."""
    with use_store(store):
        async with runtime.database.session() as session:
            ids = [await emit(session, name, payload) for name, payload in events]
            await session.commit()
    return ids


async def event_row(database: Database, store_id: UUID, event_id: UUID) -> asyncpg.Record | None:
    async with database.store_transaction(store_id) as conn:
        return await conn.fetchrow(
            "SELECT attempts, delivered_at, last_error FROM outbox_events WHERE id = $1", event_id
        )


async def delivered_to(database: Database, store_id: UUID, event_id: UUID) -> list[str]:
    async with database.store_transaction(store_id) as conn:
        rows = await conn.fetch("SELECT plugin_id FROM outbox_deliveries WHERE event_id = $1", event_id)
    return sorted(row["plugin_id"] for row in rows)


async def jobs_of(database: Database, event_id: UUID) -> list[str]:
    """Statuses of the delivery jobs of ``event_id``, oldest first."""
    async with database.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT status::text FROM procrastinate_jobs WHERE task_name = $1 AND args->>'event_id' = $2 ORDER BY id",
            DELIVER_TASK,
            str(event_id),
        )
    return [row["status"] for row in rows]


class Listener:
    """Records each product event it handles; fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.handled: list[ProductChanged] = []

    @hookimpl
    async def tc_on_product_updated(self, ctx: StoreContext, product: ProductChanged, plugin: PluginContext) -> None:
        assert ctx.id == plugin.store_id
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        self.handled.append(product)


async def test_a_plugin_failing_twice_gets_the_event_once_more_and_a_healthy_one_exactly_once(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    flaky, healthy = Listener(failures=2), Listener()
    await enable_plugin(tc_database, own_stores.a.id, "flaky", priority=1)
    await enable_plugin(tc_database, own_stores.a.id, "healthy")
    runtime = await start_runtime(flaky=flaky, healthy=healthy)
    payload = product("boots")
    [event_id] = await emit_in(runtime, own_stores.a.store, ("product.updated", payload))

    await run_jobs(runtime)

    assert flaky.calls == 3
    assert flaky.handled == [payload]
    assert healthy.calls == 1
    assert healthy.handled == [payload]
    assert await delivered_to(tc_database, own_stores.a.id, event_id) == ["flaky", "healthy"]
    event = await event_row(tc_database, own_stores.a.id, event_id)
    assert event is not None
    assert event["delivered_at"] is not None
    assert event["attempts"] == 3
    assert event["last_error"] is None
    assert await jobs_of(tc_database, event_id) == [], "the worker deletes a job once it succeeded"


async def test_an_event_of_a_rolled_back_transaction_is_never_delivered_and_leaves_no_job(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    listener = Listener()
    await enable_plugin(tc_database, own_stores.a.id, "listener")
    runtime = await start_runtime(listener=listener)
    kept = product("kept")
    with use_store(own_stores.a.store):
        async with runtime.database.session() as session:
            lost_id = await emit(session, "product.updated", product("lost"))
            await session.rollback()
    [kept_id] = await emit_in(runtime, own_stores.a.store, ("product.updated", kept))

    assert await event_row(tc_database, own_stores.a.id, lost_id) is None
    assert await jobs_of(tc_database, lost_id) == []
    assert await jobs_of(tc_database, kept_id) == ["todo"]

    await run_jobs(runtime)

    assert listener.handled == [kept]


async def test_a_plugin_not_enabled_for_the_store_never_receives_events(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    healthy, switched_off, no_row, other_store = Listener(), Listener(), Listener(), Listener()
    await enable_plugin(tc_database, own_stores.a.id, "healthy")
    await enable_plugin(tc_database, own_stores.a.id, "switched-off", enabled=False)
    await enable_plugin(tc_database, own_stores.b.id, "other-store")
    runtime = await start_runtime(healthy=healthy, switched_off=switched_off, no_row=no_row, other_store=other_store)
    [event_id] = await emit_in(runtime, own_stores.a.store, ("product.updated", product("boots")))

    await run_jobs(runtime)

    assert healthy.calls == 1
    assert (switched_off.calls, no_row.calls, other_store.calls) == (0, 0, 0)
    assert await delivered_to(tc_database, own_stores.a.id, event_id) == ["healthy"]


async def test_a_plugin_that_always_fails_leaves_the_event_undelivered_until_the_relay_queues_it_again(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    broken, healthy = Listener(failures=1_000), Listener()
    await enable_plugin(tc_database, own_stores.a.id, "always-fails", priority=1)
    await enable_plugin(tc_database, own_stores.a.id, "healthy")
    runtime = await start_runtime({"event_max_attempts": 2}, always_fails=broken, healthy=healthy)
    [event_id] = await emit_in(runtime, own_stores.a.store, ("product.updated", product("boots")))

    await run_jobs(runtime)

    runs = broken.calls
    assert runs >= 2
    assert healthy.calls == 1
    event = await event_row(tc_database, own_stores.a.id, event_id)
    assert event is not None
    assert event["delivered_at"] is None
    assert event["attempts"] == runs
    assert "always-fails" in event["last_error"]
    assert "healthy" not in event["last_error"]
    assert await jobs_of(tc_database, event_id) == ["failed"]
    assert await delivered_to(tc_database, own_stores.a.id, event_id) == ["healthy"]

    assert await relay_outbox(runtime) == 0, "the event is younger than the relay's default age"
    assert await relay_outbox(runtime, older_than_seconds=0) == 1
    assert await jobs_of(tc_database, event_id) == ["failed", "todo"]
    assert await relay_outbox(runtime, older_than_seconds=0) == 0, "a pending job is not queued twice"
    assert await jobs_of(tc_database, event_id) == ["failed", "todo"]

    await run_jobs(runtime)

    assert (broken.calls, healthy.calls) == (2 * runs, 1)
    event = await event_row(tc_database, own_stores.a.id, event_id)
    assert event is not None
    assert event["attempts"] == 2 * runs
    assert event["delivered_at"] is None
    assert await jobs_of(tc_database, event_id) == ["failed", "failed"]


@pytest.mark.parametrize("max_attempts", [1, 3])
async def test_event_max_attempts_is_how_often_a_failing_plugin_is_tried_per_job(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores, max_attempts: int
) -> None:
    broken = Listener(failures=1_000)
    await enable_plugin(tc_database, own_stores.a.id, "always-fails")
    runtime = await start_runtime({"event_max_attempts": max_attempts}, always_fails=broken)
    [event_id] = await emit_in(runtime, own_stores.a.store, ("product.updated", product("boots")))

    await run_jobs(runtime)

    assert broken.calls == max_attempts, "TC_EVENT_MAX_ATTEMPTS counts runs of the job, not retries after the first"
    assert await jobs_of(tc_database, event_id) == ["failed"]


async def test_payloads_arrive_as_the_frozen_struct_of_their_event(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    received: list[tuple[str, StoreContext, Any]] = []

    class EveryEvent:
        @hookimpl
        async def tc_on_store_created(self, ctx: StoreContext, store: StoreCreated) -> None:
            received.append(("tc_on_store_created", ctx, store))

        @hookimpl
        async def tc_on_product_created(self, ctx: StoreContext, product: ProductChanged) -> None:
            received.append(("tc_on_product_created", ctx, product))

        @hookimpl
        async def tc_on_product_updated(self, ctx: StoreContext, product: ProductChanged) -> None:
            received.append(("tc_on_product_updated", ctx, product))

        @hookimpl
        async def tc_on_plugin_enabled(self, ctx: StoreContext, change: PluginToggled) -> None:
            received.append(("tc_on_plugin_enabled", ctx, change))

        @hookimpl
        async def tc_on_plugin_disabled(self, ctx: StoreContext, change: PluginToggled) -> None:
            received.append(("tc_on_plugin_disabled", ctx, change))

    await enable_plugin(tc_database, own_stores.a.id, "every-event")
    runtime = await start_runtime(every_event=EveryEvent())
    store = own_stores.a.store
    emitted: dict[str, msgspec.Struct] = {
        "product.created": product("new"),
        "product.updated": product("changed"),
        "plugin.enabled": PluginToggled(plugin_id="every-event", enabled=True),
        "plugin.disabled": PluginToggled(plugin_id="other", enabled=False),
    }
    await emit_in(runtime, store, *emitted.items())

    await run_jobs(runtime)

    by_hook = {hook: payload for hook, _, payload in received}
    expected = {EVENT_KINDS[name].hook: payload for name, payload in emitted.items()}
    # store.created was emitted when the store was made (create_store), before this test's events
    expected["tc_on_store_created"] = StoreCreated(
        store_id=store.id, slug=store.slug, name=store.name, currency=store.currency
    )
    assert by_hook == expected
    assert len(received) == len(expected)
    for hook, ctx, payload in received:
        kind = next(kind for kind in EVENT_KINDS.values() if kind.hook == hook)
        assert type(payload) is kind.payload
        assert ctx.id == store.id
        with pytest.raises(AttributeError):
            setattr(payload, kind.payload.__struct_fields__[0], None)


async def test_emit_refuses_an_unknown_event_or_a_payload_of_another_event(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    runtime = await start_runtime()

    with use_store(own_stores.a.store):
        async with runtime.database.session() as session:
            with pytest.raises(KeyError):
                await emit(session, "product.deleted", product("gone"))
            with pytest.raises(TypeError, match="ProductChanged"):
                await emit(session, "product.updated", PluginToggled(plugin_id="x", enabled=True))
            await session.commit()

    async with tc_database.store_transaction(own_stores.a.id) as conn:
        names = [row["name"] for row in await conn.fetch("SELECT name FROM outbox_events")]
    assert names == ["store.created"]
