"""Fixtures of the discount service tests: a superuser connection that arranges rows (orders, counters), and a
helper that creates discounts through the ORM as the runtime role, for a store in context."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import pytest_asyncio

from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.discounts.models import Discount
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.testing import TestDatabase

NOW = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.UTC)
"""The moment the tests use the codes at."""


@pytest_asyncio.fixture
async def admin_conn(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: arranges data and reads every store's rows; never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def add_discount(tc_database: Database) -> Callable[..., Awaitable[Discount]]:
    """``await add_discount(store, code=..., kind=..., value=..., **columns)``: a discount of ``store``, committed."""

    async def add(store: StoreContext, **columns: Any) -> Discount:
        values: dict[str, Any] = {"code": "SAVE10", "kind": "percentage", "value": 1000, **columns}
        with use_store(store):
            async with tc_database.session() as session:
                discount = Discount(**values)
                session.add(discount)
                await session.commit()
        return discount

    return add


_ORDER_NUMBERS = itertools.count(1001)


@pytest.fixture
def add_order(admin_conn: asyncpg.Connection) -> Callable[[UUID], Awaitable[UUID]]:
    """``await add_order(store_id)``: a minimal order row (inserted as the superuser); returns its id."""

    async def add(store_id: UUID) -> UUID:
        order_id = uuid4()
        await admin_conn.execute(
            "INSERT INTO orders (id, store_id, order_number, email, currency, subtotal_minor, total_minor)"
            " VALUES ($1, $2, $3, 'buyer@example.test', 'EUR', 10000, 10000)",
            order_id,
            store_id,
            next(_ORDER_NUMBERS),
        )
        return order_id

    return add
