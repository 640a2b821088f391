"""pytest plugin of the test kit (entry point ``pytest11``): fixtures only, nothing starts until one is asked for.

Fixtures:

* ``tc_postgres_server`` (session): the :class:`~tenantcommerce.testing.TestServer`.
* ``tc_template_database`` (session): one database per run, migrated with the production roles.
* ``postgres``: a fresh :class:`~tenantcommerce.testing.TestDatabase` cloned from the template, dropped afterwards.
* ``tc_settings``: :class:`~tenantcommerce.Settings` for that database.
* ``register_plugin``: registers a test plugin object in ``app`` and removes it afterwards.
* ``app``: ``create_app(tc_settings)``; ``client``: an async Litestar test client on ``http://shop.test`` (the apex
  of ``TC_BASE_DOMAIN``) with the app started; ``two_stores``: stores ``alpha`` (EUR) and ``bravo`` (USD) with products;
  ``tc_database``: runtime-role connections on the test's event loop.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from sqlalchemy.engine import URL

    from tenantcommerce.auth.mailer import RecordingMailer
    from tenantcommerce.db.database import Database
    from tenantcommerce.plugins.host import PluginInfo
    from tenantcommerce.settings import Settings
    from tenantcommerce.testing.postgres import ClonePool, TestDatabase, TestServer
    from tenantcommerce.testing.stores import TwoStores

TEST_METRICS_TOKEN = "test-metrics-token-0123456789"  # noqa: S105 (a test value)


def settings_for_url(url: URL, **overrides: Any) -> Settings:
    """Test settings for the database at ``url`` (its user migrates; the app serves as the runtime role)."""
    from tenantcommerce.settings import Settings

    values: dict[str, Any] = {
        "database_url": url.render_as_string(hide_password=False),
        "metrics_token": TEST_METRICS_TOKEN,
        "base_domain": "shop.test",
        "data_dir": str(Path(tempfile.gettempdir()) / "tenantcommerce-test"),
        # Tests sign in far more often than people do; tests of the limits set their own.
        "auth_client_limit": 10_000,
        "auth_account_limit": 10_000,
        # Failed event deliveries are retried at once, so a test can run the worker until the queue is empty.
        "event_retry_wait": 0,
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


def pytest_configure(config: pytest.Config) -> None:
    """Cheap password hashing for the run (``production_password_hashing`` restores the real cost for a test)."""
    from argon2 import profiles

    from tenantcommerce.auth.passwords import use_hash_parameters

    use_hash_parameters(profiles.CHEAPEST)


@pytest.fixture
def production_password_hashing() -> Iterator[None]:
    """Hash with :data:`tenantcommerce.auth.passwords.PRODUCTION_PARAMETERS` during the test (for timing tests)."""
    from tenantcommerce.auth.passwords import PRODUCTION_PARAMETERS, use_hash_parameters

    previous = use_hash_parameters(PRODUCTION_PARAMETERS)
    try:
        yield
    finally:
        use_hash_parameters(previous)


@pytest.fixture(scope="session")
def tc_postgres_server() -> Iterator[TestServer]:
    """The Postgres server of this test run."""
    from tenantcommerce.testing.postgres import find_test_server

    server = find_test_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tc_template_database(tc_postgres_server: TestServer) -> Iterator[str]:
    """The migrated template every test database is cloned from."""
    from tenantcommerce.testing.postgres import create_template, drop

    name = asyncio.run(create_template(tc_postgres_server, settings_for_url))
    try:
        yield name
    finally:
        asyncio.run(drop(tc_postgres_server, name))


@pytest.fixture(scope="session")
def tc_clone_pool(tc_postgres_server: TestServer, tc_template_database: str) -> Iterator[ClonePool]:
    """Template clones made ahead on a thread of their own (:class:`~tenantcommerce.testing.postgres.ClonePool`)."""
    from tenantcommerce.testing.postgres import ClonePool

    pool = ClonePool(tc_postgres_server, tc_template_database)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def postgres(tc_postgres_server: TestServer, tc_clone_pool: ClonePool) -> Iterator[TestDatabase]:
    """A database of this test's own: migrated, with the production roles, dropped afterwards."""
    from tenantcommerce.testing.postgres import TestDatabase

    name = tc_clone_pool.take()
    try:
        yield TestDatabase(
            server=tc_postgres_server,
            name=name,
            settings=settings_for_url(tc_postgres_server.database_url(name)),
        )
    finally:
        tc_clone_pool.give_back(name)


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """Settings of the app under test."""
    return postgres.settings


@pytest.fixture
def tc_mailer() -> RecordingMailer:
    """The app's mailer: it keeps every message in ``outbox`` (``tc_mailer.last(to, kind)``)."""
    from tenantcommerce.auth.mailer import RecordingMailer

    return RecordingMailer()


@pytest.fixture
def app(tc_settings: Settings, tc_mailer: RecordingMailer) -> Litestar:
    """The app under test (not started: ``client`` starts it)."""
    from tenantcommerce.app import create_app

    return create_app(tc_settings, mailer=tc_mailer)


@pytest_asyncio.fixture
async def client(app: Litestar, tc_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client of the started app, on the apex of ``TC_BASE_DOMAIN`` (a platform host)."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app, base_url=f"http://{tc_settings.base_domain}") as test_client:
        yield test_client


@pytest.fixture
def register_plugin(app: Litestar) -> Iterator[Callable[..., PluginInfo]]:
    """``register_plugin(plugin, plugin_id="test-plugin")`` registers a plugin object in ``app`` (hooks, providers
    and routes, validated like an installed plugin) and removes it after the test. Enable it for a store with
    ``tenantcommerce.testing.plugins.enable_plugin`` or the admin API."""
    from tenantcommerce.app import runtime_of
    from tenantcommerce.testing.plugins import register_into

    registered: list[str] = []

    def register(plugin: object, plugin_id: str = "test-plugin") -> PluginInfo:
        info = register_into(app, plugin, plugin_id)
        registered.append(plugin_id)
        return info

    yield register
    host = runtime_of(app).plugin_host
    for plugin_id in registered:
        if host.has_plugin(plugin_id):
            host.unregister(plugin_id)


@pytest_asyncio.fixture
async def tc_database(postgres: TestDatabase) -> AsyncIterator[Database]:
    """Connections as the runtime role, on the test's own event loop (the app's live on the client's)."""
    from tenantcommerce.db.database import Database

    database = Database(postgres.runtime_url, pool_size=2)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


@pytest_asyncio.fixture
async def two_stores(tc_database: Database) -> TwoStores:
    """Stores ``alpha`` (EUR) and ``bravo`` (USD), three active products and a draft each."""
    from tenantcommerce.testing.stores import make_two_stores

    return await make_two_stores(tc_database)
