"""The ``manual_payments`` Alembic branch (down and up again, isolation invariants) and Row Level Security on its
tables, checked with raw SQL as the runtime role."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from tenantcommerce.db.admin import connect_admin
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.plugins.providers import PaymentConfirmation, PaymentRequest, RefundRequest
from tenantcommerce.testing import TestDatabase, insert_sample_row
from uuid_utils.compat import uuid7

from tenantcommerce_manual_payments.gateways import BankTransferGateway

TABLES = ("manual_payments", "manual_refunds")
bank = BankTransferGateway()


@pytest.fixture
async def mp_admin(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """The server's superuser on the test database (reads the catalog; never asserts isolation)."""
    conn = await connect_admin(postgres.admin_url, postgres.name)
    try:
        yield conn
    finally:
        await conn.close()


async def existing(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT relname FROM pg_class WHERE relname = ANY($1::text[]) AND relkind = 'r'", TABLES)
    return {row["relname"] for row in rows}


async def versions(conn: asyncpg.Connection) -> set[str]:
    return {row["version_num"] for row in await conn.fetch("SELECT version_num FROM alembic_version")}


async def test_the_branch_downgrades_to_its_base_and_upgrades_again(
    postgres: TestDatabase, mp_admin: asyncpg.Connection
) -> None:
    migrations = Migrations(postgres.settings)
    assert "manual_payments_0001" in await versions(mp_admin)
    assert await existing(mp_admin) == set(TABLES)

    await migrations.downgrade("manual_payments@base")

    assert await existing(mp_admin) == set()
    after = await versions(mp_admin)
    assert "manual_payments_0001" not in after
    assert after, "the core and other branches stay where they were"
    assert await mp_admin.fetchval("SELECT count(*) FROM pg_policies WHERE tablename = ANY($1::text[])", TABLES) == 0

    await migrations.upgrade()

    assert await existing(mp_admin) == set(TABLES)
    assert "manual_payments_0001" in await versions(mp_admin)
    assert await migrations.invariants() == []


async def test_the_tables_pass_the_isolation_invariants(postgres: TestDatabase, mp_admin: asyncpg.Connection) -> None:
    assert await Migrations(postgres.settings).invariants() == []
    rls = await mp_admin.fetch(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1::text[])", TABLES
    )
    assert {(row["relname"], row["relrowsecurity"], row["relforcerowsecurity"]) for row in rls} == {
        (table, True, True) for table in TABLES
    }


async def test_the_database_refuses_refunds_beyond_the_amount(
    postgres: TestDatabase, mp_admin: asyncpg.Connection
) -> None:
    store = (await insert_sample_row(mp_admin, "stores", currency="EUR"))["id"]
    day = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    insert = (
        "INSERT INTO manual_payments (store_id, id, method, reference, idempotency_key, checkout_id, amount_minor, "
        "currency, status, paid_at, refunded_minor) "
        "VALUES ($1, $2, 'bank_transfer', $3, $3, $2, 100, 'EUR', $4, $5, $6)"
    )
    await mp_admin.execute(insert, store, uuid7(), "ok", "succeeded", day, 100)
    for reference, status, paid_at, refunded in [
        ("over", "succeeded", day, 101),
        ("negative", "succeeded", day, -1),
        ("unpaid-refund", "pending", None, 1),
        ("paid-without-date", "succeeded", None, 0),
        ("pending-with-date", "pending", day, 0),
    ]:
        with pytest.raises(asyncpg.CheckViolationError):
            await mp_admin.execute(insert, store, uuid7(), reference, status, paid_at, refunded)


# --- Row Level Security -----------------------------------------------------------------------------------------------


async def test_store_b_cannot_see_or_touch_store_as_payments(
    mp_store: Callable[..., Awaitable[Any]], mp_config: dict[str, Any]
) -> None:
    a = await mp_store("alpha", config=mp_config)
    b = await mp_store("bravo", config=mp_config)
    request = PaymentRequest(
        checkout_id=uuid7(), amount_minor=4_250, currency="EUR", reference="C-1", idempotency_key="k1"
    )
    payment = await bank.create_payment(a.ctx, request, a.plugin)
    confirmation = PaymentConfirmation(payment_ref=payment.payment_ref, amount_minor=4_250, currency="EUR")
    await bank.confirm(a.ctx, confirmation, a.plugin)
    refund = RefundRequest(payment_ref=payment.payment_ref, amount_minor=100, currency="EUR", idempotency_key="r1")
    await bank.refund(a.ctx, refund, a.plugin)

    for table in TABLES:
        assert len(await a.fetch(f"SELECT * FROM {table}")) == 1, f"store a sees its own {table}"
        assert await b.fetch(f"SELECT * FROM {table}") == [], f"store b sees none of {table}"
        assert await b.fetch(f"SELECT * FROM {table} WHERE store_id = $1", a.ctx.id) == []

    async with b.database.store_transaction(b.ctx.id, readonly=False) as conn:
        updated = await conn.execute("UPDATE manual_payments SET status = 'cancelled' WHERE store_id = $1", a.ctx.id)
        deleted = await conn.execute("DELETE FROM manual_refunds WHERE store_id = $1", a.ctx.id)
    assert (updated, deleted) == ("UPDATE 0", "DELETE 0")
    [row] = await a.fetch("SELECT status, refunded_minor FROM manual_payments")
    assert (row["status"], row["refunded_minor"]) == ("succeeded", 100)

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with b.database.store_transaction(b.ctx.id, readonly=False) as conn:
            await conn.execute(
                "INSERT INTO manual_payments (store_id, id, method, reference, idempotency_key, checkout_id, "
                "amount_minor, currency) VALUES ($1, $2, 'bank_transfer', 'X-1', 'x', $2, 1, 'EUR')",
                a.ctx.id,
                uuid7(),
            )
