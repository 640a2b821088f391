"""The ORM layer of isolation on its own: sessions connect as the superuser, so RLS cannot hide a missing criterion.

Every assertion here holds only because the session added ``store_id = <store in context>`` (or refused to run):
the first test shows that the same connection, asked in plain SQL, sees both stores. Plain SQL (``text()``) is also
how the tests look at what a statement really did: it carries no ORM criteria and, as the superuser, sees every row.

The tests share one database and never commit a change (each session ends in a rollback), so they cannot disturb
each other even when the code under test lets a write through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Executable, delete, exists, func, insert, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantcommerce.auth.models import User
from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.db.database import Database
from tenantcommerce.errors import IsolationError
from tenantcommerce.tenancy.context import platform_scope, use_store
from tenantcommerce.tenancy.models import Store
from tenantcommerce.testing import TestDatabase, TwoStores
from tenantcommerce.testing.stores import make_two_stores

PRODUCTS_PER_STORE = 4  # three active and a draft (make_two_stores)
VARIANTS_PER_STORE = 7  # two per active product, one for the draft
SETTING_SQL = text("SELECT current_setting('app.current_store_id', true)")


async def _make_stores(postgres: TestDatabase) -> TwoStores:
    database = Database(postgres.admin_url, pool_size=1)
    await database.connect()
    try:
        return await make_two_stores(database)
    finally:
        await database.close()


@pytest.fixture(scope="module")
def module_stores(module_postgres: TestDatabase) -> TwoStores:
    return asyncio.run(_make_stores(module_postgres))


@pytest.fixture
def stores(module_stores: TwoStores) -> TwoStores:
    return module_stores


@pytest_asyncio.fixture
async def superuser_db(module_postgres: TestDatabase, module_stores: TwoStores) -> AsyncIterator[Database]:
    """A Database as the superuser: bypasses RLS, so only the ORM criteria stand between the stores."""
    database = Database(module_postgres.admin_url, pool_size=1)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


async def raw(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    """Rows of plain SQL in the session's own transaction: no ORM criteria, and as the superuser, no RLS."""
    return list((await session.execute(text(sql), params)).all())


async def test_rls_cannot_mask_the_orm_on_this_connection(superuser_db: Database, stores: TwoStores) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            # Store A is set on the connection, yet plain SQL sees both stores: RLS is bypassed here.
            assert await session.scalar(SETTING_SQL) == str(stores.a.id)
            assert await session.scalar(text("SELECT count(*) FROM products")) == 2 * PRODUCTS_PER_STORE
            assert await session.scalar(text("SELECT count(DISTINCT store_id) FROM product_variants")) == 2


async def test_each_transaction_sets_the_store_in_context(superuser_db: Database, stores: TwoStores) -> None:
    for store in (stores.a, stores.b):
        with use_store(store.store):
            async with superuser_db.session() as session:
                assert await session.scalar(SETTING_SQL) == str(store.id)
                await session.commit()  # nothing was written
                # The next transaction of the same session sets it again.
                assert await session.scalar(SETTING_SQL) == str(store.id)
    with platform_scope():
        async with superuser_db.session() as session:
            assert await session.scalar(SETTING_SQL) == ""
    async with superuser_db.session() as session:
        assert await session.scalar(SETTING_SQL) == ""


async def test_selects_see_only_the_store_in_context(superuser_db: Database, stores: TwoStores) -> None:
    # A, B, then A again: a cached statement must not keep the first store's id.
    for store, other in ((stores.a, stores.b), (stores.b, stores.a), (stores.a, stores.b)):
        with use_store(store.store):
            async with superuser_db.session() as session:
                products = (await session.scalars(select(Product))).all()
                assert {p.store_id for p in products} == {store.id}
                assert len(products) == PRODUCTS_PER_STORE
                assert set(store.product_ids) <= {p.id for p in products}
                columns = (await session.execute(select(Product.store_id, Product.slug))).all()
                assert {row.store_id for row in columns} == {store.id}
                assert len(columns) == PRODUCTS_PER_STORE
                # Asking for the other store's rows by id or by store_id finds nothing.
                assert (await session.scalars(select(Product).where(Product.id.in_(other.product_ids)))).all() == []
                assert (await session.scalars(select(Product).where(Product.store_id == other.id))).all() == []
                variants = (await session.scalars(select(ProductVariant))).all()
                assert {v.store_id for v in variants} == {store.id}
                assert len(variants) == VARIANTS_PER_STORE


