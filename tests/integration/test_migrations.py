"""Migrations on a real Postgres: roles, ownership, idempotence, downgrades, drift, ids, and the installed wheel."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from tenantcommerce.db.admin import connect_admin, create_database, drop_database
from tenantcommerce.db.base import new_id
from tenantcommerce.db.migrate import Migrations, core_migrations_dir
from tenantcommerce.db.models import load_models
from tenantcommerce.db.roles import Roles
from tenantcommerce.db.urls import asyncpg_dsn, with_user
from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase, TestServer, TwoStores, insert_sample_row
from tenantcommerce.testing.postgres import unique_name

REPO = Path(__file__).resolve().parents[2]
MODEL_TABLES = frozenset(load_models().tables)
JOB_QUEUE_TABLES = frozenset(
    {"procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers", "procrastinate_workers"}
)
DML = ("SELECT", "INSERT", "UPDATE", "DELETE")
NOT_GRANTED = ("TRUNCATE", "REFERENCES", "TRIGGER")


# --- helpers ----------------------------------------------------------------------------------------------------------


@dataclass
class Scratch:
    """Empty databases on the test server, and role names no other test uses (so creating them is observable)."""

    server: TestServer
    roles: Roles
    databases: list[str] = field(default_factory=list)

    async def new_database(self) -> str:
        name = unique_name("tc_mig")
        await create_database(self.server.url, name)
        self.databases.append(name)
        return name

    def settings(self, database: str) -> Settings:
        return Settings.from_env(
            {},
            database_url=self.server.database_url(database).render_as_string(hide_password=False),
            db_owner_role=self.roles.owner,
            db_runtime_role=self.roles.runtime,
        )

    def migrations(self, database: str) -> Migrations:
        return Migrations(self.settings(database))

    async def connect(self, database: str) -> asyncpg.Connection:
        """As the server's superuser."""
        return await connect_admin(self.server.url, database)


@pytest.fixture
async def scratch(tc_postgres_server: TestServer) -> AsyncIterator[Scratch]:
    roles = Roles(owner=unique_name("tco"), runtime=unique_name("tca"))
    scratch = Scratch(server=tc_postgres_server, roles=roles)
    try:
        yield scratch
    finally:
        for name in scratch.databases:
            await drop_database(tc_postgres_server.url, name)
        conn = await connect_admin(tc_postgres_server.url)
        try:
            await conn.execute(f"DROP ROLE IF EXISTS {roles.runtime}")
            await conn.execute(f"DROP ROLE IF EXISTS {roles.owner}")
        finally:
            await conn.close()


async def role_rows(conn: asyncpg.Connection, roles: Roles) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT oid, rolname, rolsuper, rolcanlogin, rolbypassrls, rolcreatedb, rolcreaterole, rolinherit "
        "FROM pg_roles WHERE rolname = ANY($1::text[])",
        [roles.owner, roles.runtime],
    )
    return {row["rolname"]: row for row in rows}


async def public_tables(conn: asyncpg.Connection) -> dict[str, str]:
    """Table name -> owner, for every table in ``public``."""
    rows = await conn.fetch(
        "SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
    )
    return {row["relname"]: row["owner"] for row in rows}


async def schema_snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    """Everything a migration creates in ``public``, as comparable values."""
    return {
        "tables": await public_tables(conn),
        "columns": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT table_name, column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = 'public'"
            )
        ),
        "constraints": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
                "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public'"
            )
        ),
        "indexes": sorted(
            tuple(row)
            for row in await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        ),
        "policies": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"
            )
        ),
        "rls": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ),
        "grants": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE table_schema = 'public'"
            )
        ),
        "functions": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            )
        ),
        "triggers": sorted(
            tuple(row)
            for row in await conn.fetch(
                "SELECT event_object_table, trigger_name, event_manipulation FROM information_schema.triggers "
                "WHERE trigger_schema = 'public'"
            )
        ),
        "versions": sorted(row[0] for row in await conn.fetch("SELECT version_num FROM alembic_version")),
    }


