"""Row Level Security on its own: raw SQL through asyncpg as the runtime role, no ORM, no app code.

The tenant tables come from the live catalog (``tenant_tables()``), so a table added later, by the core or by a
plugin, is covered with no new test. Every test loops over the tables and collects one line per failing table, so a
failure names each table that leaks and how.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from uuid_utils.compat import uuid7

from tenantcommerce.db.isolation import tenant_tables
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase, insert_sample_row

SETTING = "app.current_store_id"
CORE_TENANT_TABLES = {"products", "product_variants", "store_customers", "orders", "order_items", "payments"}
GLOBAL_TABLES = {"users", "stores", "store_domains", "store_members"}


def q(identifier: str) -> str:
    """A quoted identifier (names come from the catalog)."""
    return '"' + identifier.replace('"', '""') + '"'


def json_row(table: str, param: int) -> str:
    """The JSON object in ``$param`` as a row of ``table``."""
    return f"json_populate_record(NULL::{q(table)}, ${param}::json)"


def pk_matches(table: str, primary_key: list[str], param: int) -> str:
    """A condition: the row's primary key is that of the JSON row in ``$param``."""
    cols = ", ".join(q(col) for col in primary_key)
    return f"({cols}) = (SELECT {cols} FROM {json_row(table, param)})"


def affected(status: str) -> int:
    """Rows affected, from an asyncpg command status such as ``UPDATE 3``."""
    return int(status.rsplit(" ", 1)[-1])


@dataclass(frozen=True)
class TableInfo:
    name: str
    primary_key: list[str]
    insertable: list[str]
    sample: dict[UUID, dict[str, Any]]
    """Per store, the row inserted directly into this table (as JSON values, from ``row_to_json``)."""
    count: dict[UUID, int]
    """Per store, how many rows the table holds (the superuser counted them)."""

    def where_pk(self, param: int) -> str:
        """``(primary key columns) = (those of the JSON row in $param)``."""
        return pk_matches(self.name, self.primary_key, param)

    def insert_sql(self) -> str:
        """Insert the JSON row in ``$1`` (generated and identity-always columns left to the database)."""
        cols = ", ".join(q(col) for col in self.insertable)
        return f"INSERT INTO {q(self.name)} ({cols}) SELECT {cols} FROM {json_row(self.name, 1)}"

    def copy_of(self, store: UUID) -> str:
        """The sample row of ``store`` as JSON, with a new id."""
        row = dict(self.sample[store])
        if "id" in row:
            row["id"] = str(uuid7())
        return json.dumps(row)


@dataclass(frozen=True)
class World:
    a: UUID
    b: UUID
    tables: list[TableInfo]
    """Every tenant table, parents before children."""
    runtime_dsn: str


