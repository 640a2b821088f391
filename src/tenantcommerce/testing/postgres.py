"""Where test databases come from: a server URL, a testcontainers container, or the embedded server."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from sqlalchemy.engine import URL

from tenantcommerce.db import admin
from tenantcommerce.db.urls import parse, with_user
from tenantcommerce.settings import Settings

TEST_SERVER_VARIABLE = "TC_TEST_DATABASE_URL"


@dataclass
class TestServer:
    """A Postgres server the kit may create and drop databases on, as a superuser."""

    url: URL
    kind: str  # "url", "testcontainers" or "embedded"
    stop: Callable[[], None] = field(default=lambda: None, repr=False)

    __test__ = False  # not a test class, despite the name

    def database_url(self, name: str) -> URL:
        """This server's URL for database ``name``."""
        return self.url.set(database=name)


@dataclass(frozen=True)
class TestDatabase:
    """A migrated database of its own for one test."""

    server: TestServer
    name: str
    settings: Settings

    __test__ = False

    @property
    def admin_url(self) -> URL:
        """As the server's superuser (bypasses RLS: use it to arrange data, never to assert isolation)."""
        return self.server.database_url(self.name)

    @property
    def runtime_url(self) -> URL:
        """As the runtime role, exactly as the app connects."""
        return with_user(self.admin_url, self.settings.db_runtime_role, self.settings.database_runtime_password)


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]  # testcontainers' dependency, untyped

        docker.from_env(timeout=3).ping()
    except Exception:  # no client library, no socket, no daemon: all mean "no Docker"
        return False
    return True


def _from_testcontainers() -> TestServer:
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver=None)
    container.start()
    url = parse(container.get_connection_url(), variable="testcontainers")
    return TestServer(url=url.set(database="postgres"), kind="testcontainers", stop=container.stop)


def _from_embedded() -> TestServer:
    import platformdirs

    from tenantcommerce.db.embedded import start_embedded_server

    data_dir = Path(os.environ.get("TC_TEST_EMBEDDED_DIR") or platformdirs.user_cache_path("tenantcommerce")) / "test"
    return TestServer(url=start_embedded_server(data_dir), kind="embedded")


def find_test_server() -> TestServer:
    """``TC_TEST_DATABASE_URL``, else testcontainers when Docker answers, else the embedded server."""
    configured = os.environ.get(TEST_SERVER_VARIABLE, "").strip()
    if configured:
        return TestServer(url=parse(configured, variable=TEST_SERVER_VARIABLE), kind="url")
    if _docker_answers():
        return _from_testcontainers()
    return _from_embedded()


def unique_name(prefix: str) -> str:
    """A database name nobody else uses."""
    return f"{prefix}_{uuid4().hex[:16]}"


async def create_template(server: TestServer, settings_for: Callable[[URL], Settings]) -> str:
    """Create and migrate a template database (roles included); return its name."""
    from tenantcommerce.db.migrate import Migrations

    name = unique_name("tc_template")
    await admin.create_database(server.url, name)
    await Migrations(settings_for(server.database_url(name))).upgrade()
    return name


async def clone(server: TestServer, template: str) -> str:
    """A fresh database copied from ``template``."""
    name = unique_name("tc_test")
    await admin.create_database(server.url, name, template=template)
    return name


async def drop(server: TestServer, name: str) -> None:
    """Drop a database the kit made."""
    await admin.drop_database(server.url, name)


class ClonePool:
    """Clones of the template made ahead of the tests that take them, and dropped after them, on a thread of their
    own: copying a migrated database costs Postgres about 0.45 s, which then overlaps the previous test instead of
    adding to it. Each test still gets a database nobody used before.

    Args:
        server: the server of the run.
        template: the migrated template's name.
        ahead: how many clones wait ready.
    """

    def __init__(self, server: TestServer, template: str, ahead: int = 2) -> None:
        self._server = server
        self._template = template
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="tc-clones")
        self._ready: collections.deque[concurrent.futures.Future[str]] = collections.deque(
            self._executor.submit(self._make) for _ in range(ahead)
        )
        self._drops: list[concurrent.futures.Future[None]] = []

    def _make(self) -> str:
        return asyncio.run(clone(self._server, self._template))

    def _drop(self, name: str) -> None:
        asyncio.run(drop(self._server, name))

    def take(self) -> str:
        """A fresh clone (waits for it if it is not made yet); the next one starts at once."""
        future = self._ready.popleft()
        self._ready.append(self._executor.submit(self._make))
        return future.result()

    def give_back(self, name: str) -> None:
        """Drop ``name`` in the background (a failure surfaces at :meth:`close`)."""
        self._drops = [done for done in self._drops if not done.done() or done.exception() is not None]
        self._drops.append(self._executor.submit(self._drop, name))

    def close(self) -> None:
        """Drop the clones nobody took, wait for every drop, stop the thread; raise the first drop that failed."""
        for future in self._ready:
            if future.exception() is None:  # a clone that failed to be made has nothing to drop
                self.give_back(future.result())
        self._executor.shutdown(wait=True)
        for done in self._drops:
            done.result()