async def assert_roles_are_right(conn: asyncpg.Connection, roles: Roles) -> dict[str, asyncpg.Record]:
    found = await role_rows(conn, roles)
    assert set(found) == {roles.owner, roles.runtime}
    owner, runtime = found[roles.owner], found[roles.runtime]
    assert not owner["rolcanlogin"], "the owner role must be NOLOGIN"
    assert owner["rolbypassrls"], "the owner role must have BYPASSRLS (data migrations see every row)"
    assert not owner["rolsuper"]
    assert runtime["rolcanlogin"], "the runtime role must be able to log in"
    assert not runtime["rolsuper"], "the runtime role must be NOSUPERUSER"
    assert not runtime["rolbypassrls"], "the runtime role must be NOBYPASSRLS"
    assert not runtime["rolcreatedb"]
    assert not runtime["rolcreaterole"]
    assert not await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", roles.runtime, roles.owner)
    return found


async def assert_schema_is_owned_and_granted(conn: asyncpg.Connection, roles: Roles) -> None:
    tables = await public_tables(conn)
    # The core's tables, the job queue's, and any installed plugin's (their own Alembic branches).
    assert MODEL_TABLES | JOB_QUEUE_TABLES | {"alembic_version"} <= set(tables)
    assert {table: owner for table, owner in tables.items() if owner != roles.owner} == {}

    functions = await conn.fetch(
        "SELECT p.proname, pg_get_userbyid(p.proowner) AS owner FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
    )
    assert functions, "the migration creates functions in public"
    assert {row["proname"]: row["owner"] for row in functions if row["owner"] != roles.owner} == {}

    for table in MODEL_TABLES:
        for privilege in DML:
            assert await conn.fetchval("SELECT has_table_privilege($1, $2, $3)", roles.runtime, table, privilege), (
                f"runtime role lacks {privilege} on {table}"
            )
        for privilege in NOT_GRANTED:
            assert not await conn.fetchval("SELECT has_table_privilege($1, $2, $3)", roles.runtime, table, privilege), (
                f"runtime role has {privilege} on {table}"
            )
    assert await conn.fetchval("SELECT has_table_privilege($1, 'alembic_version', 'SELECT')", roles.runtime)
    for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
        assert not await conn.fetchval(
            "SELECT has_table_privilege($1, 'alembic_version', $2)", roles.runtime, privilege
        ), f"runtime role may {privilege} alembic_version"


# --- upgrade on empty databases ---------------------------------------------------------------------------------------


def test_core_migrations_are_found_in_the_source_tree() -> None:
    found = core_migrations_dir()
    assert found == REPO / "migrations"
    assert (found / "env.py").is_file()
    assert sorted((found / "versions").glob("*.py"))


async def test_upgrade_on_an_empty_database_creates_the_roles_and_owns_every_table(scratch: Scratch) -> None:
    database = await scratch.new_database()
    conn = await scratch.connect(database)
    try:
        assert await role_rows(conn, scratch.roles) == {}, "the roles of this test must not exist yet"
        assert await public_tables(conn) == {}

        migrations = scratch.migrations(database)
        heads = migrations.version_heads()
        assert heads
        assert await migrations.upgrade() == heads

        await assert_roles_are_right(conn, scratch.roles)
        await assert_schema_is_owned_and_granted(conn, scratch.roles)
        assert await migrations.current() == heads
        assert await migrations.check() == []
    finally:
        await conn.close()


async def test_upgrade_twice_is_idempotent(scratch: Scratch) -> None:
    database = await scratch.new_database()
    migrations = scratch.migrations(database)
    heads = await migrations.upgrade()
    conn = await scratch.connect(database)
    try:
        roles_before = await role_rows(conn, scratch.roles)
        before = await schema_snapshot(conn)

        assert await migrations.upgrade() == heads

        assert await role_rows(conn, scratch.roles) == roles_before
        assert await schema_snapshot(conn) == before
        assert before["versions"] == heads
        assert await migrations.check() == []
    finally:
        await conn.close()


