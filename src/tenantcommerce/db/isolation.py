"""The isolation invariants, checked on the live catalog (``tenantcommerce db check`` and the test suite).

A tenant table is any table of ``public`` with a ``store_id`` column, except the global tables that only name a
store. So a table added later, by the core or a plugin, is checked with no new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

from tenantcommerce.db.models import GLOBAL_TABLES_WITH_STORE_ID
from tenantcommerce.db.roles import Roles

STORE_PREDICATE = "store_id = (SELECT nullif(current_setting('app.current_store_id', true), '')::uuid)"
"""The policy predicate of every tenant table: cast the setting (never the column), evaluated once per query."""

# How Postgres deparses STORE_PREDICATE (whitespace removed, lower-case).
_DEPARSED_PREDICATE = (
    "(store_id=(select(nullif(current_setting('app.current_store_id'::text,true),''::text))::uuidas\"nullif\"))"
)


@dataclass(frozen=True)
class Problem:
    """One broken invariant."""

    table: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.table}: {self.message}" if self.table else self.message


async def tenant_tables(conn: asyncpg.Connection, extra_global: frozenset[str] = frozenset()) -> list[str]:
    """Names of the tenant tables in ``public``, from the live catalog."""
    rows = await conn.fetch(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'store_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """
    )
    excluded = GLOBAL_TABLES_WITH_STORE_ID | extra_global
    return [row["relname"] for row in rows if row["relname"] not in excluded]


async def check_invariants(conn: asyncpg.Connection, roles: Roles) -> list[Problem]:
    """Every broken isolation invariant of the database ``conn`` is connected to."""
    problems = await _check_roles(conn, roles)
    if any(problem.message.startswith(_ROLES_MISSING) for problem in problems):
        return problems
    tables = await tenant_tables(conn)
    problems += await _check_rls(conn, tables, roles)
    problems += await _check_keys(conn, tables)
    problems += await _check_views_and_functions(conn, roles.runtime)
    return problems


_ROLES_MISSING = "the owner or runtime role is missing"


def _normalise(expression: str | None) -> str:
    return re.sub(r"\s+", "", expression or "").lower()


