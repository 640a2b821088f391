"""A plugin's own Alembic branch: registered through ``tc_register_migrations``, applied and reverted beside the
core's, its tenant table isolated like the core's and invisible to the drift check.

The branch is a fixture (``sample_branch/versions``): one revision, ``depends_on = "0004"``, creating ``sample_notes``
with :func:`~tenantcommerce.db.migration_helpers.create_tenant_table`. The test database is a clone of the session's
template, which already holds the installed plugins' branches, so the migration set is the core's, the installed
plugins' and the sample's: exactly what a deployment with the sample plugin installed would run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from uuid_utils.compat import uuid7

from tenantcommerce import hookimpl
from tenantcommerce.db.admin import connect_admin
from tenantcommerce.db.database import Database
from tenantcommerce.db.isolation import tenant_tables
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing import TestDatabase

SAMPLE_VERSIONS = Path(__file__).parent / "sample_branch" / "versions"
SAMPLE_HEAD = "sample_branch_0001"
PLUGIN_ID = "sample-notes"


class SampleNotesPlugin:
    """A plugin that owns the ``sample_branch`` migrations."""

    @hookimpl
    def tc_register_migrations(self, register: Callable[[Path], None]) -> None:
        register(SAMPLE_VERSIONS)


@pytest.fixture
def host(postgres: TestDatabase) -> PluginHost:
    """The installed plugins plus the sample plugin, as a deployment that installed it would load them."""
    return PluginHost(disabled=postgres.settings.disabled_plugin_ids, plugins={PLUGIN_ID: SampleNotesPlugin()})


@pytest.fixture
def migrations(postgres: TestDatabase, host: PluginHost) -> Migrations:
    return Migrations(postgres.settings, extra_locations=host.migration_locations)


@pytest.fixture
async def admin(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """The server's superuser on the test database (inspects the catalog; never asserts isolation)."""
    conn = await connect_admin(postgres.server.url, postgres.name)
    try:
        yield conn
    finally:
        await conn.close()


async def public_tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def add_note(database: Database, store_id: UUID, slug: str, *, as_store: UUID | None = None) -> None:
    """Insert a note of ``store_id`` in a transaction of ``as_store`` (default: the same store)."""
    async with database.store_transaction(as_store or store_id, readonly=False) as conn:
        await conn.execute(
            "INSERT INTO sample_notes (store_id, id, slug, body) VALUES ($1, $2, $3, 'note')", store_id, uuid7(), slug
        )


async def note_slugs(database: Database, store_id: UUID) -> list[str]:
    async with database.store_transaction(store_id) as conn:
        return [row["slug"] for row in await conn.fetch("SELECT slug FROM sample_notes ORDER BY slug")]


def test_the_plugin_registers_its_branch(host: PluginHost) -> None:
    assert SAMPLE_VERSIONS in host.migration_locations
    assert host.info(PLUGIN_ID).has_migrations is True


async def test_upgrade_applies_the_branch_and_its_table_passes_the_isolation_invariants(
    migrations: Migrations, admin: asyncpg.Connection
) -> None:
    assert SAMPLE_HEAD in migrations.heads()
    assert "sample_notes" not in await public_tables(admin)

    versions = await migrations.upgrade()

    assert SAMPLE_HEAD in versions
    assert SAMPLE_HEAD in await migrations.current()
    assert "sample_notes" in await tenant_tables(admin), "the invariants would not even look at the table"
    assert await migrations.invariants() == []
    assert await migrations.drift() == [], "the drift check reports the plugin's table"
    assert await migrations.check() == []


async def test_the_branch_table_is_isolated_per_store_for_the_runtime_role(
    migrations: Migrations, tc_database: Database
) -> None:
    await migrations.upgrade()
    alpha = await create_store(tc_database, slug="alpha", name="Alpha", currency="EUR", owner_email="o@alpha.test")
    bravo = await create_store(tc_database, slug="bravo", name="Bravo", currency="USD", owner_email="o@bravo.test")

    await add_note(tc_database, alpha.id, "welcome")
    await add_note(tc_database, bravo.id, "welcome")  # unique per store, not across stores
    await add_note(tc_database, alpha.id, "second")

    assert await note_slugs(tc_database, alpha.id) == ["second", "welcome"]
    assert await note_slugs(tc_database, bravo.id) == ["welcome"]
    async with tc_database.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM sample_notes") == 0, "no store set must show no rows"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await add_note(tc_database, alpha.id, "planted", as_store=bravo.id)
    with pytest.raises(asyncpg.UniqueViolationError):
        await add_note(tc_database, alpha.id, "welcome")
    assert await note_slugs(tc_database, alpha.id) == ["second", "welcome"]


async def test_downgrading_the_branch_drops_its_table_leaves_the_core_and_upgrades_again(
    migrations: Migrations, admin: asyncpg.Connection
) -> None:
    before = await public_tables(admin)
    core_versions = await migrations.current()
    await migrations.upgrade()
    assert await public_tables(admin) == before | {"sample_notes"}

    versions = await migrations.downgrade("sample_branch@base")

    assert SAMPLE_HEAD not in versions
    assert sorted(versions) == sorted(core_versions)
    assert await public_tables(admin) == before
    assert await migrations.invariants() == []

    again = await migrations.upgrade()
    assert SAMPLE_HEAD in again
    assert await public_tables(admin) == before | {"sample_notes"}
    assert await migrations.check() == []


async def test_the_invariants_do_check_the_branch_table(migrations: Migrations, admin: asyncpg.Connection) -> None:
    """Without this, ``invariants() == []`` above could mean the table was never looked at."""
    await migrations.upgrade()
    await admin.execute("ALTER TABLE sample_notes NO FORCE ROW LEVEL SECURITY")

    problems = await migrations.invariants()

    assert [problem.table for problem in problems] == ["sample_notes"]
