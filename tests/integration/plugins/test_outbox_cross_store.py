"""Cross-store work (DESIGN §3): the worker serves every store without any process seeing two stores' rows.

The job queue holds ids only; the relay finds undelivered events through ``tc_outbox_backlog`` (SECURITY DEFINER,
fixed ``search_path``, ids only), because the runtime role with no store set sees no event at all; each delivery
runs in transactions scoped to the event's store.

The tests that run no worker share the module's database (``db``, ``stores``); the worker's test has its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID

import msgspec
from uuid_utils.compat import uuid7

from tenantcommerce import hookimpl
from tenantcommerce.db.admin import connect_admin
from tenantcommerce.db.database import Database
from tenantcommerce.jobs.outbox import DELIVER_TASK, emit
from tenantcommerce.jobs.worker import run_worker
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.events import ProductChanged
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.testing import TestDatabase, TwoStores
from tenantcommerce.testing.plugins import enable_plugin

StartRuntime = Callable[..., Awaitable[Runtime]]


async def run_jobs(runtime: Runtime) -> None:
    """Run the worker until no job is ready (failing, not hanging, should a job retry for ever)."""
    async with asyncio.timeout(60):
        await run_worker(runtime, wait=False, concurrency=1)


BACKLOG = "tc_outbox_backlog(interval, integer, integer)"
SECRET_SLUG = "secret-slug-of-store-a"


async def emit_product_event(database: Database, store: StoreContext, slug: str) -> UUID:
    with use_store(store):
        async with database.session() as session:
            event_id = await emit(
                session, "product.updated", ProductChanged(product_id=UUID(str(uuid7())), slug=slug, status="active")
            )
            await session.commit()
    return event_id


async def events_of(database: Database, stores: TwoStores) -> set[tuple[UUID, UUID]]:
    """``(store_id, event_id)`` of every event of both stores, each read in its own store's transaction."""
    found = set()
    for store_id in (stores.a.id, stores.b.id):
        async with database.store_transaction(store_id) as conn:
            found |= {
                (row["store_id"], row["id"]) for row in await conn.fetch("SELECT store_id, id FROM outbox_events")
            }
    return found


async def test_delivery_jobs_hold_only_the_store_and_event_ids(db: Database, stores: TwoStores) -> None:
    await emit_product_event(db, stores.a.store, SECRET_SLUG)
    await emit_product_event(db, stores.b.store, "bravo-slug")

    async with db.pool.acquire() as conn:
        rows = await conn.fetch("SELECT args::text AS args FROM procrastinate_jobs WHERE task_name = $1", DELIVER_TASK)
    jobs = [msgspec.json.decode(row["args"]) for row in rows]

    assert jobs
    assert all(set(args) == {"store_id", "event_id"} for args in jobs), jobs
    ours = {(UUID(args["store_id"]), UUID(args["event_id"])) for args in jobs} & await events_of(db, stores)
    assert ours == await events_of(db, stores), "one job per event, naming its store"
    assert len(ours) == 4, "two store.created and two product.updated events"
    assert not any(SECRET_SLUG in row["args"] for row in rows)


async def test_the_backlog_function_is_security_definer_with_a_fixed_search_path_returning_ids_only(
    shared_postgres: TestDatabase,
) -> None:
    settings = shared_postgres.settings
    conn = await connect_admin(shared_postgres.admin_url, shared_postgres.name)
    try:
        function = await conn.fetchrow(
            """
            SELECT p.prosecdef, p.proconfig, pg_get_function_result(p.oid) AS result,
                   pg_get_userbyid(p.proowner) AS owner,
                   has_function_privilege($1, p.oid, 'EXECUTE') AS runtime_may_execute,
                   EXISTS (SELECT 1 FROM aclexplode(p.proacl) acl WHERE acl.grantee = 0) AS public_may_execute
            FROM pg_proc p WHERE p.oid = $2::regprocedure
            """,
            settings.db_runtime_role,
            BACKLOG,
        )
    finally:
        await conn.close()

    assert function is not None
    assert function["prosecdef"] is True
    assert function["proconfig"] == ["search_path=public, pg_catalog"]
    assert function["result"] == "TABLE(store_id uuid, event_id uuid)"
    assert function["owner"] == settings.db_owner_role
    assert function["runtime_may_execute"] is True
    assert function["public_may_execute"] is False


