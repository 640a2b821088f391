"""The app refuses to serve as a role that RLS would not confine, and refuses a schema older than its migrations.

Roles that must log in are created for real (roles are cluster-wide), under unique names, and dropped in ``finally``
with whatever they own. The real owner and runtime roles are never altered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import uuid4

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import URL

from tenantcommerce.db.database import Database
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.roles import Roles
from tenantcommerce.db.urls import asyncpg_dsn, with_user
from tenantcommerce.errors import DatabaseSetupError
from tenantcommerce.runtime import Runtime
from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase

MakeRole = Callable[[str], Awaitable[str]]


@pytest.fixture
def roles(module_postgres: TestDatabase) -> Roles:
    settings = module_postgres.settings
    return Roles(owner=settings.db_owner_role, runtime=settings.db_runtime_role)


@pytest_asyncio.fixture
async def admin(module_postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(module_postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def make_role(admin: asyncpg.Connection) -> AsyncIterator[MakeRole]:
    """Create throwaway login roles; each is dropped afterwards, with anything it owns in this database."""
    made: list[str] = []

    async def make(attributes: str) -> str:
        name = f"tc_throwaway_{uuid4().hex[:12]}"
        await admin.execute(f"CREATE ROLE {name} {attributes}")
        made.append(name)
        return name

    try:
        yield make
    finally:
        for name in made:
            await admin.execute(f"REASSIGN OWNED BY {name} TO current_user")
            await admin.execute(f"DROP OWNED BY {name}")
            await admin.execute(f"DROP ROLE {name}")


async def check_role(url: URL, roles: Roles) -> str:
    """``Database.check_runtime_role`` for a Database connected to ``url``."""
    database = Database(url, pool_size=1)
    await database.connect()
    try:
        return await database.check_runtime_role(roles)
    finally:
        await database.close()


def as_user(postgres: TestDatabase, user: str) -> URL:
    return with_user(postgres.admin_url, user, None)


async def test_the_real_runtime_role_is_accepted(module_postgres: TestDatabase, roles: Roles) -> None:
    assert await check_role(module_postgres.runtime_url, roles) == roles.runtime


async def test_a_superuser_is_refused(module_postgres: TestDatabase, roles: Roles) -> None:
    with pytest.raises(DatabaseSetupError, match="superuser") as refused:
        await check_role(module_postgres.admin_url, roles)
    # The message says what to do instead.
    assert f"Serve as the runtime role {roles.runtime!r}" in refused.value.detail


async def test_a_role_with_bypassrls_is_refused(
    module_postgres: TestDatabase, roles: Roles, make_role: MakeRole
) -> None:
    role = await make_role("LOGIN NOSUPERUSER BYPASSRLS")
    with pytest.raises(DatabaseSetupError, match=f"refusing to serve as role '{role}': it has BYPASSRLS"):
        await check_role(as_user(module_postgres, role), roles)


async def test_a_role_that_owns_a_table_is_refused(
    module_postgres: TestDatabase, roles: Roles, make_role: MakeRole, admin: asyncpg.Connection
) -> None:
    role = await make_role("LOGIN")
    table = f"owned_{uuid4().hex[:8]}"
    await admin.execute(f"CREATE TABLE {table} (id uuid PRIMARY KEY)")
    await admin.execute(f"ALTER TABLE {table} OWNER TO {role}")
    with pytest.raises(DatabaseSetupError, match=r"owns 1 table\(s\)"):
        await check_role(as_user(module_postgres, role), roles)


@pytest.mark.parametrize("inherit", ["INHERIT", "NOINHERIT"])
async def test_a_role_that_can_become_the_owner_is_refused(
    module_postgres: TestDatabase, roles: Roles, make_role: MakeRole, admin: asyncpg.Connection, inherit: str
) -> None:
    role = await make_role(f"LOGIN {inherit}")
    await admin.execute(f"GRANT {roles.owner} TO {role}")
    # Why it must be refused: logged in as this role, SET ROLE reaches the BYPASSRLS owner, whatever INHERIT says.
    conn = await asyncpg.connect(asyncpg_dsn(as_user(module_postgres, role)))
    try:
        await conn.execute(f"SET ROLE {roles.owner}")
        assert await conn.fetchval("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")
    finally:
        await conn.close()
    with pytest.raises(DatabaseSetupError, match=f"can act as the owner role '{roles.owner}'"):
        await check_role(as_user(module_postgres, role), roles)


def settings_with_runtime_url(postgres: TestDatabase, runtime_url: URL) -> Settings:
    return Settings.from_env(
        {},
        database_url=postgres.admin_url.render_as_string(hide_password=False),
        database_runtime_url=runtime_url.render_as_string(hide_password=False),
    )


async def test_runtime_start_refuses_a_runtime_url_of_the_superuser(module_postgres: TestDatabase) -> None:
    runtime = Runtime(settings_with_runtime_url(module_postgres, module_postgres.admin_url))
    with pytest.raises(DatabaseSetupError, match="superuser"):
        await runtime.start()
    with pytest.raises(RuntimeError, match="has not started"):
        _ = runtime.database


async def test_runtime_start_accepts_the_runtime_role(module_postgres: TestDatabase, roles: Roles) -> None:
    runtime = Runtime(settings_with_runtime_url(module_postgres, module_postgres.runtime_url))
    await runtime.start()
    try:
        assert runtime.role == roles.runtime
        async with runtime.database.pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == roles.runtime
    finally:
        await runtime.stop()


async def test_runtime_start_refuses_a_schema_that_is_not_current(postgres: TestDatabase) -> None:
    migrations = Migrations(postgres.settings)
    # Every table gone: at no revision at all.
    await migrations.downgrade("base")
    with pytest.raises(DatabaseSetupError, match="run `tenantcommerce db upgrade`"):
        await Runtime(postgres.settings).start()
    # Upgraded again, the same settings start (so the refusal above was about the schema).
    await migrations.upgrade()
    runtime = Runtime(postgres.settings)
    await runtime.start()
    await runtime.stop()
    # At a revision these migrations do not know.
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        await conn.execute("DELETE FROM alembic_version")
        await conn.execute("INSERT INTO alembic_version (version_num) VALUES ('ffffffffffff')")
    finally:
        await conn.close()
    with pytest.raises(DatabaseSetupError, match=r"revisions no installed package provides: \['ffffffffffff'\]"):
        await Runtime(postgres.settings).start()
