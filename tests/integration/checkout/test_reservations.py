"""Stock reservations on real Postgres, as the runtime role, under true concurrency (one session and connection per
task): never more held than exists, all or nothing per checkout, no deadlock between checkouts that share variants,
and what is released (by hand or by the expiry job) goes back."""

from __future__ import annotations

import asyncio
import datetime
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

import asyncpg
import pytest

from tenantcommerce.db.database import Database
from tenantcommerce.inventory import reservations
from tenantcommerce.inventory.reservations import OutOfStock
from tenantcommerce.tenancy.context import StoreContext, use_store


def in_an_hour() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)


async def hold(database: Database, store: StoreContext, checkout_id: UUID, lines: Sequence[tuple[UUID, int]]) -> str:
    """Reserve in a session of its own; ``"held"`` or ``"short"``."""
    with use_store(store):
        async with database.session() as session:
            try:
                await reservations.reserve(session, checkout_id, lines, in_an_hour())
            except OutOfStock:
                await session.rollback()
                return "short"
            await session.commit()
            return "held"


async def stock_of(admin_conn: asyncpg.Connection, *variants: UUID) -> list[tuple[int, int]]:
    rows = {
        row["id"]: (row["inventory"], row["reserved"])
        for row in await admin_conn.fetch(
            "SELECT id, inventory, reserved FROM product_variants WHERE id = ANY($1::uuid[])", list(variants)
        )
    }
    return [rows[variant] for variant in variants]


async def test_200_holds_at_once_on_50_in_stock_hold_exactly_50_and_selling_them_empties_the_stock(
    database: Database,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    hot = await variant(store, inventory=50)
    ids = await checkouts(store, [(hot, 1)], 200)
    outcomes = await asyncio.gather(*(hold(database, store, checkout_id, [(hot, 1)]) for checkout_id in ids))
    assert Counter(outcomes) == {"held": 50, "short": 150}
    assert await stock_of(admin_conn, hot) == [(50, 50)]
    held = [checkout_id for checkout_id, outcome in zip(ids, outcomes, strict=True) if outcome == "held"]
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 50
    assert set(await admin_conn.fetchval("SELECT array_agg(checkout_id) FROM inventory_reservations")) == set(held)

    async def sell(checkout_id: UUID) -> None:
        with use_store(store):
            async with database.session() as session:
                sales = await reservations.sell(session, checkout_id, [(hot, 1)])
                await reservations.record_sales(session, sales, reason="test sale")
                await session.commit()

    await asyncio.gather(*(sell(checkout_id) for checkout_id in held))
    assert await stock_of(admin_conn, hot) == [(0, 0)]
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 0
    afters = await admin_conn.fetch(
        "SELECT inventory_after FROM inventory_adjustments WHERE variant_id = $1 AND reason = 'test sale'", hot
    )
    assert sorted(row["inventory_after"] for row in afters) == list(range(50))


async def test_checkouts_sharing_variants_in_either_order_hold_all_or_nothing_without_deadlock(
    database: Database,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    a = await variant(store, 0, inventory=70)
    b = await variant(store, 1, inventory=60)
    c = await variant(store, 2, inventory=1000)
    forwards, backwards, wide = [(a, 1), (b, 1)], [(b, 1), (a, 1)], [(c, 2), (b, 1), (a, 1)]
    shapes = [forwards, backwards, wide] * 60
    ids = await checkouts(store, forwards, len(shapes))
    outcomes = await asyncio.gather(
        *(hold(database, store, checkout_id, lines) for checkout_id, lines in zip(ids, shapes, strict=True))
    )  # a deadlock would raise here (DeadlockDetected), not answer "short"
    held = outcomes.count("held")
    assert held == 60, Counter(outcomes)  # b runs out first; every checkout needs one b
    (inv_a, res_a), (inv_b, res_b), (inv_c, res_c) = await stock_of(admin_conn, a, b, c)
    assert (res_a, res_b) == (60, 60), "each held checkout holds all its lines; a short one holds none"
    assert res_c == 2 * sum(1 for shape, outcome in zip(shapes, outcomes, strict=True) if outcome == "held" and
                            shape is wide)  # fmt: skip
    assert (inv_a, inv_b, inv_c) == (70, 60, 1000)


async def test_one_short_line_holds_nothing_and_says_what_is_available(
    database: Database,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    plenty = await variant(store, 0, inventory=100)
    scarce = await variant(store, 1, inventory=3)
    [checkout_id] = await checkouts(store, [(plenty, 5), (scarce, 4)], 1)
    with use_store(store):
        async with database.session() as session:
            with pytest.raises(OutOfStock) as raised:
                await reservations.reserve(session, checkout_id, [(plenty, 5), (scarce, 4)], in_an_hour())
            await session.rollback()
    assert [(error.field, error.message) for error in raised.value.errors] == [(f"lines.{scarce}", "only 3 available")]
    assert await stock_of(admin_conn, plenty, scarce) == [(100, 0), (3, 0)]


async def test_the_same_variant_on_two_lines_is_held_as_one(
    database: Database,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    thing = await variant(store, inventory=5)
    [checkout_id] = await checkouts(store, [(thing, 3)], 1)
    assert await hold(database, store, checkout_id, [(thing, 3), (thing, 3)]) == "short"
    assert await hold(database, store, checkout_id, [(thing, 2), (thing, 3)]) == "held"
    assert await stock_of(admin_conn, thing) == [(5, 5)]
    assert await admin_conn.fetchval("SELECT qty FROM inventory_reservations WHERE checkout_id = $1", checkout_id) == 5


async def test_release_gives_the_stock_back_once(
    database: Database,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    thing = await variant(store, inventory=5)
    first, second = await checkouts(store, [(thing, 3)], 2)
    assert await hold(database, store, first, [(thing, 3)]) == "held"
    assert await hold(database, store, second, [(thing, 3)]) == "short"

    async def release(checkout_id: UUID) -> list[tuple[UUID, int]]:
        with use_store(store):
            async with database.session() as session:
                released = await reservations.release(session, checkout_id)
                await session.commit()
                return released

    results = await asyncio.gather(release(first), release(first), release(first))
    assert sorted(results, key=len) == [[], [], [(thing, 3)]], "released once, whoever asks how often"
    assert await stock_of(admin_conn, thing) == [(5, 0)]
    assert await hold(database, store, second, [(thing, 3)]) == "held"


async def test_selling_after_the_hold_was_released_takes_the_stock_again_only_if_it_is_there(
    database: Database,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    thing = await variant(store, inventory=5)
    late, other = await checkouts(store, [(thing, 3)], 2)
    with use_store(store):
        async with database.session() as session:
            # No reservation (it expired and was released): 3 of 5 are free, so the sale takes them.
            await reservations.sell(session, late, [(thing, 3)])
            await session.commit()
    assert await stock_of(admin_conn, thing) == [(2, 0)]
    assert await hold(database, store, other, [(thing, 2)]) == "held"
    with use_store(store):
        async with database.session() as session:
            with pytest.raises(OutOfStock):
                await reservations.sell(session, late, [(thing, 1)])
            await session.rollback()
    assert await stock_of(admin_conn, thing) == [(2, 2)]
