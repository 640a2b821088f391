"""Admin routes, under ``/api/admin/{slug}/plugins/manual-payments``: the store's manual payments, and marking one
paid when its money has arrived.

The plugin router already requires a member of the store (a session or an API token) and the plugin enabled for the
store (else 404). Reading needs ``orders:read``; marking paid needs :data:`MARK_PAID_PERMISSION`.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession
from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.errors import problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.orders.services import record_payment_succeeded
from tenantcommerce.plugins.providers import Currency, Minor
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

from tenantcommerce_manual_payments import records
from tenantcommerce_manual_payments.gateways import BankTransferGateway, CashOnDeliveryGateway
from tenantcommerce_manual_payments.records import ManualPayment, ManualRefund, Status
from tenantcommerce_manual_payments.settings import Instructions

READ_PERMISSION = "orders:read"
MARK_PAID_PERMISSION = "orders:refund"
"""Marking a payment paid says money arrived, which lets the order ship: it is a money decision. Of the core's
permissions, ``orders:refund`` is the one that governs an order's money and that only owners and admins hold
(``orders:fulfill`` is also the staff role's, and whoever ships must not also be able to declare goods paid for)."""


GATEWAY_IDS = {gateway.method: gateway.id for gateway in (BankTransferGateway, CashOnDeliveryGateway)}
"""The gateway (the core's ``payments.method``) of each manual method."""


class ManualPaymentDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A payment and its refunds."""

    payment: ManualPayment
    refunds: list[ManualRefund]


class MarkPaid(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The money of a payment has arrived: its amount and currency, as a check against typos.

    Attributes:
        amount_minor: must equal the payment's amount (minor units).
        currency: must equal the payment's currency.
        note: kept with the payment (e.g. the bank statement line).
    """

    amount_minor: Minor
    currency: Currency
    note: Instructions | None = None


StatusFilter = Annotated[Status | None, msgspec.Meta(description="Only payments with this status.")]


async def _driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``'s transaction (already scoped to the store), so the record
    functions and the audit entry commit together."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection), "the runtime database is asyncpg"
    return driver


async def _detail(conn: Any, payment: ManualPayment) -> ManualPaymentDetail:
    refunds = await records.refunds_of(conn, payment_id=payment.id, store_id=current_store().id)
    return ManualPaymentDetail(payment=payment, refunds=refunds)


class ManualPaymentsController(Controller):
    """The store's manual payments."""

    path = "/payments"
    tags = ["admin: manual payments"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires(READ_PERMISSION)], responses=problem_responses(400, 401, 403, 404))
    async def list_payments(
        self,
        runtime: NamedDependency[Runtime],
        status: StatusFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[ManualPayment]:
        """Payments, newest first; ``status`` keeps only pending, succeeded or cancelled ones."""
        store = current_store()
        async with runtime.database.store_transaction(store.id) as conn:
            items, total = await records.list_payments(conn, store.id, status=status, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @get("/{reference:str}", guards=[requires(READ_PERMISSION)], responses=problem_responses(401, 403, 404))
    async def read(self, runtime: NamedDependency[Runtime], reference: FromPath[str]) -> ManualPaymentDetail:
        """One payment, by the reference the customer quotes, with its refunds."""
        store = current_store()
        async with runtime.database.store_transaction(store.id) as conn:
            payment = await records.find_payment(conn, store.id, reference)
            return await _detail(conn, payment)

    @post(
        "/{reference:str}/mark-paid",
        status_code=HTTP_200_OK,
        guards=[requires(MARK_PAID_PERMISSION)],
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def mark_paid(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        reference: FromPath[str],
        data: JSONBody[MarkPaid],
    ) -> ManualPaymentDetail:
        """Mark a payment paid: its money has arrived. The amount and currency must be the payment's (else 422);
        doing it again changes nothing. The same rules as the gateways' ``confirm``; audited. The order placed with
        the payment becomes paid with it (``order.paid``); an order that was cancelled refuses (409) and nothing
        is marked."""
        store = current_store()
        async with runtime.database.session() as session:
            conn = await _driver_connection(session)
            payment, changed = await records.mark_paid(
                conn, store.id, reference, amount_minor=data.amount_minor, currency=data.currency, note=data.note
            )
            if changed:
                audit(
                    session,
                    principal_of(request),
                    "manual_payment.marked_paid",
                    "manual_payment",
                    payment.reference,
                    {"status": {"from": "pending", "to": "succeeded"}, "amount_minor": payment.amount_minor,
                     "currency": payment.currency, "note": payment.note},
                    request_id=request_id(request),
                )  # fmt: skip
            # The core's one way to a paid order, in this same transaction: if the order cannot be paid (it was
            # cancelled) nothing is marked here either.
            await record_payment_succeeded(
                session,
                gateway_id=GATEWAY_IDS[payment.method],
                payment_ref=payment.reference,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                principal=principal_of(request),
                request_id=request_id(request),
                note=payment.note,
            )
            detail = await _detail(conn, payment)
            await session.commit()
        return detail