async def test_with_no_store_set_the_runtime_role_sees_no_event_but_the_backlog_lists_every_stores_ids(
    db: Database, stores: TwoStores
) -> None:
    event_a = await emit_product_event(db, stores.a.store, SECRET_SLUG)
    event_b = await emit_product_event(db, stores.b.store, "bravo-slug")

    async with db.pool.acquire() as conn:
        visible = await conn.fetchval("SELECT count(*) FROM outbox_events")
        backlog = await conn.fetch("SELECT * FROM tc_outbox_backlog(make_interval(), 100, 100000)")
        limited = await conn.fetch("SELECT * FROM tc_outbox_backlog(make_interval(), 100, 1)")
        too_young = await conn.fetch("SELECT * FROM tc_outbox_backlog(make_interval(hours => 1), 100, 100000)")

    assert visible == 0
    assert all(list(row.keys()) == ["store_id", "event_id"] for row in backlog)
    pairs = {(row["store_id"], row["event_id"]) for row in backlog}
    assert {(stores.a.id, event_a), (stores.b.id, event_b)} <= pairs
    ours = await events_of(db, stores)
    assert len(ours) == 4
    assert ours <= pairs, "every undelivered event of both stores is listed"
    assert len(limited) == 1
    assert too_young == []


async def test_the_backlog_leaves_out_delivered_events_and_those_tried_too_often(
    db: Database, stores: TwoStores
) -> None:
    delivered = await emit_product_event(db, stores.a.store, "delivered")
    exhausted = await emit_product_event(db, stores.a.store, "exhausted")
    pending = await emit_product_event(db, stores.a.store, "pending")
    async with db.store_transaction(stores.a.id, readonly=False) as conn:
        await conn.execute("UPDATE outbox_events SET delivered_at = now() WHERE id = $1", delivered)
        await conn.execute("UPDATE outbox_events SET attempts = 5 WHERE id = $1", exhausted)

    async with db.pool.acquire() as conn:
        rows = await conn.fetch("SELECT event_id FROM tc_outbox_backlog(make_interval(), 5, 100000)")
    listed = {row["event_id"] for row in rows}

    assert pending in listed
    assert delivered not in listed
    assert exhausted not in listed


async def test_the_worker_delivers_each_event_in_a_transaction_scoped_to_its_store(
    start_runtime: StartRuntime, tc_database: Database, own_stores: TwoStores
) -> None:
    seen: list[tuple[UUID, UUID, str, set[UUID], str]] = []

    class ScopeProbe:
        @hookimpl
        async def tc_on_product_updated(
            self, ctx: StoreContext, product: ProductChanged, plugin: PluginContext
        ) -> None:
            async with plugin.transaction() as conn:
                setting = await conn.fetchval("SELECT current_setting('app.current_store_id')")
                stores_visible = {row["store_id"] for row in await conn.fetch("SELECT store_id FROM outbox_events")}
            seen.append((ctx.id, plugin.store_id, setting, stores_visible, product.slug))

    for store in (own_stores.a, own_stores.b):
        await enable_plugin(tc_database, store.id, "scope-probe")
    runtime = await start_runtime(scope_probe=ScopeProbe())
    await emit_product_event(runtime.database, own_stores.a.store, "in-a")
    await emit_product_event(runtime.database, own_stores.b.store, "in-b")

    await run_jobs(runtime)

    a, b = own_stores.a.id, own_stores.b.id
    assert sorted(seen, key=lambda item: item[4]) == [(a, a, str(a), {a}, "in-a"), (b, b, str(b), {b}, "in-b")]