async def _tenant_foreign_keys(conn: asyncpg.Connection, tables: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT c.relname AS table_name, rt.relname AS ref_table,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS cols,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                     ORDER BY u.i)::text[] AS ref_cols
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class rt ON rt.oid = k.confrelid
        WHERE k.contype = 'f' AND c.relname = ANY($1::text[]) AND rt.relname = ANY($1::text[])
        """,
        tables,
    )


def _parents_first(tables: list[str], fks: list[asyncpg.Record]) -> list[str]:
    parents = {table: {fk["ref_table"] for fk in fks if fk["table_name"] == table} - {table} for table in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        assert ready, f"foreign key cycle among tenant tables: {sorted(set(tables) - set(ordered))}"
        ordered += ready
    return ordered


async def _arrange(conn: asyncpg.Connection) -> tuple[UUID, UUID, list[TableInfo]]:
    """As the superuser: two stores, and one sample row per store in every tenant table.

    Each row reuses the sample rows of its tenant parents (same store), rather than letting insert_sample_row
    create fresh parents: two fresh ``orders`` of one store would both get ``order_number`` 1 and collide.
    """
    stores = [
        (await insert_sample_row(conn, "stores", slug=f"rls-{tag}-{uuid7().hex[-8:]}", currency=currency))["id"]
        for tag, currency in (("a", "EUR"), ("b", "USD"))
    ]
    names = await tenant_tables(conn)
    fks = await _tenant_foreign_keys(conn, names)
    ordered = _parents_first(names, fks)
    samples: dict[str, dict[UUID, dict[str, Any]]] = {table: {} for table in ordered}
    for table in ordered:
        for store in stores:
            values: dict[str, Any] = {}
            for fk in fks:
                if fk["table_name"] == table and fk["ref_table"] != table:
                    parent = samples[fk["ref_table"]][store]
                    for col, ref_col in zip(fk["cols"], fk["ref_cols"], strict=True):
                        if col != "store_id":  # insert_sample_row sets it from ``store``
                            values.setdefault(col, parent[ref_col])
            samples[table][store] = await insert_sample_row(conn, table, store, **values)
    infos: list[TableInfo] = []
    for table in ordered:
        primary_key = await conn.fetchval(
            """
            SELECT ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY u(n, o)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n ORDER BY u.o)::text[]
            FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisprimary
            """,
            q(table),
        )
        insertable = await conn.fetchval(
            """
            SELECT array_agg(attname ORDER BY attnum)::text[] FROM pg_attribute
            WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
              AND attgenerated = '' AND attidentity <> 'a'
            """,
            q(table),
        )
        as_json: dict[UUID, dict[str, Any]] = {}
        count: dict[UUID, int] = {}
        for store in stores:
            key = json.dumps({col: str(samples[table][store][col]) for col in primary_key})
            raw = await conn.fetchval(
                f"SELECT row_to_json(t)::text FROM {q(table)} t WHERE {pk_matches(table, primary_key, 1)}", key
            )
            as_json[store] = json.loads(raw)
            count[store] = await conn.fetchval(f"SELECT count(*) FROM {q(table)} WHERE store_id = $1", store)
        infos.append(TableInfo(table, list(primary_key or []), list(insertable), as_json, count))
    return stores[0], stores[1], infos


async def _world(postgres: TestDatabase) -> World:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        a, b, tables = await _arrange(conn)
    finally:
        await conn.close()
    return World(a=a, b=b, tables=tables, runtime_dsn=asyncpg_dsn(postgres.runtime_url))


@pytest.fixture(scope="module")
def world(module_postgres: TestDatabase) -> World:
    """Arranged once for the module: every test below rolls back whatever it writes."""
    return asyncio.run(_world(module_postgres))


@pytest_asyncio.fixture
async def runtime(world: World) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection as the runtime role, exactly as the app logs in."""
    conn = await asyncpg.connect(world.runtime_dsn)
    try:
        yield conn
    finally:
        await conn.close()


@asynccontextmanager
async def in_transaction(conn: asyncpg.Connection, store: UUID | str | None) -> AsyncIterator[None]:
    """A transaction that sets the store first (as the app does) and is rolled back afterwards.

    ``store=None`` sets nothing at all; ``store=""`` sets the empty value.
    """
    transaction = conn.transaction()
    await transaction.start()
    try:
        if store is not None:
            await conn.fetchval("SELECT set_config($1, $2, true)", SETTING, str(store))
        yield
    finally:
        await transaction.rollback()


async def rls_rejects(conn: asyncpg.Connection, sql: str, *args: Any) -> str | None:
    """Run ``sql`` in a savepoint; ``None`` when row level security rejected it, else what happened instead."""
    try:
        async with conn.transaction():
            status = await conn.execute(sql, *args)
    except asyncpg.InsufficientPrivilegeError as exc:
        if "row-level security" in str(exc):
            return None
        return f"rejected, but not by row level security: {exc}"
    except asyncpg.PostgresError as exc:
        return f"failed with {type(exc).__name__} instead of a row level security error: {exc}"
    return f"was accepted ({status})"


async def attempt(conn: asyncpg.Connection, sql: str, *args: Any) -> int | str:
    """Rows affected by ``sql`` (run in a savepoint), or the error it raised."""
    try:
        async with conn.transaction():
            return affected(await conn.execute(sql, *args))
    except asyncpg.PostgresError as exc:
        return f"{type(exc).__name__}: {exc}"


