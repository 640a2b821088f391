"""``/admin/{slug}/orders``: the list (status filters, search), one order, and its fulfil, cancel, refund and
payment-confirmation forms. The same services and guards as ``/api/admin/{slug}/orders``."""

from __future__ import annotations

import math
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Response

from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.errors import FieldError, InputError, TenantCommerceError
from tenantcommerce.orders import fulfilment, queries, refunds, services
from tenantcommerce.orders.schemas import (
    CancelInput,
    ConfirmPaymentInput,
    FulfillmentInput,
    OrderDetail,
    RefundInput,
)
from tenantcommerce.runtime import Runtime
from tenantcommerce.web.admin.pages import (
    choice,
    convert,
    field_messages,
    form_data,
    html,
    minor_units,
    see_other,
    store_page,
    whole_number,
)

PAGE_SIZE = 25
ORDER_STATUSES = ("open", "completed", "cancelled")
PAYMENT_STATUSES = ("pending", "authorized", "paid", "partially_refunded", "refunded", "failed", "voided")
FULFILLMENT_STATUSES = ("unfulfilled", "partially_fulfilled", "fulfilled", "returned")
NOTICES = {
    "fulfilled": "Shipment recorded.",
    "cancelled": "Order cancelled.",
    "refunded": "Refund recorded.",
    "confirmed": "Payment confirmed.",
}
FULFIL_FIELDS = ("tracking_number", "tracking_url", "carrier_id", "lines")
CANCEL_FIELDS = ("reason",)
REFUND_FIELDS = ("amount", "reason", "restock")

Search = Annotated[str | None, QueryParameter(max_length=320)]
Filter = Annotated[str | None, QueryParameter(max_length=40)]
Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
Notice = Annotated[str | None, QueryParameter(max_length=40)]


