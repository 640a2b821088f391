"""Marking a manual payment paid moves its core order to paid, through the core's one service, in one transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.db.database import Database
from tenantcommerce.plugins.providers import PaymentRequest
from tenantcommerce.testing.accounts import csrf_headers, sign_up_and_in
from tenantcommerce.testing.plugins import plugin_context, store_context
from uuid_utils.compat import uuid7

from tenantcommerce_manual_payments.gateways import BankTransferGateway
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

Client = AsyncTestClient[Litestar]
AMOUNT = 4_250


async def store_id(database: Database, slug: str) -> UUID:
    async with database.pool.acquire() as conn:
        found: UUID = await conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)
    return found


@pytest.fixture
async def beans(client: Client, mp_config: dict[str, Any]) -> str:
    """Store ``beans`` (EUR), owned by the signed-in client, selling by bank transfer."""
    await sign_up_and_in(client, "owner@beans.test")
    created = await client.post(
        "/api/stores", json={"slug": "beans", "name": "Beans", "currency": "EUR"}, headers=await csrf_headers(client)
    )
    assert created.status_code == 201, created.text
    enabled = await client.patch(
        "/api/admin/beans/plugins/manual-payments",
        json={"enabled": True, "config": mp_config},
        headers=await csrf_headers(client),
    )
    assert enabled.status_code == 200, enabled.text
    return "beans"


async def place_order(database: Database, slug: str, mp_config: dict[str, Any]) -> tuple[UUID, str]:
    """An order as placement leaves it for a bank transfer: payment pending at the gateway and in the core."""
    ctx = await store_context(database, await store_id(database, slug))
    plugin = plugin_context(database, ctx.id, "manual-payments", msgspec.convert(mp_config, ManualPaymentsSettings))
    request = PaymentRequest(checkout_id=UUID(str(uuid7())), amount_minor=AMOUNT, currency="EUR", reference="C-1",
                             idempotency_key=str(uuid7()))  # fmt: skip
    reference = (await BankTransferGateway().create_payment(ctx, request, plugin)).payment_ref
    order_id = UUID(str(uuid7()))
    async with database.store_transaction(ctx.id, readonly=False) as conn:
        await conn.execute(
            "INSERT INTO orders (store_id, id, order_number, email, currency, subtotal_minor, total_minor, "
            "payment_method) VALUES ($1, $2, 1001, 'ada@example.com', 'EUR', $3, $3, 'bank-transfer')",
            ctx.id,
            order_id,
            AMOUNT,
        )
        await conn.execute(
            "INSERT INTO payments (store_id, id, order_id, amount_minor, currency, method, status, transaction_id) "
            "VALUES ($1, $2, $3, $4, 'EUR', 'bank-transfer', 'pending', $5)",
            ctx.id,
            UUID(str(uuid7())),
            order_id,
            AMOUNT,
            reference,
        )
    return order_id, reference


async def mark_paid(client: Client, reference: str) -> Any:
    return await client.post(
        f"/api/admin/beans/plugins/manual-payments/payments/{reference}/mark-paid",
        json={"amount_minor": AMOUNT, "currency": "EUR"},
        headers=await csrf_headers(client),
    )


async def order_row(database: Database, slug: str, order_id: UUID) -> dict[str, Any]:
    async with database.store_transaction(await store_id(database, slug)) as conn:
        row = await conn.fetchrow(
            "SELECT o.status, o.payment_status, p.status AS payment, "
            "(SELECT count(*) FROM outbox_events WHERE name = 'order.paid') AS paid_events "
            "FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = $1",
            order_id,
        )
    assert row is not None
    return dict(row)


async def test_marking_paid_makes_the_order_paid_once_with_its_event(
    client: Client, beans: str, tc_database: Database, mp_config: dict[str, Any]
) -> None:
    order_id, reference = await place_order(tc_database, beans, mp_config)

    first = await mark_paid(client, reference)
    again = await mark_paid(client, reference)

    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert await order_row(tc_database, beans, order_id) == {
        "status": "open",
        "payment_status": "paid",
        "payment": "succeeded",
        "paid_events": 1,
    }
    detail = await client.get(f"/api/admin/beans/orders/{order_id}")
    assert detail.json()["payment_status"] == "paid"
    audit = (await client.get("/api/admin/beans/audit")).json()["items"]
    assert {entry["action"] for entry in audit} >= {"manual_payment.marked_paid", "order.paid"}


async def test_the_payment_of_a_cancelled_order_is_not_marked_paid(
    client: Client, beans: str, tc_database: Database, mp_config: dict[str, Any]
) -> None:
    order_id, reference = await place_order(tc_database, beans, mp_config)
    async with tc_database.store_transaction(await store_id(tc_database, beans), readonly=False) as conn:
        await conn.execute("UPDATE orders SET status = 'cancelled', payment_status = 'voided' WHERE id = $1", order_id)

    response = await mark_paid(client, reference)

    assert response.status_code == 409, response.text
    assert "cancelled" in response.json()["detail"]
    payment = (await client.get(f"/api/admin/beans/plugins/manual-payments/payments/{reference}")).json()["payment"]
    assert payment["status"] == "pending", "one transaction: the refusal undid the mark too"
    assert (await order_row(tc_database, beans, order_id))["payment_status"] == "voided"
