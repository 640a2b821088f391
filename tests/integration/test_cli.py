"""The ``tenantcommerce`` command on a real Postgres: db upgrade|current|check|downgrade, stores, clear errors.

The CLI calls ``asyncio.run`` itself, so these tests are plain sync tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tenantcommerce.__about__ import __version__
from tenantcommerce.cli import main
from tenantcommerce.db.admin import connect_admin, create_database, drop_database
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.urls import parse
from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase, TestServer
from tenantcommerce.testing.postgres import unique_name

SETTINGS_VARIABLES = tuple("TC_" + name.upper() for name in Settings.__struct_encode_fields__)
HEADS = Migrations(Settings.from_env({})).version_heads()
CREATE_ACME = (
    "stores",
    "create",
    "--slug",
    "acme",
    "--name",
    "Acme",
    "--owner-email",
    "o@acme.test",
    "--currency",
    "EUR",
)


def base_env(tmp_path: Path, **values: str) -> dict[str, str | None]:
    """No TC_* setting from the outer environment leaks in; ``values`` (``TC_...``) are set."""
    env: dict[str, str | None] = dict.fromkeys(name for name in os.environ if name in SETTINGS_VARIABLES)
    env["TC_DATA_DIR"] = str(tmp_path / "data")
    env.update(values)
    return env


def url_of(server: TestServer, database: str) -> str:
    return server.database_url(database).render_as_string(hide_password=False)


def invoke(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=True)


def assert_ok(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert result.exception is None
    return result.output


def assert_fails_clearly(result: Result, *fragments: str) -> str:
    """Non-zero exit with a message and no traceback (an uncaught exception would be ``result.exception``)."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), f"a traceback, not a clear message: {result.exception!r}"
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, f"{fragment!r} not in {result.output!r}"
    return result.output


async def drop_roles(server: TestServer, *roles: str) -> None:
    conn = await connect_admin(server.url)
    try:
        for role in roles:
            await conn.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await conn.close()


@pytest.fixture
def empty_env(tc_postgres_server: TestServer, tmp_path: Path) -> Iterator[dict]:
    """TC_DATABASE_URL of a fresh, empty database, and role names of this test's own (created by `db upgrade`).

    Own role names keep `db upgrade` here from racing other runs that set up the default roles on the same server.
    """
    name = unique_name("tc_cli")
    owner, runtime = unique_name("tco"), unique_name("tca")
    asyncio.run(create_database(tc_postgres_server.url, name))
    try:
        yield base_env(
            tmp_path,
            TC_DATABASE_URL=url_of(tc_postgres_server, name),
            TC_DB_OWNER_ROLE=owner,
            TC_DB_RUNTIME_ROLE=runtime,
        )
    finally:
        asyncio.run(drop_database(tc_postgres_server.url, name))
        asyncio.run(drop_roles(tc_postgres_server, runtime, owner))


@pytest.fixture
def migrated_env(postgres: TestDatabase, tmp_path: Path) -> dict:
    """TC_DATABASE_URL of a migrated database of this test's own."""
    return base_env(tmp_path, TC_DATABASE_URL=url_of(postgres.server, postgres.name))


def sql(env: dict, statement: str) -> None:
    """Run ``statement`` as the server's superuser in the database of ``env``."""
    url = parse(env["TC_DATABASE_URL"])

    async def run() -> None:
        conn = await connect_admin(url, url.database)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def store_lines(env: dict) -> dict[str, list[str]]:
    """``stores list`` as slug -> its tab-separated fields."""
    output = assert_ok(invoke(env, "stores", "list"))
    lines = [line.split("\t") for line in output.splitlines() if line.strip()]
    return {fields[0]: fields for fields in lines}


# --- db ---------------------------------------------------------------------------------------------------------------


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert __version__ in assert_ok(result)


def test_db_upgrade_then_current_prints_the_head(empty_env: dict) -> None:
    output = assert_ok(invoke(empty_env, "db", "upgrade"))
    assert repr(empty_env["TC_DB_OWNER_ROLE"]) in output
    assert repr(empty_env["TC_DB_RUNTIME_ROLE"]) in output
    assert f"Database at {', '.join(HEADS)}." in output

    assert assert_ok(invoke(empty_env, "db", "current")).strip() == ", ".join(HEADS)


def test_db_upgrade_then_stores_create_and_list(empty_env: dict) -> None:
    assert_ok(invoke(empty_env, "db", "upgrade"))
    assert "Created store acme" in assert_ok(invoke(empty_env, *CREATE_ACME))
    assert store_lines(empty_env) == {"acme": ["acme", "active", "EUR", "o@acme.test", "Acme"]}


def test_db_upgrade_twice_is_harmless_and_db_check_passes(empty_env: dict) -> None:
    assert_ok(invoke(empty_env, "db", "upgrade"))
    assert f"Database at {', '.join(HEADS)}." in assert_ok(invoke(empty_env, "db", "upgrade"))
    assert assert_ok(invoke(empty_env, "db", "current")).strip() == ", ".join(HEADS)

    result = invoke(empty_env, "db", "check")
    assert assert_ok(result).startswith("OK")
    assert "FAIL" not in result.output


