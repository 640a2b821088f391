"""``usage.claim`` counts one use with one conditional UPDATE and ``usage.record`` ties it to the order: a usage
limit holds under real concurrency (separate connections as the runtime role, each in a store-scoped transaction),
nothing commits for the caller, and codes that stopped being usable are refused."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from sqlalchemy import text

from tenantcommerce.db.database import Database
from tenantcommerce.discounts import usage
from tenantcommerce.errors import BusinessRuleError, Conflict
from tenantcommerce.tenancy.context import use_store

NOW = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.UTC)


async def redeem(session, discount_id, *, order_id, amount_minor, now) -> None:
    """What placing an order does with a discount: claim a use, then record it against the order."""
    await usage.claim(session, discount_id, now=now)
    await usage.record(session, discount_id, order_id=order_id, amount_minor=amount_minor)


HOUR = datetime.timedelta(hours=1)


async def counted(admin_conn, discount_id) -> tuple[int, int]:
    """(times_used, redemption rows) of a discount, as the superuser sees them."""
    row = await admin_conn.fetchrow(
        "SELECT times_used, (SELECT count(*) FROM discount_redemptions r WHERE r.discount_id = d.id) AS rows"
        " FROM discounts d WHERE d.id = $1",
        discount_id,
    )
    return row["times_used"], row["rows"]


async def test_a_redemption_counts_a_use_and_records_the_order(
    tc_database, two_stores, add_discount, add_order, admin_conn
) -> None:
    store = two_stores.a.store
    discount = await add_discount(store, usage_limit=5)
    order_id = await add_order(store.id)
    with use_store(store):
        async with tc_database.session() as session:
            await redeem(session, discount.id, order_id=order_id, amount_minor=450, now=NOW)
            await session.commit()
    assert await counted(admin_conn, discount.id) == (1, 1)
    row = await admin_conn.fetchrow("SELECT * FROM discount_redemptions WHERE discount_id = $1", discount.id)
    assert (row["store_id"], row["order_id"], row["amount_minor"]) == (store.id, order_id, 450)


async def test_redeem_does_not_commit_for_the_caller(tc_database, two_stores, add_discount, add_order, admin_conn):
    store = two_stores.a.store
    discount = await add_discount(store, usage_limit=1)
    order_id = await add_order(store.id)
    with use_store(store):
        async with tc_database.session() as session:
            await redeem(session, discount.id, order_id=order_id, amount_minor=100, now=NOW)
            assert await counted(admin_conn, discount.id) == (0, 0), "visible before the caller committed"
            await session.rollback()
    assert await counted(admin_conn, discount.id) == (0, 0)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"usage_limit": 2, "times_used": 2}, "has been used up"),
        ({"active": False}, "is no longer valid"),
        ({"starts_at": NOW + HOUR}, "is no longer valid"),
        ({"ends_at": NOW}, "is no longer valid"),
    ],
)
async def test_a_code_that_stopped_being_usable_is_refused(
    tc_database, two_stores, add_discount, add_order, admin_conn, columns, message
) -> None:
    store = two_stores.a.store
    discount = await add_discount(store, **columns)
    before = await counted(admin_conn, discount.id)
    order_id = await add_order(store.id)
    with use_store(store):
        async with tc_database.session() as session:
            with pytest.raises(BusinessRuleError) as caught:
                await redeem(session, discount.id, order_id=order_id, amount_minor=100, now=NOW)
            await session.commit()
    assert [(e.field, e.message) for e in caught.value.errors] == [("discount_code", message)]
    assert await counted(admin_conn, discount.id) == before


async def test_another_stores_discount_cannot_be_redeemed(
    tc_database, two_stores, add_discount, add_order, admin_conn
) -> None:
    foreign = await add_discount(two_stores.b.store, usage_limit=5)
    order_id = await add_order(two_stores.a.id)
    with use_store(two_stores.a.store):
        async with tc_database.session() as session:
            with pytest.raises(BusinessRuleError) as caught:
                await redeem(session, foreign.id, order_id=order_id, amount_minor=100, now=NOW)
            await session.commit()
    assert caught.value.errors[0].message == "is no longer valid"
    assert await counted(admin_conn, foreign.id) == (0, 0)


async def test_an_order_redeems_at_most_one_discount(tc_database, two_stores, add_discount, add_order, admin_conn):
    store = two_stores.a.store
    first = await add_discount(store, code="FIRST")
    second = await add_discount(store, code="SECOND")
    order_id = await add_order(store.id)
    with use_store(store):
        async with tc_database.session() as session:
            await redeem(session, first.id, order_id=order_id, amount_minor=100, now=NOW)
            await session.commit()
        async with tc_database.session() as session:
            with pytest.raises(Conflict):
                await redeem(session, second.id, order_id=order_id, amount_minor=100, now=NOW)
            await session.rollback()
    assert await counted(admin_conn, first.id) == (1, 1)
    assert await counted(admin_conn, second.id) == (0, 0)


async def test_a_limit_of_5_holds_against_30_concurrent_redemptions(
    postgres, two_stores, add_discount, add_order, admin_conn
) -> None:
    """30 transactions on 30 connections start together (a barrier after each has begun and set its store), each
    redeeming the same code for its own order: exactly 5 succeed, 25 are told the code is used up."""
    store = two_stores.a.store
    discount = await add_discount(store, code="FIRST-FIVE", usage_limit=5)
    orders = [await add_order(store.id) for _ in range(30)]
    database = Database(postgres.runtime_url, pool_size=30)
    await database.connect()
    barrier = asyncio.Barrier(len(orders))

    async def attempt(order_id) -> str:
        with use_store(store):
            async with database.session() as session:
                backend = await session.scalar(text("SELECT pg_backend_pid()"))  # begins: the store is set
                await barrier.wait()
                try:
                    await redeem(session, discount.id, order_id=order_id, amount_minor=100, now=NOW)
                except BusinessRuleError as exc:
                    await session.rollback()
                    return f"{backend}:{exc.errors[0].message}"
                await session.commit()
                return f"{backend}:redeemed"

    try:
        results = await asyncio.wait_for(asyncio.gather(*(attempt(order_id) for order_id in orders)), timeout=60)
    finally:
        await database.close()

    backends = {result.split(":")[0] for result in results}
    assert len(backends) == 30, "the attempts did not run on separate connections"
    outcomes = sorted(result.split(":", 1)[1] for result in results)
    assert outcomes == ["has been used up"] * 25 + ["redeemed"] * 5
    assert await counted(admin_conn, discount.id) == (5, 5)
    redeemed_orders = {row["order_id"] for row in await admin_conn.fetch("SELECT order_id FROM discount_redemptions")}
    assert len(redeemed_orders) == 5
    assert redeemed_orders <= set(orders)