def _uuid(value: str | None, field: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise InputError(f"{field}: not an id", errors=[FieldError(field, "not an id")]) from None


def _actor(request: Request[Any, Any, Any]) -> services.Actor:
    return services.Actor(principal_of(request), request_id(request))


def _lines(form: dict[str, str], prefix: str, field: str) -> list[dict[str, Any]]:
    """``<prefix><order item id>=<qty>`` fields as order lines (empty and 0 left out)."""
    lines: list[dict[str, Any]] = []
    for name, value in form.items():
        if not name.startswith(prefix) or not value.strip():
            continue
        qty = whole_number(value, field)
        if qty < 0:
            raise InputError(f"{field}: must not be negative", errors=[FieldError(field, "must not be negative")])
        if qty:
            lines.append({"order_item_id": name.removeprefix(prefix), "qty": qty})
    return lines


class OrdersPagesController(Controller):
    """Orders of a store, as pages."""

    path = "/admin/{slug:str}/orders"
    include_in_schema = False

    @get("/", guards=[requires("orders:read")])
    async def list_orders(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        status: Filter = None,
        payment_status: Filter = None,
        fulfillment_status: Filter = None,
        customer_id: Filter = None,
        q: Search = None,
        page: Page = 1,
    ) -> Response[str]:
        """Orders, newest first, filtered by the three statuses and a search (e-mail or number)."""
        context = await store_page(request, runtime, "orders")
        status = choice(status, ORDER_STATUSES, "status")
        payment_status = choice(payment_status, PAYMENT_STATUSES, "payment_status")
        fulfillment_status = choice(fulfillment_status, FULFILLMENT_STATUSES, "fulfillment_status")
        customer = _uuid(customer_id, "customer_id")
        filters = queries.OrderFilters(
            status=status,
            payment_status=payment_status,
            fulfillment_status=fulfillment_status,
            customer_id=customer,
            q=q or None,
        )
        async with runtime.database.session() as session:
            items, total = await queries.list_orders(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        filters_in_use = {
            key: value
            for key, value in (
                ("status", status),
                ("payment_status", payment_status),
                ("fulfillment_status", fulfillment_status),
                ("q", q),
                ("customer_id", customer_id),
            )
            if value
        }
        return html(
            request,
            "orders.html",
            {
                **context,
                "orders": items,
                "total": total,
                "page": page,
                "pages": max(1, math.ceil(total / PAGE_SIZE)),
                "filters": filters_in_use,
                "order_statuses": ORDER_STATUSES,
                "payment_statuses": PAYMENT_STATUSES,
                "fulfillment_statuses": FULFILLMENT_STATUSES,
            },
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        order: OrderDetail | UUID,
        *,
        form: str | None = None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "orders")
        if isinstance(order, UUID):
            async with runtime.database.session() as session:
                order = await queries.get_order(session, order)
        return html(
            request,
            "order.html",
            {
                **context,
                "order": order,
                "form": form,
                "values": values or {},
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
                "refundable_minor": refunds.left_to_refund(order),
            },
            status=status,
        )

    @get("/{order_id:uuid}", guards=[requires("orders:read")])
    async def show(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        notice: Notice = None,
    ) -> Response[str]:
        """One order with its items, payments, shipments and refunds, and the forms the member may use."""
        return await self._detail(request, runtime, order_id, notice=notice)

    @post("/{order_id:uuid}/fulfil", guards=[requires("orders:fulfill")])
    async def fulfil(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], order_id: FromPath[UUID]
    ) -> Response[Any]:
        """Ship what the form says (everything waiting when no quantities are given)."""
        form = await form_data(request)
        try:
            data: dict[str, Any] = {
                "notify_customer": form.get("notify_customer") == "on",
                "buy_label": form.get("buy_label") == "on",
            }
            for name in ("tracking_number", "tracking_url", "carrier_id"):
                if form.get(name, "").strip():
                    data[name] = form[name].strip()
            lines = _lines(form, "ship-", "lines")
            if lines:
                data["lines"] = lines
            await fulfilment.fulfil(runtime, order_id, convert(data, FulfillmentInput), _actor(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, FULFIL_FIELDS)
            return await self._detail(
                request, runtime, order_id, form="fulfil", values=form, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{request.path_params['slug']}/orders/{order_id}?notice=fulfilled")

    @post("/{order_id:uuid}/cancel", guards=[requires("orders:refund")])
    async def cancel(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], order_id: FromPath[UUID]
    ) -> Response[Any]:
        """Cancel the order (stock back, what was paid refunded, a pending payment voided)."""
        form = await form_data(request)
        try:
            reason = form.get("reason", "").strip()
            data = convert({"reason": reason} if reason else {}, CancelInput)
            await refunds.cancel_order(runtime, order_id, data, _actor(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, CANCEL_FIELDS)
            return await self._detail(
                request, runtime, order_id, form="cancel", values=form, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{request.path_params['slug']}/orders/{order_id}?notice=cancelled")

    @post("/{order_id:uuid}/refund", guards=[requires("orders:refund")])
    async def refund(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], order_id: FromPath[UUID]
    ) -> Response[Any]:
        """Refund an amount (and put lines back in stock)."""
        form = await form_data(request)
        try:
            async with runtime.database.session() as session:
                order = await queries.get_order(session, order_id)
            data: dict[str, Any] = {"amount_minor": minor_units(form.get("amount", ""), order.currency, "amount")}
            reason = form.get("reason", "").strip()
            if reason:
                data["reason"] = reason
            restock = _lines(form, "restock-", "restock")
            if restock:
                data["restock"] = restock
            await refunds.request_refund(runtime, order_id, convert(data, RefundInput), _actor(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, REFUND_FIELDS, {"amount_minor": "amount"})
            return await self._detail(
                request, runtime, order_id, form="refund", values=form, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{request.path_params['slug']}/orders/{order_id}?notice=refunded")

    @post("/{order_id:uuid}/refunds/{refund_id:uuid}/retry", guards=[requires("orders:refund")])
    async def retry_refund(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        refund_id: FromPath[UUID],
    ) -> Response[Any]:
        """Send a pending refund to the gateway again (same idempotency key: never paid twice)."""
        await form_data(request)
        try:
            await refunds.retry_refund(runtime, order_id, refund_id, _actor(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, ())
            return await self._detail(request, runtime, order_id, form="retry", errors=errors, status=exc.status_code)
        return see_other(f"/admin/{request.path_params['slug']}/orders/{order_id}?notice=refunded")

    @post("/{order_id:uuid}/payments/{payment_id:uuid}/confirm", guards=[requires("orders:refund")])
    async def confirm_payment(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        order_id: FromPath[UUID],
        payment_id: FromPath[UUID],
    ) -> Response[Any]:
        """The money of a bank transfer or cash payment arrived."""
        await form_data(request)
        try:
            await services.confirm_payment(runtime, order_id, payment_id, ConfirmPaymentInput(), _actor(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, ())
            return await self._detail(request, runtime, order_id, form="confirm", errors=errors, status=exc.status_code)
        return see_other(f"/admin/{request.path_params['slug']}/orders/{order_id}?notice=confirmed")