async def test_a_second_database_on_the_same_server_reuses_the_roles(scratch: Scratch) -> None:
    first, second = await scratch.new_database(), await scratch.new_database()
    heads = await scratch.migrations(first).upgrade()
    conn = await scratch.connect(first)
    try:
        roles_after_first = await assert_roles_are_right(conn, scratch.roles)
    finally:
        await conn.close()

    assert await scratch.migrations(second).upgrade() == heads

    conn = await scratch.connect(second)
    try:
        roles_after_second = await assert_roles_are_right(conn, scratch.roles)
        # the same roles (same oids), not dropped and created again
        assert {name: row["oid"] for name, row in roles_after_second.items()} == {
            name: row["oid"] for name, row in roles_after_first.items()
        }
        await assert_schema_is_owned_and_granted(conn, scratch.roles)
    finally:
        await conn.close()
    assert await scratch.migrations(first).check() == []
    assert await scratch.migrations(second).check() == []

    # the runtime role can log in to the second database and use it (RLS shows it nothing without a store)
    runtime_url = with_user(scratch.server.database_url(second), scratch.roles.runtime, None)
    runtime = await asyncpg.connect(asyncpg_dsn(runtime_url))
    try:
        assert await runtime.fetchval("SELECT current_user") == scratch.roles.runtime
        assert await runtime.fetchval("SELECT count(*) FROM products") == 0
        assert await runtime.fetchval("SELECT count(*) FROM stores") == 0
    finally:
        await runtime.close()


