"""Holds that expire are released by the worker's job (stock and discount use back, the payment cancelled, the
checkout ``expired``), and a checkout placed twice at once (a retry racing a webhook) is still one order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError

from tenantcommerce.cart.services import CartOwner
from tenantcommerce.checkout import services
from tenantcommerce.checkout.expiry import release_expired_checkouts
from tenantcommerce.errors import Conflict
from tenantcommerce.orders.placement import place_order
from tenantcommerce.plugins.providers import PaymentRequest, PaymentResult
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, use_store


def owner(checkout_id: UUID) -> CartOwner:
    """The guest owning a checkout made by the ``checkouts`` fixture."""
    return CartOwner(None, checkout_id.bytes * 2)


async def hold(runtime: Runtime, store: StoreContext, checkout_id: UUID) -> PaymentRequest:
    """Step 1 of completing, committed; what the gateway would be asked."""
    with use_store(store):
        plugins = await runtime.plugins.for_store(store)
        async with runtime.database.session() as session:
            checkout = await services.get_checkout(session, owner(checkout_id), checkout_id, lock=True)
            assert await services.hold(session, plugins, checkout, None, runtime.settings.checkout_hold)
            request = services.payment_request(checkout)
            await session.commit()
    return request


async def test_the_job_releases_expired_holds_only(
    runtime: Runtime,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    thing = await variant(store, inventory=10)
    discount = await admin_conn.fetchval(
        "INSERT INTO discounts (store_id, id, code, kind, value, usage_limit) "
        "VALUES ($1, gen_random_uuid(), 'TEN', 'percentage', 1000, 5) RETURNING id",
        store.id,
    )
    paid_late, abandoned, fresh = await checkouts(store, [(thing, 3)], 3, discount_code="TEN")
    requests = {checkout_id: await hold(runtime, store, checkout_id) for checkout_id in (paid_late, abandoned, fresh)}
    assert await admin_conn.fetchval("SELECT reserved FROM product_variants WHERE id = $1", thing) == 9
    assert await admin_conn.fetchval("SELECT times_used FROM discounts WHERE id = $1", discount) == 3
    # One of them got as far as creating its payment (the process died before placing the order).
    with use_store(store):
        gateway = (await runtime.plugins.for_store(store)).payment_gateway("bank-transfer")
        payment = await gateway.create_payment(requests[paid_late])
    await admin_conn.execute("UPDATE checkouts SET payment_ref = $2 WHERE id = $1", paid_late, payment.payment_ref)
    await admin_conn.execute(
        "UPDATE checkouts SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])",
        [paid_late, abandoned],
    )

    assert await release_expired_checkouts(runtime) == 2
    statuses = dict(await admin_conn.fetch("SELECT id, status FROM checkouts"))  # type: ignore[arg-type]
    assert statuses == {paid_late: "expired", abandoned: "expired", fresh: "awaiting_payment"}
    assert await admin_conn.fetchval("SELECT reserved FROM product_variants WHERE id = $1", thing) == 3
    assert await admin_conn.fetchval("SELECT inventory FROM product_variants WHERE id = $1", thing) == 10
    held = await admin_conn.fetch("SELECT checkout_id, qty FROM inventory_reservations")
    assert [(row["checkout_id"], row["qty"]) for row in held] == [(fresh, 3)]
    assert await admin_conn.fetchval("SELECT times_used FROM discounts WHERE id = $1", discount) == 1
    assert (
        await admin_conn.fetchval("SELECT status FROM manual_payments WHERE reference = $1", payment.payment_ref)
        == "cancelled"
    )
    assert await release_expired_checkouts(runtime) == 0, "nothing left to release"

    # Completing an expired checkout answers 409: start again from the cart.
    with use_store(store):
        plugins = await runtime.plugins.for_store(store)
        async with runtime.database.session() as session:
            checkout = await services.get_checkout(session, owner(abandoned), abandoned, lock=True)
            with pytest.raises(Conflict, match="expired"):
                await services.hold(session, plugins, checkout, None, runtime.settings.checkout_hold)


async def test_a_checkout_placed_twice_at_once_is_one_order_and_one_sale(
    runtime: Runtime,
    store: StoreContext,
    variant: Callable[..., Awaitable[UUID]],
    checkouts: Callable[..., Awaitable[list[UUID]]],
    admin_conn: asyncpg.Connection,
) -> None:
    thing = await variant(store, inventory=5)
    [checkout_id] = await checkouts(store, [(thing, 2)], 1)
    request = await hold(runtime, store, checkout_id)
    result = PaymentResult(
        status="succeeded", payment_ref="PAY-TWICE", amount_minor=request.amount_minor, currency=request.currency
    )

    async def place() -> str:
        with use_store(store):
            async with runtime.database.session() as session:
                checkout = await services.get_checkout(session, owner(checkout_id), checkout_id)  # no lock: racing
                try:
                    await place_order(session, checkout, result)
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    return "refused"
                return "placed"

    outcomes = await asyncio.gather(*(place() for _ in range(5)))
    assert sorted(outcomes) == ["placed", "refused", "refused", "refused", "refused"]
    assert await admin_conn.fetchval("SELECT count(*) FROM orders") == 1
    assert await admin_conn.fetchval("SELECT count(*) FROM payments") == 1
    row = await admin_conn.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", thing)
    assert (row["inventory"], row["reserved"]) == (3, 0)
    names = [
        row["name"]
        for row in await admin_conn.fetch("SELECT name FROM outbox_events WHERE name LIKE 'order.%' ORDER BY name")
    ]
    assert names == ["order.paid", "order.placed"]
