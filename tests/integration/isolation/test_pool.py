"""No store leaks across pooled connections: with one connection per pool, every request and transaction reuses it.

The HTTP tests run a host app (``create_app`` plus test-only probe routes) with ``db_pool_size=1``. Its pools live on
the client's event loop, so the probes report from inside the app: the backend pid of the pooled connection, the
store setting it carries, and how many tenant rows it can see. The direct tests do the same with a ``Database`` on
the test's own loop.

The ORM engine's pool only rolls back a returned connection, so its checks would catch a store set for the session
instead of the transaction. asyncpg's pool also runs ``RESET ALL`` on release, which would hide such a setting on
that path: there these tests guard the combined behaviour (transaction-local setting plus the pool's reset).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text

from tenantcommerce.app import create_app
from tenantcommerce.catalog.models import Product
from tenantcommerce.db.database import Database
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store, use_store
from tenantcommerce.testing import TestDatabase, TwoStores
from tenantcommerce.testing.plugin import settings_for_url

PRODUCTS_PER_STORE = 4  # three active and a draft (two_stores)
STATE_SQL = (
    "SELECT pg_backend_pid() AS pid, coalesce(current_setting('app.current_store_id', true), '') AS store, "
    "(SELECT count(*) FROM products) AS visible"
)


class ConnectionState(msgspec.Struct, frozen=True):
    """What one pooled connection carries: its backend, its store setting, the products it can see."""

    pid: int
    store: str
    visible: int


class Probe(msgspec.Struct, frozen=True):
    """The state of the asyncpg pool's connection and of the ORM engine's connection."""

    pool: ConnectionState
    engine: ConnectionState


def state(row: Any) -> ConnectionState:
    return ConnectionState(pid=row["pid"], store=row["store"], visible=row["visible"])


@get("/probe/idle")
async def idle_probe(runtime: NamedDependency[Runtime]) -> Probe:
    """Outside any store transaction: what a connection taken from each pool carries."""
    async with runtime.database.pool.acquire() as conn:
        pool = state(await conn.fetchrow(STATE_SQL))
    async with runtime.database.engine.connect() as conn:
        engine = state((await conn.execute(text(STATE_SQL))).mappings().one())
    return Probe(pool=pool, engine=engine)


@get("/api/storefront/{slug:str}/probe")
async def store_probe(runtime: NamedDependency[Runtime]) -> Probe:
    """Inside the request's store: a store transaction on the pool, and an ORM session on the engine."""
    store = current_store()
    async with runtime.database.store_transaction(store.id) as conn:
        pool = state(await conn.fetchrow(STATE_SQL))
    async with runtime.database.session() as session:
        row = (await session.execute(text(STATE_SQL))).mappings().one()
        orm_count = await session.scalar(select(func.count(Product.id)))
        assert orm_count == row["visible"]
        await session.commit()
    return Probe(pool=pool, engine=state(row))


@pytest_asyncio.fixture
async def pooled_client(postgres: TestDatabase, two_stores: TwoStores) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = settings_for_url(postgres.admin_url, db_pool_size=1)
    app = create_app(settings, route_handlers=[idle_probe, store_probe])
    async with AsyncTestClient(app, base_url=f"http://{settings.base_domain}") as client:
        yield client


async def probe(client: AsyncTestClient[Litestar], path: str) -> Probe:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return msgspec.convert(response.json(), Probe)


async def test_one_pooled_connection_serves_each_store_its_own_data(
    pooled_client: AsyncTestClient[Litestar], two_stores: TwoStores
) -> None:
    first = await probe(pooled_client, "/probe/idle")
    for store, other in ((two_stores.a, two_stores.b), (two_stores.b, two_stores.a), (two_stores.a, two_stores.b)):
        response = await pooled_client.get(f"/api/storefront/{store.slug}/products")
        assert response.status_code == 200, response.text
        slugs = {item["slug"] for item in response.json()["items"]}
        assert slugs == set(store.product_slugs)
        assert not slugs & set(other.product_slugs)
        # Inside the store's transactions, both pools' connections carry that store and see its rows only.
        inside = await probe(pooled_client, f"/api/storefront/{store.slug}/probe")
        assert inside == Probe(
            pool=ConnectionState(pid=first.pool.pid, store=str(store.id), visible=PRODUCTS_PER_STORE),
            engine=ConnectionState(pid=first.engine.pid, store=str(store.id), visible=PRODUCTS_PER_STORE),
        )
        # Back in the pools, the same connections carry no store and see nothing.
        after = await probe(pooled_client, "/probe/idle")
        assert after == Probe(
            pool=ConnectionState(pid=first.pool.pid, store="", visible=0),
            engine=ConnectionState(pid=first.engine.pid, store="", visible=0),
        )


@pytest.fixture
def one_connection_database(postgres: TestDatabase) -> Database:
    return Database(postgres.runtime_url, pool_size=1)


@pytest_asyncio.fixture
async def single(one_connection_database: Database, two_stores: TwoStores) -> AsyncIterator[Database]:
    await one_connection_database.connect()
    try:
        yield one_connection_database
    finally:
        await one_connection_database.close()


async def pool_state(database: Database) -> ConnectionState:
    async with database.pool.acquire() as conn:
        return state(await conn.fetchrow(STATE_SQL))


async def engine_state(database: Database) -> ConnectionState:
    async with database.engine.connect() as conn:
        return state((await conn.execute(text(STATE_SQL))).mappings().one())


async def test_a_store_transaction_leaves_no_store_on_its_connection(single: Database, two_stores: TwoStores) -> None:
    idle = await pool_state(single)
    assert (idle.store, idle.visible) == ("", 0)
    async with single.store_transaction(two_stores.a.id) as conn:
        assert state(await conn.fetchrow(STATE_SQL)) == ConnectionState(
            idle.pid, str(two_stores.a.id), PRODUCTS_PER_STORE
        )
    assert await pool_state(single) == idle
    # Also when the block fails: rolled back, and still nothing carried over.
    with pytest.raises(LookupError):  # noqa: PT012 (the failure must happen inside the transaction)
        async with single.store_transaction(two_stores.b.id, readonly=False) as conn:
            await conn.execute("UPDATE products SET description = 'rolled back'")
            raise LookupError
    assert await pool_state(single) == idle
    async with single.store_transaction(two_stores.b.id) as conn:
        assert await conn.fetchval("SELECT count(*) FROM products WHERE description = 'rolled back'") == 0


async def test_an_orm_session_leaves_no_store_on_its_connection(single: Database, two_stores: TwoStores) -> None:
    idle = await engine_state(single)
    assert (idle.store, idle.visible) == ("", 0)
    for store in (two_stores.a, two_stores.b):
        with use_store(store.store):
            async with single.session() as session:
                row = (await session.execute(text(STATE_SQL))).mappings().one()
                assert state(row) == ConnectionState(idle.pid, str(store.id), PRODUCTS_PER_STORE)
                await session.commit()
        assert await engine_state(single) == idle
        with use_store(store.store):
            async with single.session() as session:
                await session.execute(text(STATE_SQL))
                # Closed without commit: rolled back, still nothing carried over.
        assert await engine_state(single) == idle