async def test_concurrent_upgrades_of_databases_on_one_server(scratch: Scratch) -> None:
    # Several deployments (or test runs) migrate their own databases on one server at the same time, each in its own
    # process; the roles are shared, so their set-up must not make one of them fail.
    first = await scratch.new_database()
    heads = await scratch.migrations(first).upgrade()
    others = [await scratch.new_database() for _ in range(3)]

    async def upgrade_in_a_process(name: str) -> tuple[int, str]:
        env = {
            **os.environ,
            "TC_DATABASE_URL": scratch.server.database_url(name).render_as_string(hide_password=False),
            "TC_DB_OWNER_ROLE": scratch.roles.owner,
            "TC_DB_RUNTIME_ROLE": scratch.roles.runtime,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from tenantcommerce.cli import main; main()", "db", "upgrade",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
        return process.returncode or 0, output.decode()

    results = await asyncio.gather(*(upgrade_in_a_process(name) for name in others))

    assert all(code == 0 for code, _ in results), results
    for name in others:
        assert await scratch.migrations(name).current() == heads
        assert await scratch.migrations(name).check() == []


async def test_upgrade_repairs_role_attributes_and_check_reports_them(scratch: Scratch) -> None:
    database = await scratch.new_database()
    migrations = scratch.migrations(database)
    await migrations.upgrade()
    conn = await scratch.connect(database)
    try:
        await conn.execute(f"ALTER ROLE {scratch.roles.runtime} BYPASSRLS")
        await conn.execute(f"ALTER ROLE {scratch.roles.owner} NOBYPASSRLS")

        problems = await migrations.check()
        assert any("BYPASSRLS" in problem and scratch.roles.runtime in problem for problem in problems), problems
        assert any("BYPASSRLS" in problem and scratch.roles.owner in problem for problem in problems), problems

        await migrations.upgrade()
        await assert_roles_are_right(conn, scratch.roles)
        assert await migrations.check() == []
    finally:
        await conn.close()


async def test_an_empty_database_is_at_base_and_check_says_to_upgrade(
    tc_postgres_server: TestServer, tc_template_database: str
) -> None:
    # The default roles exist (the template was migrated with them); this database was never upgraded.
    name = unique_name("tc_mig")
    await create_database(tc_postgres_server.url, name)
    try:
        migrations = Migrations(
            Settings.from_env({}, database_url=tc_postgres_server.database_url(name).render_as_string(False))
        )
        assert await migrations.current() == []
        problems = await migrations.check()
        assert any("tenantcommerce db upgrade" in problem for problem in problems), problems
        assert any(problem.startswith("model drift") for problem in problems), problems
    finally:
        await drop_database(tc_postgres_server.url, name)


async def test_current_on_a_server_never_upgraded_is_base(scratch: Scratch) -> None:
    # A new deployment asks `db current` before its first `db upgrade`: the roles do not exist yet.
    database = await scratch.new_database()
    assert await scratch.migrations(database).current() == []


async def test_check_on_a_server_never_upgraded_says_to_upgrade(scratch: Scratch) -> None:
    database = await scratch.new_database()
    problems = await scratch.migrations(database).check()
    assert problems
    assert any("tenantcommerce db upgrade" in problem for problem in problems), problems


# --- downgrades -------------------------------------------------------------------------------------------------------


async def fill_every_table(conn: asyncpg.Connection) -> dict[str, int]:
    """A sample row in every table of the models (and the parents they need); return the row counts.

    Each table gets a store of its own: the kit synthesises the same values (order_number 1) for every row, so two
    orders in one store would collide on ``(store_id, order_number)``.
    """
    for table in sorted(MODEL_TABLES):
        store = await insert_sample_row(conn, "stores", currency="EUR")
        if table == "stores":
            continue
        has_store_id = await conn.fetchval(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'store_id'", table
        )
        await insert_sample_row(conn, table, store["id"] if has_store_id else None)
    return {table: await conn.fetchval(f'SELECT count(*) FROM "{table}"') for table in MODEL_TABLES}


async def test_insert_sample_row_makes_a_store_on_its_own(postgres: TestDatabase) -> None:
    # The test kit promises a plausible row for any table; stores.currency is only constrained by a regex.
    conn = await connect_admin(postgres.admin_url, postgres.name)
    try:
        store = await insert_sample_row(conn, "stores")
        assert len(store["currency"]) == 3
        assert store["currency"].isupper()
    finally:
        await conn.close()


async def test_downgrade_to_base_and_upgrade_again_on_a_database_with_data(scratch: Scratch) -> None:
    database = await scratch.new_database()
    migrations = scratch.migrations(database)
    heads = await migrations.upgrade()
    conn = await scratch.connect(database)
    try:
        counts = await fill_every_table(conn)
        assert all(count > 0 for count in counts.values()), counts
        assert await migrations.current() == heads

        assert await migrations.downgrade("base") == []
        assert await migrations.current() == []

        assert set(await public_tables(conn)) <= {"alembic_version"}, "base leaves no table of the models"
        assert await conn.fetchval("SELECT count(*) FROM pg_policies WHERE schemaname = 'public'") == 0
        functions = await conn.fetchval(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        )
        assert functions == 0
        # roles are cluster-wide: no downgrade drops them
        await assert_roles_are_right(conn, scratch.roles)

        assert await migrations.upgrade() == heads
        assert await migrations.current() == heads
        await assert_schema_is_owned_and_granted(conn, scratch.roles)
        assert await migrations.check() == []
    finally:
        await conn.close()


async def test_every_revision_downgrades_one_step_at_a_time(scratch: Scratch) -> None:
    database = await scratch.new_database()
    migrations = scratch.migrations(database)
    revisions = list(ScriptDirectory.from_config(migrations.config()).walk_revisions())
    assert revisions
    await migrations.upgrade()
    conn = await scratch.connect(database)
    try:
        await fill_every_table(conn)
    finally:
        await conn.close()

    seen = [await migrations.current()]
    for _ in revisions:
        seen.append(await migrations.downgrade("-1"))
    assert seen[0] == migrations.version_heads()
    assert seen[-1] == []
    assert len({tuple(step) for step in seen}) == len(revisions) + 1, f"every step changes the version: {seen}"

    assert await migrations.upgrade() == migrations.version_heads()
    assert await migrations.check() == []


# --- drift and invariants ---------------------------------------------------------------------------------------------


async def alter(postgres: TestDatabase, *statements: str) -> None:
    conn = await connect_admin(postgres.admin_url, postgres.name)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_a_column_added_outside_migrations_is_drift(postgres: TestDatabase) -> None:
    migrations = Migrations(postgres.settings)
    assert await migrations.drift() == []
    assert await migrations.check() == []

    await alter(postgres, "ALTER TABLE products ADD COLUMN extra int")

    drift = await migrations.drift()
    assert any("products" in diff and "extra" in diff for diff in drift), drift
    problems = await migrations.check()
    assert any(problem.startswith("model drift") and "extra" in problem for problem in problems), problems


SCHEMA_CHANGES = [
    # (statement, what the drift report must name)
    ("ALTER TABLE products ALTER COLUMN name TYPE text", ("products", "name")),
    ("ALTER TABLE orders DROP COLUMN email", ("orders", "email")),
    ("ALTER TABLE stores ALTER COLUMN name DROP NOT NULL", ("stores", "name")),
    ("DROP INDEX ix_payments_store_id_order_id", ("payments", "ix_payments_store_id_order_id")),
    ("CREATE TABLE stray (id int)", ("stray",)),
]


async def test_other_schema_changes_outside_migrations_are_drift(postgres: TestDatabase) -> None:
    migrations = Migrations(postgres.settings)
    await alter(postgres, *(statement for statement, _ in SCHEMA_CHANGES))
    drift = await migrations.drift()
    for statement, names in SCHEMA_CHANGES:
        assert any(all(name in diff for name in names) for diff in drift), f"{statement!r} not reported in {drift}"
    problems = await migrations.check()
    assert len([problem for problem in problems if problem.startswith("model drift")]) >= len(SCHEMA_CHANGES)


BROKEN_INVARIANTS = [
    # (statement, a fragment of the problem check() must report)
    ("ALTER TABLE products NO FORCE ROW LEVEL SECURITY", "products: row level security is not forced"),
    ("CREATE POLICY everyone ON products FOR SELECT USING (true)", "products: permissive policy 'everyone' widens"),
    ("ALTER TABLE orders DISABLE ROW LEVEL SECURITY", "orders: row level security is not enabled"),
    ("DROP POLICY store_isolation ON payments", "payments: missing the store policy"),
    ("GRANT TRUNCATE ON order_items TO tenantcommerce_app", "order_items: runtime role has the TRUNCATE"),
    ("GRANT REFERENCES ON users TO tenantcommerce_app", "users: runtime role has the REFERENCE"),
    ("ALTER TABLE product_variants OWNER TO postgres", "product_variants: owned by 'postgres'"),
]


async def test_check_reports_broken_isolation_invariants(postgres: TestDatabase) -> None:
    migrations = Migrations(postgres.settings)
    assert await migrations.invariants() == []
    await alter(postgres, *(statement for statement, _ in BROKEN_INVARIANTS))
    problems = await migrations.check()
    for statement, fragment in BROKEN_INVARIANTS:
        assert any(fragment in problem for problem in problems), f"{statement!r} not reported in {problems}"


# --- ids --------------------------------------------------------------------------------------------------------------


def uuid7_millis(value: UUID) -> int:
    return value.int >> 80


def test_new_id_is_a_time_ordered_uuid7() -> None:
    before = int(time.time() * 1000)
    ids = [new_id() for _ in range(2000)]
    after = int(time.time() * 1000)

    assert all(isinstance(value, UUID) for value in ids)
    assert {value.version for value in ids} == {7}
    assert {value.variant for value in ids} == {"specified in RFC 4122"}
    assert len(set(ids)) == len(ids)
    assert all(before <= uuid7_millis(value) <= after for value in ids)
    assert ids == sorted(ids), "ids made one after another sort in the order they were made"

    time.sleep(0.002)
    later = new_id()
    assert later > ids[-1]
    assert uuid7_millis(later) > uuid7_millis(ids[0])


async def test_ids_made_by_the_app_are_uuid7(postgres: TestDatabase, two_stores: TwoStores) -> None:
    assert two_stores.a.id.version == 7
    assert two_stores.b.id.version == 7
    assert two_stores.a.id < two_stores.b.id, "store a was made first"
    for fixture in (two_stores.a, two_stores.b):
        assert {product_id.version for product_id in fixture.product_ids} == {7}
        assert fixture.product_ids == sorted(fixture.product_ids), "products were made in this order"

    now = int(time.time() * 1000)
    conn = await connect_admin(postgres.admin_url, postgres.name)
    try:
        for table in ("users", "stores", "store_members", "products", "product_variants"):
            ids = [row["id"] for row in await conn.fetch(f"SELECT id FROM {table}")]
            assert ids, f"two_stores wrote rows to {table}"
            assert {value.version for value in ids} == {7}, table
            assert all(now - 600_000 <= uuid7_millis(value) <= now + 1000 for value in ids), table
        # the id order agrees with the creation order
        rows = await conn.fetch("SELECT id FROM products ORDER BY created_at, id")
        assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    finally:
        await conn.close()


# --- the wheel --------------------------------------------------------------------------------------------------------


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, **kwargs)


