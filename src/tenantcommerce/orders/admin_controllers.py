"""Admin order endpoints: ``/api/admin/{slug}/orders`` (read: ``orders:read``; ship: ``orders:fulfill``; cancel,
refund and confirm payments: ``orders:refund``)."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from tenantcommerce.auth.admin_controllers import ADMIN_PREFIX, request_id
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.errors import FieldError, InputError, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.orders import fulfilment, queries, refunds, services
from tenantcommerce.orders.schemas import (
    CancelInput,
    ConfirmPaymentInput,
    FulfillmentInput,
    OrderDetail,
    OrderSummary,
    RefundInput,
)
from tenantcommerce.orders.states import FulfillmentStatus, OrderStatus, PaymentStatus
from tenantcommerce.runtime import Runtime

Search = Annotated[str | None, Parameter(max_length=320, description="Part of the e-mail address, or the number.")]
Number = Annotated[int | None, Parameter(ge=1, le=2**63 - 1, description="The order number (e.g. 1001).")]
Day = Annotated[datetime.date | None, Parameter(description="A UTC day, YYYY-MM-DD, included.")]


def _actor(request: Request[Any, Any, Any]) -> services.Actor:
    return services.Actor(principal_of(request), request_id(request))


class AdminOrdersController(Controller):
    """Orders of a store after placement: list, read, ship, cancel, refund, confirm payments."""

    path = f"{ADMIN_PREFIX}/orders"
    tags = ["admin: orders"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("orders:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_orders(
        self,
        runtime: NamedDependency[Runtime],
        status: FromQuery[OrderStatus | None] = None,
        payment_status: FromQuery[PaymentStatus | None] = None,
        fulfillment_status: FromQuery[FulfillmentStatus | None] = None,
        created_from: Day = None,
        created_to: Day = None,
        customer_id: FromQuery[UUID | None] = None,
        number: Number = None,
        q: Search = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[OrderSummary]:
        """Orders, newest first, filtered by status, dates (UTC days, both included), customer, number, or ``q``
        (part of the e-mail address, or the number)."""
        if created_from is not None and created_to is not None and created_from > created_to:
            raise InputError(
                "created_from is after created_to", errors=[FieldError("created_from", "must not be after created_to")]
            )
        filters = queries.OrderFilters(
            status=status,
            payment_status=payment_status,
            fulfillment_status=fulfillment_status,
            created_from=created_from,
            created_to=created_to,
            customer_id=customer_id,
            number=number,
            q=q,
        )
        async with runtime.database.session() as session:
            items, total = await queries.list_orders(session, filters, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @get("/{order_id:uuid}", guards=[requires("orders:read")], responses=problem_responses(401, 403, 404))
    async def get_order(self, runtime: NamedDependency[Runtime], order_id: FromPath[UUID]) -> OrderDetail:
        """One order with its items, payments, fulfilments and refunds."""
        async with runtime.database.session() as session:
            return await queries.get_order(session, order_id)

    @post(
        "/{order_id:uuid}/fulfillments",
        guards=[requires("orders:fulfill")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422, 502, 504),
    )
    async def fulfil(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        data: JSONBody[FulfillmentInput],
    ) -> OrderDetail:
        """Ship lines (all that is left when ``lines`` is omitted), with tracking or a label bought from the order's
        carrier (``buy_label``); the customer gets the shipping e-mail."""
        return await fulfilment.fulfil(runtime, order_id, data, _actor(request))

    @post(
        "/{order_id:uuid}/cancel",
        guards=[requires("orders:refund")],
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 422, 502, 504),
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        data: JSONBody[CancelInput],
    ) -> OrderDetail:
        """Cancel an open order of which nothing shipped: its items go back in stock, what was paid is refunded in
        full through the gateway, a pending payment is voided."""
        return await refunds.cancel_order(runtime, order_id, data, _actor(request))

    @post(
        "/{order_id:uuid}/refunds",
        guards=[requires("orders:refund")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422, 502, 504),
    )
    async def refund(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        data: JSONBody[RefundInput],
    ) -> OrderDetail:
        """Refund all or part of what was paid through the order's gateway (never more than is left: 422), putting
        ``restock`` lines back in stock. If the gateway does not answer (502/504) the refund stays ``pending``,
        holding its amount, and nothing else changes: retry it."""
        return await refunds.request_refund(runtime, order_id, data, _actor(request))

    @post(
        "/{order_id:uuid}/refunds/{refund_id:uuid}/retry",
        guards=[requires("orders:refund")],
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 403, 404, 409, 422, 502, 504),
    )
    async def retry_refund(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        refund_id: FromPath[UUID],
    ) -> OrderDetail:
        """Send a pending refund to the gateway again, with its same idempotency key (never paid twice)."""
        return await refunds.retry_refund(runtime, order_id, refund_id, _actor(request))

    @post(
        "/{order_id:uuid}/payments/{payment_id:uuid}/confirm",
        guards=[requires("orders:refund")],
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 422, 502, 504),
    )
    async def confirm_payment(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        payment_id: FromPath[UUID],
        data: JSONBody[ConfirmPaymentInput],
    ) -> OrderDetail:
        """The money of a payment that settles later arrived (bank transfer, pay on delivery): the gateway confirms
        it and the order is paid (``order.paid``). Confirming again changes nothing."""
        return await services.confirm_payment(runtime, order_id, payment_id, data, _actor(request))
