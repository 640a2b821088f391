"""Sample rows for any table, read from the live catalog, so isolation tests cover tables added later.

:func:`insert_sample_row` fills ``store_id``, creates the parent rows that NOT NULL foreign keys need (in the same
store), and synthesises the other NOT NULL columns from their type, their name and their check constraints. Run it
as a role that bypasses RLS (the superuser of the test server): it arranges data, it never asserts isolation.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from uuid_utils.compat import uuid7

_ARRAY_CHOICE = re.compile(r"ARRAY\[\s*'([^']*)'")
_IN_CHOICE = re.compile(r"IN \(\s*'([^']*)'")


async def _columns(conn: asyncpg.Connection, table: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
               a.atthasdef AS has_default, a.attidentity <> '' OR a.attgenerated <> '' AS generated
        FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        table,
    )


async def _foreign_keys(conn: asyncpg.Connection, table: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT rt.relname AS ref_table,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS cols,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                     ORDER BY u.i)::text[] AS ref_cols
        FROM pg_constraint k JOIN pg_class rt ON rt.oid = k.confrelid
        WHERE k.conrelid = $1::regclass AND k.contype = 'f'
        ORDER BY array_length(k.conkey, 1) DESC
        """,
        table,
    )


async def _checks(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'c'",
        table,
    )
    return [row["definition"] for row in rows]


def _choice_from_checks(column: str, checks: list[str]) -> str | None:
    for definition in checks:
        if re.search(rf"\b{re.escape(column)}\b", definition):
            for pattern in (_ARRAY_CHOICE, _IN_CHOICE):
                match = pattern.search(definition)
                if match:
                    return match.group(1)
    return None


def _upper_bound(column: str, checks: list[str]) -> int | None:
    bounds = [
        int(match.group(1))
        for definition in checks
        for match in re.finditer(rf"\b{re.escape(column)}\b\)?\s*<=\s*\(?(\d+)", definition)
    ]
    return min(bounds) if bounds else None


def _upper_case_only(column: str, checks: list[str]) -> bool:
    return any(re.search(rf"\b{re.escape(column)}\b\)?::text\s*~\s*'\^\[A-Z", definition) for definition in checks)


def _synthesise(column: str, type_name: str, checks: list[str], currency: str | None) -> str:
    token = uuid4().hex[:10]
    choice = _choice_from_checks(column, checks)
    if choice is not None:
        return choice
    if column == "currency":
        return currency or "USD"
    if "email" in column:
        return f"sample-{token}@example.com"
    if type_name == "uuid":
        return str(uuid7())
    if type_name in (
        "integer",
        "bigint",
        "smallint",
        "numeric",
        "real",
        "double precision",
    ) or type_name.startswith("numeric"):
        # Distinct per row, so unique columns (order numbers, positions) do not collide; within a checked bound.
        bound = _upper_bound(column, checks) or (32_000 if type_name == "smallint" else 2_000_000_000)
        return str(secrets.randbelow(bound) + 1)
    if type_name == "boolean":
        return "false"
    if type_name in ("json", "jsonb"):
        return "{}"
    if type_name.startswith("timestamp"):
        return "2026-01-01T00:00:00+00:00"
    if type_name == "date":
        return "2026-01-01"
    length = re.search(r"\((\d+)\)", type_name)
    value = f"SAMPLE-{token.upper()}" if _upper_case_only(column, checks) else f"sample-{token}"
    return value[: int(length.group(1))] if length else value


async def insert_sample_row(
    conn: asyncpg.Connection, table: str, store_id: UUID | None = None, **values: Any
) -> dict[str, Any]:
    """Insert one plausible row into ``table`` (for ``store_id`` when it is a tenant table); return it.

    Keyword arguments set columns explicitly (as text, cast to the column type).
    """
    columns = await _columns(conn, table)
    names = {column["name"] for column in columns}
    currency = None
    if store_id is not None:
        currency = await conn.fetchval("SELECT currency FROM stores WHERE id = $1", store_id)
    chosen: dict[str, str | None] = {key: None if value is None else str(value) for key, value in values.items()}
    if "store_id" in names and store_id is not None:
        chosen.setdefault("store_id", str(store_id))
    if "id" in names:
        chosen.setdefault("id", str(uuid7()))
    not_null = {column["name"] for column in columns if column["not_null"]}
    for fk in await _foreign_keys(conn, table):
        cols, ref_cols, ref_table = list(fk["cols"]), list(fk["ref_cols"]), fk["ref_table"]
        missing = [col for col in cols if col not in chosen]
        if not missing or not (set(missing) & not_null):
            continue
        if ref_table == "stores" and store_id is not None:
            for col, ref_col in zip(cols, ref_cols, strict=True):
                chosen.setdefault(col, str(store_id) if ref_col == "id" else currency)
            continue
        parent = await insert_sample_row(conn, ref_table, store_id if "store_id" in ref_cols else None)
        for col, ref_col in zip(cols, ref_cols, strict=True):
            chosen.setdefault(col, None if parent[ref_col] is None else str(parent[ref_col]))
    checks = await _checks(conn, table)
    for column in columns:
        name = column["name"]
        if name in chosen or not column["not_null"] or column["has_default"] or column["generated"]:
            continue
        chosen[name] = _synthesise(name, column["type"], checks, currency)
    types = {column["name"]: column["type"] for column in columns}
    ordered = list(chosen)
    placeholders = ", ".join(f"$%d::text::{types[name]}" % (index + 1) for index, name in enumerate(ordered))
    quoted = ", ".join(f'"{name}"' for name in ordered)
    row = await conn.fetchrow(
        f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders}) RETURNING *',
        *[chosen[name] for name in ordered],
    )
    assert row is not None
    return dict(row)