def build_wheel(outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    if importlib.util.find_spec("build") is not None:
        command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(REPO)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(outdir), str(REPO)]
        if importlib.util.find_spec("hatchling") is not None:
            command.insert(-1, "--no-build-isolation")
    result = run(command, cwd=outdir)
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = sorted(outdir.glob("tenantcommerce-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture
def empty_database_url(tc_postgres_server: TestServer) -> Iterator[str]:
    name = unique_name("tc_wheel")
    asyncio.run(create_database(tc_postgres_server.url, name))
    try:
        yield tc_postgres_server.database_url(name).render_as_string(hide_password=False)
    finally:
        asyncio.run(drop_database(tc_postgres_server.url, name))


@pytest.mark.slow
def test_the_wheel_ships_the_migrations_and_upgrades_a_database(tmp_path: Path, empty_database_url: str) -> None:
    wheel = build_wheel(tmp_path / "dist")
    venv = tmp_path / "venv"
    result = run([sys.executable, "-m", "venv", str(venv)])
    assert result.returncode == 0, result.stderr
    python, cli = venv / "bin" / "python", venv / "bin" / "tenantcommerce"
    result = run([str(python), "-m", "pip", "install", str(wheel)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    # Nothing but PATH, HOME and TC_* (the test's own TC_* settings left out), and a working directory outside the
    # source tree: only the installed wheel can be imported.
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    env["TC_DATABASE_URL"] = empty_database_url
    env["TC_DATA_DIR"] = str(tmp_path / "data")

    probe = (
        "import json, tenantcommerce\n"
        "from tenantcommerce.db.migrate import core_migrations_dir\n"
        "print(json.dumps([tenantcommerce.__file__, str(core_migrations_dir())]))\n"
    )
    result = run([str(python), "-c", probe], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    package_file, migrations_dir = (Path(value) for value in json.loads(result.stdout))
    package = package_file.parent
    assert package.is_relative_to(venv), f"imported {package_file}, not the installed wheel"
    assert migrations_dir == package / "_migrations"
    assert (migrations_dir / "env.py").is_file()
    shipped = sorted(path.name for path in (migrations_dir / "versions").glob("*.py"))
    assert shipped == sorted(path.name for path in (REPO / "migrations" / "versions").glob("*.py"))

    upgrade = run([str(cli), "db", "upgrade"], cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert "Traceback" not in upgrade.stderr
    # The fresh venv has the core alone, without the plugin packages of this one.
    heads = Migrations(Settings.from_env({}, database_url=empty_database_url), extra_locations=[]).version_heads()
    assert f"Database at {', '.join(heads)}." in upgrade.stdout

    current = run([str(cli), "db", "current"], cwd=tmp_path, env=env)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == ", ".join(heads)

    check = run([str(cli), "db", "check"], cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("OK")