async def test_joins_are_scoped_on_both_sides(superuser_db: Database, stores: TwoStores) -> None:
    pair = select(Product.store_id, ProductVariant.store_id)
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            # Joined on product_id alone: only the criteria keep store B's variants out.
            joined = (await session.execute(pair.join(ProductVariant, ProductVariant.product_id == Product.id))).all()
            assert set(joined) == {(stores.a.id, stores.a.id)}
            assert len(joined) == VARIANTS_PER_STORE
            crossed = (await session.execute(pair.join(ProductVariant, true()))).all()
            assert set(crossed) == {(stores.a.id, stores.a.id)}
            assert len(crossed) == PRODUCTS_PER_STORE * VARIANTS_PER_STORE


async def test_aggregates_count_only_the_store_in_context(superuser_db: Database, stores: TwoStores) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            assert await session.scalar(select(func.count(Product.id))) == PRODUCTS_PER_STORE
            assert await session.scalar(select(func.count()).select_from(Product)) == PRODUCTS_PER_STORE
            assert await session.scalar(select(func.count()).select_from(ProductVariant)) == VARIANTS_PER_STORE


async def test_statements_led_by_a_global_model_are_scoped_too(superuser_db: Database, stores: TwoStores) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            joined = (await session.scalars(select(Store.id).join(Product, Product.store_id == Store.id))).all()
            assert joined == [stores.a.id] * PRODUCTS_PER_STORE, "a join from stores into products sees store B"
            probe = select(Store.slug).where(
                exists().where(Product.store_id == Store.id, Product.slug == stores.b.product_slugs[0])
            )
            assert (await session.scalars(probe)).all() == [], "an EXISTS subquery tells store A about store B"


async def test_bulk_update_and_delete_touch_only_the_store_in_context(
    superuser_db: Database, stores: TwoStores
) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            updated = await session.execute(update(Product).values(description="touched"))
            assert updated.rowcount == PRODUCTS_PER_STORE
            aimed = await session.execute(
                update(Product).where(Product.id.in_(stores.b.product_ids)).values(description="aimed at B")
            )
            assert aimed.rowcount == 0
            deleted = await session.execute(delete(ProductVariant).where(ProductVariant.title == "Large"))
            assert deleted.rowcount == 3
            aimed = await session.execute(delete(ProductVariant).where(ProductVariant.store_id == stores.b.id))
            assert aimed.rowcount == 0
            touched = await raw(
                session, "SELECT store_id, count(*) FROM products WHERE description = 'touched' GROUP BY 1"
            )
            assert touched == [(stores.a.id, PRODUCTS_PER_STORE)]
            assert await raw(session, "SELECT id FROM products WHERE description = 'aimed at B'") == []
            left = dict(await raw(session, "SELECT store_id, count(*) FROM product_variants GROUP BY 1"))
            assert left == {stores.a.id: VARIANTS_PER_STORE - 3, stores.b.id: VARIANTS_PER_STORE}
            await session.rollback()


async def test_new_rows_are_stamped_with_the_store_in_context(superuser_db: Database, stores: TwoStores) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            product = Product(name="Stamped", slug="stamped")
            session.add(product)
            await session.flush()
            assert product.store_id == stores.a.id
            assert await raw(session, "SELECT store_id FROM products WHERE slug = 'stamped'") == [(stores.a.id,)]
            await session.rollback()


async def test_a_row_of_another_store_cannot_be_added(superuser_db: Database, stores: TwoStores) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            session.add(Product(store_id=stores.b.id, name="Sneaky", slug="sneaky"))
            with pytest.raises(IsolationError, match="another store"):
                await session.flush()
            await session.rollback()
            assert await raw(session, "SELECT store_id FROM products WHERE slug = 'sneaky'") == []


async def test_a_row_cannot_be_moved_to_another_store(superuser_db: Database, stores: TwoStores) -> None:
    moved_id = stores.a.product_ids[0]
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            product = await session.scalar(select(Product).where(Product.id == moved_id))
            assert product is not None
            product.store_id = stores.b.id
            with pytest.raises(IsolationError, match="another store"):
                await session.flush()
            await session.rollback()
            assert await raw(session, "SELECT store_id FROM products WHERE id = :id", id=moved_id) == [(stores.a.id,)]