def report(failures: list[str]) -> str:
    return "row level security does not isolate these tables:\n  " + "\n  ".join(failures)


async def test_tenant_tables_come_from_the_catalog_and_include_the_core_tables(world: World) -> None:
    names = {table.name for table in world.tables}
    assert names >= CORE_TENANT_TABLES, f"missing tenant tables: {sorted(CORE_TENANT_TABLES - names)}"
    assert not names & GLOBAL_TABLES, f"global tables counted as tenant tables: {sorted(names & GLOBAL_TABLES)}"
    # The arrangement really gave each store rows of its own everywhere (else the tests below prove nothing).
    empty = [t.name for t in world.tables if not (t.count[world.a] >= 1 and t.count[world.b] >= 1)]
    assert not empty, f"no sample rows in {empty}"


async def test_a_store_reads_only_its_own_rows(world: World, runtime: asyncpg.Connection) -> None:
    failures = []
    async with in_transaction(runtime, world.a):
        for table in world.tables:
            t = q(table.name)
            other = await runtime.fetchval(f"SELECT count(*) FROM {t} WHERE store_id = $1", world.b)
            by_key = await runtime.fetchval(
                f"SELECT count(*) FROM {t} WHERE {table.where_pk(1)}", json.dumps(table.sample[world.b])
            )
            stores = await runtime.fetchval(f"SELECT array_agg(DISTINCT store_id) FROM {t}")
            own = await runtime.fetchval(f"SELECT count(*) FROM {t}")
            if other or by_key:
                failures.append(f"{table.name}: store A reads {other} row(s) of store B ({by_key} by primary key)")
            if stores != [world.a]:
                failures.append(f"{table.name}: store A sees rows of stores {stores}, expected only [{world.a}]")
            if own != table.count[world.a]:
                failures.append(f"{table.name}: store A sees {own} row(s), it has {table.count[world.a]}")
    assert not failures, report(failures)


async def test_a_store_cannot_update_another_stores_rows(world: World, runtime: asyncpg.Connection) -> None:
    failures = []
    async with in_transaction(runtime, world.a):
        for table in world.tables:
            t = q(table.name)
            other = await attempt(runtime, f"UPDATE {t} SET store_id = store_id WHERE store_id = $1", world.b)
            by_key = await attempt(
                runtime,
                f"UPDATE {t} SET store_id = store_id WHERE {table.where_pk(1)}",
                json.dumps(table.sample[world.b]),
            )
            # The same statement on the store's own rows does update them: the zero above is the policy's doing.
            own = await attempt(runtime, f"UPDATE {t} SET store_id = store_id WHERE store_id = $1", world.a)
            if other or by_key:
                failures.append(f"{table.name}: UPDATE of store B's rows as store A gave {other!r}, by key {by_key!r}")
            if own != table.count[world.a]:
                failures.append(
                    f"{table.name}: UPDATE of its own {table.count[world.a]} row(s) as store A gave {own!r}"
                )
    assert not failures, report(failures)


async def test_a_store_cannot_delete_another_stores_rows(world: World, runtime: asyncpg.Connection) -> None:
    failures = []
    async with in_transaction(runtime, world.a):
        for table in reversed(world.tables):
            t = q(table.name)
            other = await attempt(runtime, f"DELETE FROM {t} WHERE store_id = $1", world.b)
            by_key = await attempt(
                runtime, f"DELETE FROM {t} WHERE {table.where_pk(1)}", json.dumps(table.sample[world.b])
            )
            if other or by_key:
                failures.append(f"{table.name}: DELETE of store B's rows as store A gave {other!r}, by key {by_key!r}")
        # Still in the same transaction, store B counts its rows: none went away.
        await runtime.fetchval("SELECT set_config($1, $2, true)", SETTING, str(world.b))
        for table in world.tables:
            left = await runtime.fetchval(f"SELECT count(*) FROM {q(table.name)} WHERE store_id = $1", world.b)
            if left != table.count[world.b]:
                failures.append(f"{table.name}: store B has {left} row(s) left of {table.count[world.b]}")
    # Children first, the same statement deletes every row of the store's own.
    async with in_transaction(runtime, world.a):
        for table in reversed(world.tables):
            own = await attempt(runtime, f"DELETE FROM {q(table.name)} WHERE store_id = $1", world.a)
            if own != table.count[world.a]:
                failures.append(
                    f"{table.name}: DELETE of its own {table.count[world.a]} row(s) as store A gave {own!r}"
                )
    assert not failures, report(failures)


