"""Fulfilling orders: lines and quantities, tracking, the carrier's label hook, the shipping e-mail.

The carrier is called outside any transaction; the fulfilment, its audit entry and the order's new statuses are written
in one transaction after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
import structlog
from sqlalchemy import select

from tenantcommerce.catalog.models import ProductVariant
from tenantcommerce.db.base import new_id
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, TenantCommerceError
from tenantcommerce.orders import emails, states
from tenantcommerce.orders.models import Fulfillment, Order, OrderItem
from tenantcommerce.orders.schemas import (
    FulfillmentInput,
    OrderDetail,
    counts,
    given,
)
from tenantcommerce.plugins.providers import Address, LabelRequest, ShippingLine
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from tenantcommerce.plugins.providers import ShippingLabel
    from tenantcommerce.runtime import Runtime
    from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.orders.queries import detail_of, find_order, items_of
from tenantcommerce.orders.services import Actor, _audit, _pick_lines, _send, _settle_statuses, _stored_lines

_log = structlog.get_logger("tenantcommerce.orders")


# --- fulfilment -----------------------------------------------------------------------------------------------------


def _fulfilment_plan(order: Order, items: Sequence[OrderItem], data: FulfillmentInput) -> dict[UUID, int]:
    states.check_can_fulfil(order.status, order.payment_status, order.fulfillment_status)
    lines = given(data.lines)
    if lines is None:
        plan = {item.id: counts(item).waiting for item in items if counts(item).waiting > 0}
        if not plan:
            raise Conflict("cannot fulfil: nothing is left to ship")
        return plan
    return _pick_lines(lines, items, lambda item: counts(item).waiting, "lines", "ship")


async def _buy_label(
    runtime: Runtime,
    store: StoreContext,
    order: Order,
    items: Sequence[OrderItem],
    plan: dict[UUID, int],
    carrier_id: str | None,
) -> ShippingLabel:
    choice = order.shipping_choice or {}
    chosen = choice.get("carrier_id")
    if not chosen or not order.shipping_address:
        raise BusinessRuleError(
            "this order has no shipping choice and address to buy a label for",
            errors=[FieldError("buy_label", "the order has no shipping choice")],
        )
    if carrier_id is not None and carrier_id != chosen:
        raise BusinessRuleError(
            f"a label can only be bought from the order's carrier {chosen!r}",
            errors=[FieldError("carrier_id", f"must be {chosen} to buy a label")],
        )
    carriers = {carrier.id: carrier for carrier in (await runtime.plugins.for_store(store)).shipping_carriers()}
    carrier = carriers.get(str(chosen))
    if carrier is None:
        raise BusinessRuleError(
            f"carrier {chosen!r} is not enabled in this store",
            errors=[FieldError("buy_label", "the carrier's plugin is not enabled")],
        )
    weights = await _variant_weights(runtime, [item.variant_id for item in items])
    lines = [
        ShippingLine(
            sku=item.sku,
            quantity=plan[item.id],
            unit_price_minor=item.unit_price_minor,
            weight_grams=weights.get(item.variant_id),
        )
        for item in items
        if item.id in plan
    ]
    label = await carrier.buy_label(
        LabelRequest(
            order_id=order.id,
            order_number=order.order_number,
            rate_id=str(choice.get("rate_id") or ""),
            destination=msgspec.convert(order.shipping_address, Address),
            lines=lines,
        )
    )
    if label is None:
        raise BusinessRuleError(
            f"carrier {chosen!r} does not sell labels: ship by hand and give tracking_number",
            errors=[FieldError("buy_label", "the carrier sells no labels")],
        )
    return label


async def _variant_weights(runtime: Runtime, variant_ids: list[UUID]) -> dict[UUID, int | None]:
    async with runtime.database.session() as session:
        rows = await session.execute(
            select(ProductVariant.id, ProductVariant.weight_grams).where(ProductVariant.id.in_(variant_ids))
        )
        return dict(rows.all())


async def fulfil(runtime: Runtime, order_id: UUID, data: FulfillmentInput, actor: Actor) -> OrderDetail:
    """Ship lines of an order (all that is left when ``data.lines`` is omitted), buying the carrier's label when
    asked, and send the shipping e-mail.

    Raises:
        NotFound: no such order.
        Conflict: the order cannot ship now (cancelled, completed, refunded, nothing left).
        BusinessRuleError: a line is not the order's or asks for more than is left; no label can be bought.
        PluginError: the carrier failed; nothing was written.
    """
    store = current_store()
    label: ShippingLabel | None = None
    if data.buy_label:
        async with runtime.database.session() as session:
            order = await find_order(session, order_id)
            items = await items_of(session, order.id)
            plan = _fulfilment_plan(order, items, data)
        label = await _buy_label(runtime, store, order, items, plan, given(data.carrier_id))
    async with runtime.database.session() as session:
        order = await find_order(session, order_id, lock=True)
        items = await items_of(session, order.id)
        try:
            plan = _fulfilment_plan(order, items, data)
        except TenantCommerceError as exc:
            if label is not None:
                _log.warning("label bought but not used", order_id=str(order.id), tracking=label.tracking_number)
                raise Conflict(
                    f"{exc.detail} (the label bought just now, tracking number {label.tracking_number}, "
                    "was not used: void it with the carrier)"
                ) from exc
            raise
        for item in items:
            item.fulfilled_qty += plan.get(item.id, 0)
        choice = order.shipping_choice or {}
        fulfillment = Fulfillment(
            id=new_id(),
            order_id=order.id,
            lines=_stored_lines(plan),
            carrier_id=given(data.carrier_id) or (str(choice["carrier_id"]) if choice.get("carrier_id") else None),
            tracking_number=label.tracking_number if label else given(data.tracking_number),
            tracking_url=(label.tracking_url if label else None) or given(data.tracking_url),
            label_url=label.label_url if label else None,
            actor_user_id=actor.user_id,
        )
        session.add(fulfillment)
        changes: dict[str, Any] = {
            "fulfillment_id": str(fulfillment.id),
            "lines": _stored_lines(plan),
            "tracking_number": fulfillment.tracking_number,
        }
        _settle_statuses(order, items, changes, "fulfil")
        _audit(session, actor, "order.fulfilled", order, changes)
        await session.commit()
        detail = await detail_of(session, order)
    if data.notify_customer:
        await _send(runtime.mailer, emails.order_shipped(order, items, fulfillment, store))
    return detail