def test_db_check_before_upgrade_fails_and_says_to_upgrade(
    tc_postgres_server: TestServer, tc_template_database: str, tmp_path: Path
) -> None:
    # The default roles exist (the template was migrated with them); this database was never upgraded.
    name = unique_name("tc_cli")
    asyncio.run(create_database(tc_postgres_server.url, name))
    try:
        result = invoke(base_env(tmp_path, TC_DATABASE_URL=url_of(tc_postgres_server, name)), "db", "check")
    finally:
        asyncio.run(drop_database(tc_postgres_server.url, name))
    assert result.exit_code == 1
    assert "FAIL" in result.stderr
    assert "tenantcommerce db upgrade" in result.stderr
    assert "OK" not in result.stdout


def test_db_check_names_a_broken_invariant(migrated_env: dict) -> None:
    assert_ok(invoke(migrated_env, "db", "check"))
    sql(migrated_env, "ALTER TABLE products NO FORCE ROW LEVEL SECURITY")

    result = invoke(migrated_env, "db", "check")
    assert result.exit_code == 1
    assert "FAIL products: row level security is not forced" in result.stderr


def test_db_check_names_drift(migrated_env: dict) -> None:
    sql(migrated_env, "ALTER TABLE products ADD COLUMN extra int")
    result = invoke(migrated_env, "db", "check")
    assert result.exit_code == 1
    assert "model drift" in result.stderr
    assert "extra" in result.stderr


def test_db_downgrade_base_then_current_says_base(empty_env: dict) -> None:
    assert_ok(invoke(empty_env, "db", "upgrade"))
    assert assert_ok(invoke(empty_env, "db", "current")).strip() == ", ".join(HEADS)

    assert "Database at base." in assert_ok(invoke(empty_env, "db", "downgrade", "base"))
    assert assert_ok(invoke(empty_env, "db", "current")).strip().startswith("base")

    # and back up again
    assert_ok(invoke(empty_env, "db", "upgrade"))
    assert assert_ok(invoke(empty_env, "db", "check")).startswith("OK")


def test_db_downgrade_needs_a_revision(migrated_env: dict) -> None:
    result = invoke(migrated_env, "db", "downgrade")
    assert result.exit_code == 2
    assert "REVISION" in result.output


def test_db_downgrade_to_an_unknown_revision_fails_clearly(migrated_env: dict) -> None:
    assert_fails_clearly(invoke(migrated_env, "db", "downgrade", "nosuchrevision"), "nosuchrevision")
    assert assert_ok(invoke(migrated_env, "db", "current")).strip() == ", ".join(HEADS)


# --- stores -----------------------------------------------------------------------------------------------------------


def test_stores_create_and_list(migrated_env: dict) -> None:
    assert store_lines(migrated_env) == {}

    output = assert_ok(invoke(migrated_env, *CREATE_ACME))
    assert "Created store acme" in output

    assert store_lines(migrated_env) == {"acme": ["acme", "active", "EUR", "o@acme.test", "Acme"]}


def test_stores_create_normalises_currency_and_email(migrated_env: dict) -> None:
    assert_ok(
        invoke(
            migrated_env,
            *("stores", "create", "--slug", "bolt", "--name", " Bolt Shop ", "--owner-email", "Owner@Bolt.Test"),
            *("--currency", "usd"),
        )
    )
    assert store_lines(migrated_env)["bolt"] == ["bolt", "active", "USD", "owner@bolt.test", "Bolt Shop"]


def test_stores_create_defaults_to_usd(migrated_env: dict) -> None:
    assert_ok(invoke(migrated_env, "stores", "create", "--slug", "cove", "--name", "Cove", "--owner-email", "c@c.test"))
    assert store_lines(migrated_env)["cove"][2] == "USD"


def test_creating_the_same_store_twice_fails_clearly(migrated_env: dict) -> None:
    assert_ok(invoke(migrated_env, *CREATE_ACME))

    result = invoke(migrated_env, *CREATE_ACME)
    assert result.exit_code == 1
    assert_fails_clearly(result, "acme", "taken")
    assert list(store_lines(migrated_env)) == ["acme"]


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--slug", "A!", "slug"),
        ("--slug", "www", "slug"),
        ("--slug", "ab", "slug"),
        ("--currency", "EURO", "currency"),
        ("--owner-email", "not-an-email", "owner_email"),
        ("--name", "   ", "name"),
    ],
)
def test_stores_create_with_bad_input_fails_naming_the_field(
    migrated_env: dict, option: str, value: str, field: str
) -> None:
    values = {"--slug": "acme", "--name": "Acme", "--owner-email": "o@acme.test", "--currency": "EUR", option: value}
    args = [item for pair in values.items() for item in pair]
    result = invoke(migrated_env, "stores", "create", *args)
    assert result.exit_code == 1
    assert_fails_clearly(result, field)
    assert store_lines(migrated_env) == {}, "nothing is written on bad input"