async def test_a_store_cannot_insert_rows_for_another_store(world: World, runtime: asyncpg.Connection) -> None:
    failures = []
    async with in_transaction(runtime, world.a):
        for table in world.tables:
            problem = await rls_rejects(runtime, table.insert_sql(), table.copy_of(world.b))
            if problem is not None:
                failures.append(f"{table.name}: inserting a row of store B as store A {problem}")
            # A copy of the store's own row passes the policy (it may then fail a unique key, which comes later).
            own = await rls_rejects(runtime, table.insert_sql(), table.copy_of(world.a))
            if own is None:
                failures.append(f"{table.name}: store A cannot insert a row of its own either")
    assert not failures, report(failures)


async def test_a_store_cannot_move_its_rows_to_another_store(world: World, runtime: asyncpg.Connection) -> None:
    failures = []
    async with in_transaction(runtime, world.a):
        for table in world.tables:
            sample = json.dumps(table.sample[world.a])
            problem = await rls_rejects(runtime, f"UPDATE {q(table.name)} SET store_id = $2 WHERE {table.where_pk(1)}",
                                        sample, world.b)  # fmt: skip
            if problem is not None:
                failures.append(f"{table.name}: moving store A's row to store B {problem}")
    assert not failures, report(failures)


@pytest.mark.parametrize("setting", [None, ""], ids=["never-set", "set-empty"])
async def test_no_store_in_context_shows_nothing_and_rejects_every_write(
    world: World, runtime: asyncpg.Connection, setting: str | None
) -> None:
    failures = []
    async with in_transaction(runtime, setting):
        assert await runtime.fetchval("SELECT current_setting($1, true)", SETTING) in (None, "")
        for table in world.tables:
            t = q(table.name)
            visible = await runtime.fetchval(f"SELECT count(*) FROM {t}")
            updated = await attempt(runtime, f"UPDATE {t} SET store_id = store_id")
            deleted = await attempt(runtime, f"DELETE FROM {t}")
            if visible or updated or deleted:
                failures.append(
                    f"{table.name}: with no store, {visible} row(s) visible, "
                    f"UPDATE gave {updated!r}, DELETE gave {deleted!r}"
                )
            for store in (world.a, world.b):
                problem = await rls_rejects(runtime, table.insert_sql(), table.copy_of(store))
                if problem is not None:
                    failures.append(f"{table.name}: with no store, inserting a row of store {store} {problem}")
    assert not failures, report(failures)


async def test_the_store_setting_ends_with_its_transaction(world: World, runtime: asyncpg.Connection) -> None:
    products = next(table for table in world.tables if table.name == "products")
    for end in ("COMMIT", "ROLLBACK"):
        await runtime.execute("BEGIN")
        await runtime.fetchval("SELECT set_config($1, $2, true)", SETTING, str(world.a))
        assert await runtime.fetchval("SELECT current_setting($1, true)", SETTING) == str(world.a)
        assert await runtime.fetchval("SELECT count(*) FROM products") == products.count[world.a]
        await runtime.execute(end)
        # Same connection, next transaction: no store carried over, so nothing is visible.
        assert await runtime.fetchval("SELECT current_setting($1, true)", SETTING) in (None, ""), end
        assert await runtime.fetchval("SELECT count(*) FROM products") == 0, end
    # A set_config outside an explicit transaction lasts for that one statement only.
    await runtime.fetchval("SELECT set_config($1, $2, true)", SETTING, str(world.a))
    assert await runtime.fetchval("SELECT current_setting($1, true)", SETTING) in (None, "")