async def test_an_orm_insert_statement_cannot_write_another_stores_rows(
    superuser_db: Database, stores: TwoStores
) -> None:
    with use_store(stores.a.store):
        async with superuser_db.session() as session:
            try:
                await session.execute(insert(Product).values(store_id=stores.b.id, name="Bulk", slug="bulk-sneaky"))
            except IsolationError:
                written = []
            else:
                written = await raw(session, "SELECT store_id FROM products WHERE slug = 'bulk-sneaky'")
            await session.rollback()
    assert written == [], "an ORM insert() in store A's context wrote a row of store B"


NO_STORE_STATEMENTS: dict[str, Callable[[], Executable]] = {
    "select-entity": lambda: select(Product),
    "select-columns": lambda: select(Product.id, Product.slug),
    "select-join": lambda: select(Product.id).join(ProductVariant, ProductVariant.product_id == Product.id),
    "count-column": lambda: select(func.count(ProductVariant.id)),
    "count-select-from": lambda: select(func.count()).select_from(Product),
    "global-join": lambda: select(Store.slug).join(Product, Product.store_id == Store.id),
    "update": lambda: update(Product).values(description="no store"),
    "delete": lambda: delete(ProductVariant),
    "insert": lambda: insert(Product).values(name="x", slug="no-store"),
}


async def test_statements_on_tenant_models_with_no_store_raise(superuser_db: Database, stores: TwoStores) -> None:
    ran: list[str] = []
    for name, statement in NO_STORE_STATEMENTS.items():
        async with superuser_db.session() as session:
            try:
                await session.execute(statement())
            except IsolationError as exc:
                if "no store in context" not in str(exc):
                    ran.append(f"{name}: raised an unexpected IsolationError: {exc}")
            except Exception as exc:  # e.g. the database refusing a NULL store_id: the ORM let it through
                ran.append(f"{name}: reached the database ({type(exc).__name__})")
            else:
                ran.append(f"{name}: ran")
            finally:
                await session.rollback()
    assert not ran, "ORM statements on tenant models ran with no store in context:\n  " + "\n  ".join(ran)


async def test_adding_a_tenant_row_with_no_store_raises(superuser_db: Database, stores: TwoStores) -> None:
    async with superuser_db.session() as session:
        session.add(Product(name="Orphan", slug="orphan"))
        with pytest.raises(IsolationError, match="no store in context"):
            await session.flush()
        await session.rollback()
    with platform_scope():
        async with superuser_db.session() as session:
            # Platform scope does not guess either: a tenant row needs its store named.
            session.add(Product(name="Orphan", slug="orphan"))
            with pytest.raises(IsolationError, match="no store in context"):
                await session.flush()
            await session.rollback()


async def test_platform_scope_adds_no_criterion(superuser_db: Database, stores: TwoStores) -> None:
    with platform_scope():
        async with superuser_db.session() as session:
            products = (await session.scalars(select(Product))).all()
            assert {p.store_id for p in products} == {stores.a.id, stores.b.id}
            assert len(products) == 2 * PRODUCTS_PER_STORE
            assert await session.scalar(select(func.count(ProductVariant.id))) == 2 * VARIANTS_PER_STORE
            updated = await session.execute(update(Product).values(description="operator"))
            assert updated.rowcount == 2 * PRODUCTS_PER_STORE
            # Naming the store explicitly is how platform work writes tenant rows.
            session.add(Product(store_id=stores.b.id, name="By operator", slug="by-operator"))
            await session.flush()
            assert await raw(session, "SELECT store_id FROM products WHERE slug = 'by-operator'") == [(stores.b.id,)]
            await session.rollback()


async def test_global_tables_need_no_store(superuser_db: Database, stores: TwoStores) -> None:
    async def read(session: AsyncSession) -> tuple[list[str], set[str]]:
        slugs = list((await session.scalars(select(Store.slug).order_by(Store.slug))).all())
        emails = set((await session.scalars(select(User.email))).all())
        return slugs, emails

    owners = {f"owner@{stores.a.slug}.test", f"owner@{stores.b.slug}.test"}
    async with superuser_db.session() as session:
        slugs, emails = await read(session)
        assert slugs == [stores.a.slug, stores.b.slug]
        assert owners <= emails
    with platform_scope():
        async with superuser_db.session() as session:
            assert await read(session) == (slugs, emails)
