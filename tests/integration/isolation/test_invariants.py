"""``check_invariants()`` on the live catalog: clean on a fresh database, and each way of breaking isolation caught.

Every breakage is made as the superuser inside a transaction that is rolled back (DDL, grants and roles are all
transactional in Postgres), and ``check_invariants`` runs on that same connection, so it sees the change and nothing
outlives the test. Throwaway roles are created the same way: the real, cluster-wide roles are never altered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
import pytest
import pytest_asyncio

from tenantcommerce.db.isolation import STORE_PREDICATE, Problem, check_invariants, tenant_tables
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.roles import Roles
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase


@pytest.fixture
def roles(module_postgres: TestDatabase) -> Roles:
    settings = module_postgres.settings
    return Roles(owner=settings.db_owner_role, runtime=settings.db_runtime_role)


@pytest_asyncio.fixture
async def admin(module_postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """The superuser, on the test's own database."""
    conn = await asyncpg.connect(asyncpg_dsn(module_postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


async def problems_after(conn: asyncpg.Connection, roles: Roles, *statements: str) -> list[Problem]:
    """``check_invariants`` after ``statements``, all in one transaction that is rolled back."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        for statement in statements:
            await conn.execute(statement.format(owner=roles.owner, runtime=roles.runtime))
        return await check_invariants(conn, roles)
    finally:
        await transaction.rollback()


def throwaway(prefix: str = "tc_throwaway") -> str:
    return f"{prefix}_{uuid4().hex[:12]}"


def found(problems: list[Problem], table: str | None, fragment: str) -> bool:
    return any(problem.table == table and fragment in problem.message for problem in problems)


def listing(problems: list[Problem]) -> str:
    return "\n  ".join(str(problem) for problem in problems) or "(none)"


async def test_a_freshly_migrated_database_has_no_problems(admin: asyncpg.Connection, roles: Roles) -> None:
    problems = await check_invariants(admin, roles)
    assert problems == [], listing(problems)
    # The check did look at the tenant tables (an empty catalog would also report nothing).
    assert {"products", "orders", "payments"} <= set(await tenant_tables(admin))


async def test_db_check_is_clean_on_a_fresh_database(module_postgres: TestDatabase) -> None:
    assert await Migrations(module_postgres.settings).check() == []


WIDGETS = "CREATE TABLE widgets (store_id uuid NOT NULL REFERENCES stores(id), id uuid, PRIMARY KEY (id))"
OTHER_PREDICATE = "store_id::text = current_setting('app.current_store_id', true)"


@dataclass(frozen=True)
class Breakage:
    statements: tuple[str, ...]
    expected: tuple[tuple[str | None, str], ...]
    """``(table, fragment of the message)`` of each problem that must be reported."""


BREAKAGES: dict[str, Breakage] = {
    "rls-disabled": Breakage(
        ("ALTER TABLE products DISABLE ROW LEVEL SECURITY",), (("products", "row level security is not enabled"),)
    ),
    "rls-not-forced": Breakage(
        ("ALTER TABLE orders NO FORCE ROW LEVEL SECURITY",), (("orders", "row level security is not forced"),)
    ),
    "extra-permissive-policy": Breakage(
        ("CREATE POLICY leak ON products FOR SELECT USING (true)",), (("products", "permissive policy 'leak'"),)
    ),
    "extra-permissive-policy-for-runtime": Breakage(
        ("CREATE POLICY leak ON payments FOR ALL TO {runtime} USING (true) WITH CHECK (true)",),
        (("payments", "permissive policy 'leak'"),),
    ),
    "different-predicate": Breakage(
        (
            "DROP POLICY store_isolation ON products",
            f"CREATE POLICY store_isolation ON products USING ({OTHER_PREDICATE}) WITH CHECK ({OTHER_PREDICATE})",
        ),
        (("products", "missing the store policy"),),
    ),
    "store-policy-for-select-only": Breakage(
        (
            "DROP POLICY store_isolation ON store_customers",
            f"CREATE POLICY store_isolation ON store_customers FOR SELECT USING ({STORE_PREDICATE})",
        ),
        (("store_customers", "missing the store policy"),),
    ),
    "store-policy-dropped": Breakage(
        ("DROP POLICY store_isolation ON order_items",), (("order_items", "missing the store policy"),)
    ),
    "tenant-table-without-helper": Breakage(
        ("SET LOCAL ROLE {owner}", WIDGETS, "RESET ROLE"),
        (
            ("widgets", "row level security is not enabled"),
            ("widgets", "row level security is not forced"),
            ("widgets", "missing the store policy"),
            ("widgets", "primary key is ['id']"),
            ("widgets", "no index leads with store_id"),
        ),
    ),
    "tenant-table-not-owned-by-owner": Breakage((WIDGETS,), (("widgets", "expected 'tenantcommerce_owner'"),)),
    "unique-constraint-not-led-by-store": Breakage(
        ("ALTER TABLE products ADD CONSTRAINT uq_products_slug UNIQUE (slug)",),
        (
            ("products", "unique constraint uq_products_slug does not lead with store_id"),
            ("products", "unique index on ['slug'] does not lead with store_id"),
        ),
    ),
    "unique-index-not-led-by-store": Breakage(
        ("CREATE UNIQUE INDEX ix_variants_sku ON product_variants (sku)",),
        (("product_variants", "unique index on ['sku'] does not lead with store_id"),),
    ),
    "single-column-foreign-key": Breakage(
        (
            "ALTER TABLE products ADD CONSTRAINT uq_products_id UNIQUE (id)",
            "ALTER TABLE product_variants ADD CONSTRAINT fk_variants_product FOREIGN KEY (product_id) "
            "REFERENCES products (id)",
        ),
        (("product_variants", "foreign key fk_variants_product to products is not composite on store_id"),),
    ),
    "composite-foreign-key-miswired": Breakage(
        (
            "ALTER TABLE order_items ADD CONSTRAINT fk_items_product_swapped FOREIGN KEY (product_id, store_id) "
            "REFERENCES products (store_id, id)",
        ),
        (("order_items", "foreign key fk_items_product_swapped to products is not composite on store_id"),),
    ),
    "foreign-key-without-index": Breakage(
        (
            "ALTER TABLE payments ADD COLUMN item_id uuid",
            "ALTER TABLE payments ADD CONSTRAINT fk_payments_item FOREIGN KEY (store_id, item_id) "
            "REFERENCES order_items (store_id, id)",
        ),
        (("payments", "foreign key fk_payments_item on ['store_id', 'item_id'] has no supporting index"),),
    ),
    "global-table-foreign-key-into-tenant-table": Breakage(
        (
            "ALTER TABLE users ADD COLUMN favourite_store uuid, ADD COLUMN favourite_product uuid",
            "ALTER TABLE users ADD CONSTRAINT fk_users_favourite FOREIGN KEY (favourite_store, favourite_product) "
            "REFERENCES products (store_id, id)",
        ),
        (("users", "global table has a foreign key into tenant table products"),),
    ),
    "view-without-security-invoker": Breakage(
        ("SET LOCAL ROLE {owner}", "CREATE VIEW product_names AS SELECT store_id, name FROM products", "RESET ROLE"),
        (("product_names", "view is not security_invoker = true"),),
    ),
    "security-definer-function-without-search-path": Breakage(
        (
            "CREATE FUNCTION count_products() RETURNS bigint LANGUAGE sql SECURITY DEFINER "
            "AS 'SELECT count(*) FROM products'",
        ),
        (("count_products", "SECURITY DEFINER function does not set search_path"),),
    ),
    "truncate-granted-to-runtime": Breakage(
        ("GRANT TRUNCATE ON products TO {runtime}",), (("products", "runtime role has the TRUNCATE privilege"),)
    ),
    "truncate-granted-to-public": Breakage(
        ("GRANT TRUNCATE ON orders TO PUBLIC",), (("orders", "runtime role has the TRUNCATE privilege"),)
    ),
    "references-granted-to-runtime": Breakage(
        ("GRANT REFERENCES ON stores TO {runtime}",), (("stores", "runtime role has the REFERENCE"),)
    ),
    "trigger-granted-to-runtime": Breakage(
        ("GRANT TRIGGER ON payments TO {runtime}",), (("payments", "runtime role has the TRIGGER privilege"),)
    ),
    # The owner has BYPASSRLS, so a materialized view it owns holds every store's rows, and default privileges
    # give the runtime role SELECT on it: a cross-store read with no policy in the way.
    "materialized-view-over-a-tenant-table": Breakage(
        (
            "SET LOCAL ROLE {owner}",
            "CREATE MATERIALIZED VIEW product_names AS SELECT store_id, name FROM products",
            "RESET ROLE",
        ),
        (("product_names", ""),),
    ),
}


@pytest.mark.parametrize("case", list(BREAKAGES.values()), ids=list(BREAKAGES))
async def test_each_breakage_is_reported(admin: asyncpg.Connection, roles: Roles, case: Breakage) -> None:
    before = await check_invariants(admin, roles)
    problems = await problems_after(admin, roles, *case.statements)
    for table, fragment in case.expected:
        assert not found(before, table, fragment), f"reported before the breakage: {listing(before)}"
        assert found(problems, table, fragment), f"no problem ({table}, {fragment!r}) in:\n  {listing(problems)}"


SOUND_CHANGES: dict[str, tuple[str, ...]] = {
    "tenant-table-made-like-the-helper": (
        "SET LOCAL ROLE {owner}",
        "CREATE TABLE widgets (store_id uuid NOT NULL REFERENCES stores(id), id uuid NOT NULL, "
        "PRIMARY KEY (store_id, id))",
        "ALTER TABLE widgets ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE widgets FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY store_isolation ON widgets AS PERMISSIVE FOR ALL USING ({STORE_PREDICATE}) "
        f"WITH CHECK ({STORE_PREDICATE})",
        "RESET ROLE",
    ),
    "restrictive-policy": ("CREATE POLICY only_active ON products AS RESTRICTIVE FOR SELECT USING (status <> 'x')",),
    "view-security-invoker-true": (
        "CREATE VIEW product_names WITH (security_invoker = true) AS SELECT name FROM products",
    ),
    "view-security-invoker-on": (
        "CREATE VIEW product_names WITH (security_invoker = on) AS SELECT name FROM products",
    ),
    "security-definer-function-with-search-path": (
        "CREATE FUNCTION store_ids() RETURNS SETOF uuid LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog "
        "AS 'SELECT id FROM public.stores'",
    ),
}


@pytest.mark.parametrize("statements", list(SOUND_CHANGES.values()), ids=list(SOUND_CHANGES))
async def test_sound_changes_are_not_reported(admin: asyncpg.Connection, roles: Roles, statements: tuple[str]) -> None:
    before = await check_invariants(admin, roles)
    new = [problem for problem in await problems_after(admin, roles, *statements) if problem not in before]
    assert new == [], listing(new)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ("LOGIN BYPASSRLS", "has BYPASSRLS"),
        ("LOGIN SUPERUSER", "is a superuser"),
        ("NOLOGIN", "cannot log in"),
    ],
    ids=["bypassrls", "superuser", "nologin"],
)
async def test_runtime_role_attributes_are_checked(
    admin: asyncpg.Connection, roles: Roles, attributes: str, expected: str
) -> None:
    runtime = throwaway()
    problems = await problems_after(
        admin, Roles(owner=roles.owner, runtime=runtime), f"CREATE ROLE {runtime} {attributes}"
    )
    assert found(problems, None, f"runtime role {runtime!r} {expected}"), listing(problems)
    assert await admin.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", runtime) == 0


async def test_a_runtime_role_that_can_act_as_the_owner_is_reported(admin: asyncpg.Connection, roles: Roles) -> None:
    runtime = throwaway()
    for inherit in ("INHERIT", "NOINHERIT"):
        test_roles = Roles(owner=roles.owner, runtime=runtime)
        problems = await problems_after(
            admin, test_roles, f"CREATE ROLE {runtime} LOGIN {inherit}", f"GRANT {roles.owner} TO {runtime}"
        )
        assert found(problems, None, "can act as the owner role"), f"{inherit}: {listing(problems)}"


async def test_a_runtime_role_that_owns_a_table_is_reported(admin: asyncpg.Connection, roles: Roles) -> None:
    runtime = throwaway()
    problems = await problems_after(
        admin,
        Roles(owner=roles.owner, runtime=runtime),
        f"CREATE ROLE {runtime} LOGIN",
        "CREATE TABLE scratch (id uuid PRIMARY KEY)",
        f"ALTER TABLE scratch OWNER TO {runtime}",
    )
    assert found(problems, "scratch", f"owned by the runtime role {runtime!r}"), listing(problems)


async def test_an_owner_without_bypassrls_is_reported(admin: asyncpg.Connection, roles: Roles) -> None:
    owner = throwaway()
    problems = await problems_after(admin, Roles(owner=owner, runtime=roles.runtime), f"CREATE ROLE {owner} NOLOGIN")
    assert found(problems, None, f"owner role {owner!r} lacks BYPASSRLS"), listing(problems)


async def test_a_missing_role_is_reported(admin: asyncpg.Connection, roles: Roles) -> None:
    problems = await check_invariants(admin, Roles(owner=roles.owner, runtime=throwaway("tc_missing")))
    assert found(problems, None, "role is missing: run `tenantcommerce db upgrade`"), listing(problems)


async def test_the_real_runtime_role_is_confined(
    admin: asyncpg.Connection, roles: Roles, module_postgres: TestDatabase
) -> None:
    role = await admin.fetchrow(
        "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1",
        roles.runtime,
    )
    assert role is not None
    assert role["rolcanlogin"]
    assert not role["rolsuper"]
    assert not role["rolbypassrls"]
    assert not role["rolcreaterole"]
    assert not role["rolcreatedb"]
    owned = await admin.fetch(
        """
        SELECT 'relation ' || c.relname AS what FROM pg_class c WHERE c.relowner = to_regrole($1)
        UNION ALL SELECT 'function ' || p.proname FROM pg_proc p WHERE p.proowner = to_regrole($1)
        UNION ALL SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE n.nspowner = to_regrole($1)
        UNION ALL SELECT 'type ' || t.typname FROM pg_type t WHERE t.typowner = to_regrole($1)
        """,
        roles.runtime,
    )
    assert [row["what"] for row in owned] == []
    for mode in ("MEMBER", "USAGE"):
        assert not await admin.fetchval("SELECT pg_has_role($1, $2, $3)", roles.runtime, roles.owner, mode), mode
    extra = await admin.fetch(
        """
        SELECT c.relname, p.privilege FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege)
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
          AND has_table_privilege($1, c.oid, p.privilege)
        """,
        roles.runtime,
    )
    assert [(row["relname"], row["privilege"]) for row in extra] == []
    # Logged in as the runtime role: it cannot become the owner, nor change the schema.
    runtime = await asyncpg.connect(asyncpg_dsn(module_postgres.runtime_url))
    try:
        assert await runtime.fetchval("SELECT current_user") == roles.runtime
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute(f"SET ROLE {roles.owner}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute("CREATE TABLE sneaky (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute("TRUNCATE products")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute("ALTER TABLE products NO FORCE ROW LEVEL SECURITY")
    finally:
        await runtime.close()


async def test_tables_added_later_get_the_same_narrow_grants(admin: asyncpg.Connection, roles: Roles) -> None:
    transaction = admin.transaction()
    await transaction.start()
    try:
        await admin.execute(f"SET LOCAL ROLE {roles.owner}")
        await admin.execute("CREATE TABLE later (id uuid PRIMARY KEY)")
        await admin.execute("RESET ROLE")
        granted = {
            privilege
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
            if await admin.fetchval("SELECT has_table_privilege($1, 'later', $2)", roles.runtime, privilege)
        }
    finally:
        await transaction.rollback()
    assert granted == {"SELECT", "INSERT", "UPDATE", "DELETE"}