def test_stores_create_with_a_trailing_newline_in_the_slug_fails_clearly(migrated_env: dict) -> None:
    result = invoke(migrated_env, "stores", "create", "--slug", "acme\n", "--name", "Acme", "--owner-email", "o@a.test")
    assert_fails_clearly(result, "slug")


def test_stores_suspend_and_activate(migrated_env: dict) -> None:
    assert_ok(invoke(migrated_env, *CREATE_ACME))

    assert "Suspended acme." in assert_ok(invoke(migrated_env, "stores", "suspend", "acme"))
    assert store_lines(migrated_env)["acme"][1] == "suspended"

    assert "Activated acme." in assert_ok(invoke(migrated_env, "stores", "activate", "acme"))
    assert store_lines(migrated_env)["acme"][1] == "active"


def test_suspending_an_unknown_store_fails_clearly(migrated_env: dict) -> None:
    result = invoke(migrated_env, "stores", "suspend", "nope")
    assert result.exit_code == 1
    assert_fails_clearly(result, "nope")


def test_stores_before_upgrade_say_to_upgrade(
    tc_postgres_server: TestServer, tc_template_database: str, tmp_path: Path
) -> None:
    name = unique_name("tc_cli")
    asyncio.run(create_database(tc_postgres_server.url, name))
    try:
        result = invoke(base_env(tmp_path, TC_DATABASE_URL=url_of(tc_postgres_server, name)), "stores", "list")
    finally:
        asyncio.run(drop_database(tc_postgres_server.url, name))
    assert_fails_clearly(result, "tenantcommerce db upgrade")


# --- configuration errors ---------------------------------------------------------------------------------------------

COMMANDS = [
    ("db", "upgrade"),
    ("db", "current"),
    ("db", "check"),
    ("db", "downgrade", "base"),
    ("stores", "list"),
    ("stores", "suspend", "acme"),
    CREATE_ACME,
    ("serve",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_missing_database_url_is_a_clear_error(command: tuple[str, ...], tmp_path: Path) -> None:
    result = invoke(base_env(tmp_path), *command)
    assert result.exit_code == 1
    assert_fails_clearly(result, "TC_DATABASE_URL")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_empty_database_url_counts_as_missing(command: tuple[str, ...], tmp_path: Path) -> None:
    assert_fails_clearly(invoke(base_env(tmp_path, TC_DATABASE_URL=""), *command), "TC_DATABASE_URL is required")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_mysql_database_url_is_a_clear_error(command: tuple[str, ...], tmp_path: Path) -> None:
    result = invoke(base_env(tmp_path, TC_DATABASE_URL="mysql://x"), *command)
    assert_fails_clearly(result, "TC_DATABASE_URL", "postgresql://")


def test_a_bad_setting_names_its_variable(tmp_path: Path) -> None:
    result = invoke(base_env(tmp_path, TC_DATABASE_URL="postgresql://u@h/db", TC_DB_POOL_SIZE="lots"), "stores", "list")
    assert_fails_clearly(result, "TC_DB_POOL_SIZE")


@pytest.mark.parametrize("command", [("db", "current"), ("db", "upgrade"), ("stores", "list")], ids=" ".join)
def test_an_unreachable_server_is_a_clear_error(command: tuple[str, ...], tmp_path: Path) -> None:
    # Port 9 on the loopback: nothing listens there.
    result = invoke(base_env(tmp_path, TC_DATABASE_URL="postgresql://postgres@127.0.0.1:9/shop"), *command)
    assert_fails_clearly(result, "127.0.0.1")


def test_a_missing_database_is_a_clear_error(tc_postgres_server: TestServer, tmp_path: Path) -> None:
    missing = unique_name("tc_missing")
    result = invoke(base_env(tmp_path, TC_DATABASE_URL=url_of(tc_postgres_server, missing)), "db", "current")
    assert_fails_clearly(result, missing)


def test_db_current_on_a_server_never_upgraded_says_base(tc_postgres_server: TestServer, tmp_path: Path) -> None:
    # A new deployment with its own role names asks `db current` before its first `db upgrade`.
    name = unique_name("tc_cli")
    owner, runtime = unique_name("tco"), unique_name("tca")
    asyncio.run(create_database(tc_postgres_server.url, name))
    try:
        env = base_env(
            tmp_path,
            TC_DATABASE_URL=url_of(tc_postgres_server, name),
            TC_DB_OWNER_ROLE=owner,
            TC_DB_RUNTIME_ROLE=runtime,
        )
        assert assert_ok(invoke(env, "db", "current")).startswith("base")
    finally:
        asyncio.run(drop_database(tc_postgres_server.url, name))