async def _check_rls(conn: asyncpg.Connection, tables: list[str], roles: Roles) -> list[Problem]:
    problems: list[Problem] = []
    rows = await conn.fetch(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname = ANY($1::text[])
        """,
        tables,
    )
    for row in rows:
        table = row["relname"]
        if not row["relrowsecurity"]:
            problems.append(Problem(table, "row level security is not enabled"))
        if not row["relforcerowsecurity"]:
            problems.append(Problem(table, "row level security is not forced (the owner would bypass it)"))
        if row["owner"] != roles.owner:
            problems.append(Problem(table, f"owned by {row['owner']!r}, expected {roles.owner!r}"))
    policies = await conn.fetch(
        """
        SELECT c.relname, p.polname, p.polcmd::text AS polcmd, p.polpermissive,
               pg_get_expr(p.polqual, p.polrelid) AS using_expr,
               pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname = ANY($1::text[])
        """,
        tables,
    )
    isolated = set()
    for policy in policies:
        table = policy["relname"]
        exact = (
            policy["polcmd"] == "*"
            and _normalise(policy["using_expr"]) == _DEPARSED_PREDICATE
            and _normalise(policy["check_expr"]) == _DEPARSED_PREDICATE
        )
        if exact and policy["polpermissive"]:
            isolated.add(table)
        elif policy["polpermissive"]:
            problems.append(
                Problem(table, f"permissive policy {policy['polname']!r} widens access beyond the store predicate")
            )
    for table in tables:
        if table not in isolated:
            problems.append(
                Problem(table, "missing the store policy FOR ALL with USING and WITH CHECK on " + STORE_PREDICATE)
            )
    return problems


async def _check_keys(conn: asyncpg.Connection, tables: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    constraints = await conn.fetch(
        """
        SELECT c.relname AS table, k.conname, k.contype::text AS contype, rt.relname AS ref_table,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS cols,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                     ORDER BY u.i)::text[] AS ref_cols
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_class rt ON rt.oid = k.confrelid
        WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f')
        """
    )
    indexes = await conn.fetch(
        """
        SELECT c.relname AS table, i.indisunique,
               ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY u(n, o)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n ORDER BY u.o)::text[] AS cols
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'
        """
    )
    tenant = set(tables)
    index_columns: dict[str, list[list[str]]] = {}
    for index in indexes:
        index_columns.setdefault(index["table"], []).append(list(index["cols"]))
        if index["table"] in tenant and index["indisunique"] and index["cols"] and index["cols"][0] != "store_id":
            problems.append(
                Problem(index["table"], f"unique index on {list(index['cols'])} does not lead with store_id")
            )
    for con in constraints:
        table, cols = con["table"], list(con["cols"])
        if con["contype"] == "p" and table in tenant and cols != ["store_id", "id"]:
            problems.append(Problem(table, f"primary key is {cols}, expected ['store_id', 'id']"))
        if con["contype"] == "u" and table in tenant and cols[0] != "store_id":
            problems.append(Problem(table, f"unique constraint {con['conname']} does not lead with store_id"))
        if con["contype"] != "f":
            continue
        ref_table, ref_cols = con["ref_table"], list(con["ref_cols"])
        if table not in tenant and ref_table in tenant:
            problems.append(Problem(table, f"global table has a foreign key into tenant table {ref_table}"))
        if table in tenant and ref_table in tenant:
            paired = dict(zip(cols, ref_cols, strict=True))
            if paired.get("store_id") != "store_id":
                problems.append(
                    Problem(table, f"foreign key {con['conname']} to {ref_table} is not composite on store_id")
                )
        if (
            table in tenant
            and ref_table in tenant
            and not any(sorted(candidate[: len(cols)]) == sorted(cols) for candidate in index_columns.get(table, []))
        ):
            problems.append(Problem(table, f"foreign key {con['conname']} on {cols} has no supporting index"))
    for table in tables:
        if not any(candidate and candidate[0] == "store_id" for candidate in index_columns.get(table, [])):
            problems.append(Problem(table, "no index leads with store_id"))
    return problems


async def _check_roles(conn: asyncpg.Connection, roles: Roles) -> list[Problem]:
    problems: list[Problem] = []
    found = {
        row["rolname"]: row
        for row in await conn.fetch(
            "SELECT oid, rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY($1::text[])",
            [roles.owner, roles.runtime],
        )
    }
    owner, runtime = found.get(roles.owner), found.get(roles.runtime)
    if owner is None or runtime is None:
        return [Problem(None, f"{_ROLES_MISSING}: run `tenantcommerce db upgrade`")]
    if not owner["rolbypassrls"]:
        problems.append(Problem(None, f"owner role {roles.owner!r} lacks BYPASSRLS (data migrations need it)"))
    if runtime["rolsuper"]:
        problems.append(Problem(None, f"runtime role {roles.runtime!r} is a superuser"))
    if runtime["rolbypassrls"]:
        problems.append(Problem(None, f"runtime role {roles.runtime!r} has BYPASSRLS"))
    if not runtime["rolcanlogin"]:
        problems.append(Problem(None, f"runtime role {roles.runtime!r} cannot log in"))
    if await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", roles.runtime, roles.owner):
        problems.append(Problem(None, f"runtime role {roles.runtime!r} can act as the owner role"))
    rows = await conn.fetch(
        """
        SELECT c.relname, pg_get_userbyid(c.relowner) AS owner,
               has_table_privilege($1, c.oid, 'TRUNCATE') AS can_truncate,
               has_table_privilege($1, c.oid, 'REFERENCES') AS can_reference,
               has_table_privilege($1, c.oid, 'TRIGGER') AS can_trigger
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
        """,
        roles.runtime,
    )
    for row in rows:
        if row["owner"] == roles.runtime:
            problems.append(Problem(row["relname"], f"owned by the runtime role {roles.runtime!r}"))
        for privilege, name in (("truncate", "TRUNCATE"), ("reference", "REFERENCES"), ("trigger", "TRIGGER")):
            if row[f"can_{privilege}"]:
                problems.append(Problem(row["relname"], f"runtime role has the {name} privilege"))
    return problems


async def _check_views_and_functions(conn: asyncpg.Connection, runtime: str) -> list[Problem]:
    problems: list[Problem] = []
    views = await conn.fetch(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'v'
          AND NOT EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) o
                          WHERE o.option_name = 'security_invoker'
                            AND lower(o.option_value) IN ('true', 'on', '1', 'yes'))
        """
    )
    problems += [Problem(row["relname"], "view is not security_invoker = true") for row in views]
    # A materialized view is filled by its owner (BYPASSRLS): readable by the runtime role, it leaks every store.
    matviews = await conn.fetch(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'm' AND has_table_privilege($1, c.oid, 'SELECT')
        """,
        runtime,
    )
    problems += [
        Problem(row["relname"], "materialized view is readable by the runtime role (it holds every store's rows)")
        for row in matviews
    ]
    functions = await conn.fetch(
        """
        SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prosecdef
          AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%')
        """
    )
    problems += [Problem(row["proname"], "SECURITY DEFINER function does not set search_path") for row in functions]
    return problems
