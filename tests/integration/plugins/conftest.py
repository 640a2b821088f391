"""Fixtures of the plugin system's integration tests.

Tests that only read, or write rows of stores of their own, share one migrated database per module
(``shared_postgres``) and get two fresh stores each (``stores``): store rows never leak between tests, and no test
pays for a database of its own. Tests that run the worker (which takes every job of the database) or migrate use the
kit's ``postgres`` / ``tc_settings`` / ``tc_database`` instead.

* ``db``: runtime-role connections to ``shared_postgres`` on the test's loop.
* ``stores``: stores ``a`` (EUR) and ``b`` (USD), new for each test, no products; ``own_stores``: the same in the
  test's own database (``tc_database``).
* ``plugins_with(**plugins)``: a :class:`~tenantcommerce.plugins.facade.Plugins` over a host of exactly those inline
  test plugins (no installed plugin) on ``db``; keyword names become plugin ids (underscores as dashes).
* ``start_runtime(settings=None, **plugins)``: a started :class:`~tenantcommerce.runtime.Runtime` for ``tc_settings``
  (overridden by ``settings``) on the test's own loop with those extra plugins (installed plugins load too, but no
  test store enables them); stopped after the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from uuid import uuid4

import msgspec
import pytest
import pytest_asyncio

from tenantcommerce.db.database import Database
from tenantcommerce.plugins.facade import Plugins
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.runtime import Runtime
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing import StoreFixture, TestDatabase, TestServer, TwoStores
from tenantcommerce.testing.plugin import settings_for_url
from tenantcommerce.testing.postgres import clone, drop


def plugin_ids(plugins: dict[str, object]) -> dict[str, object]:
    """Keyword names as plugin ids (``pay_later`` -> ``pay-later``)."""
    return {key.replace("_", "-"): value for key, value in plugins.items()}


async def new_stores(database: Database) -> TwoStores:
    """Stores ``a-<random>`` (EUR) and ``b-<random>`` (USD), each with an owner."""
    suffix = uuid4().hex[:10]
    made = []
    for prefix, currency in (("a", "EUR"), ("b", "USD")):
        slug = f"{prefix}-{suffix}"
        made.append(
            await create_store(
                database, slug=slug, name=slug.upper(), currency=currency, owner_email=f"owner@{slug}.test"
            )
        )
    return TwoStores(a=StoreFixture(store=made[0], product_slugs=[]), b=StoreFixture(store=made[1], product_slugs=[]))


@pytest.fixture(scope="module")
def shared_postgres(tc_postgres_server: TestServer, tc_template_database: str) -> Iterator[TestDatabase]:
    """A migrated database for one test module, dropped after it."""
    name = asyncio.run(clone(tc_postgres_server, tc_template_database))
    try:
        yield TestDatabase(
            server=tc_postgres_server, name=name, settings=settings_for_url(tc_postgres_server.database_url(name))
        )
    finally:
        asyncio.run(drop(tc_postgres_server, name))


@pytest_asyncio.fixture
async def db(shared_postgres: TestDatabase) -> AsyncIterator[Database]:
    """Runtime-role connections to the module's database."""
    database = Database(shared_postgres.runtime_url, pool_size=2)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


@pytest_asyncio.fixture
async def stores(db: Database) -> TwoStores:
    return await new_stores(db)


@pytest_asyncio.fixture
async def own_stores(tc_database: Database) -> TwoStores:
    """Two stores in the test's own database (``postgres``)."""
    return await new_stores(tc_database)


@pytest.fixture
def plugins_with(db: Database) -> Callable[..., Plugins]:
    def build(*, timeout: float = 5.0, **plugins: object) -> Plugins:
        host = PluginHost(load_entry_points=False, plugins=plugin_ids(plugins))
        return Plugins(host, db, timeout)

    return build


@pytest_asyncio.fixture
async def start_runtime(tc_settings: Settings) -> AsyncIterator[Callable[..., Awaitable[Runtime]]]:
    started: list[Runtime] = []

    async def start(settings: dict[str, Any] | None = None, **plugins: object) -> Runtime:
        runtime = Runtime(msgspec.structs.replace(tc_settings, **(settings or {})), extra_plugins=plugin_ids(plugins))
        await runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()
