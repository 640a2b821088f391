"""Request and response Structs of the orders API (admin and storefront), and the converters from the models.

Amounts are integers of minor units (``*_minor``) in the order's ``currency``. The storefront's views name an order by
its number and show no internal ids.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar, cast
from uuid import UUID

import msgspec

from tenantcommerce.fields import NO_NUL, Email, Text100, Text200
from tenantcommerce.orders.models import Fulfillment, Order, OrderItem, Refund
from tenantcommerce.orders.states import FulfillmentStatus, LineCounts, OrderStatus, PaymentStatus
from tenantcommerce.payments.models import Payment

Quantity = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=NO_NUL)]
Url = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^https?://[^\s\x00]+$", description="An http(s) URL.")]
OrderNumber = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
AmountMinor = Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)]
RefundStatus = Literal["pending", "succeeded", "failed"]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=NO_NUL)]

T = TypeVar("T")


def given(value: T | msgspec.UnsetType) -> T | None:
    """An optional input field's value, ``None`` when it was left out."""
    return None if isinstance(value, msgspec.UnsetType) else value


# --- requests -------------------------------------------------------------------------------------------------------


class LineInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Some of one order line."""

    order_item_id: UUID
    qty: Quantity


Lines = Annotated[list[LineInput], msgspec.Meta(min_length=1, max_length=500)]


class FulfillmentInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ship lines of an order.

    Attributes:
        lines: what ships; omitted: everything still waiting.
        tracking_number: the carrier's tracking number (when shipping by hand).
        tracking_url: where the customer follows the parcel.
        carrier_id: who carries it (default: the carrier of the order's shipping choice).
        buy_label: buy the label from the order's carrier (its tracking replaces the given one).
        notify_customer: send the shipping e-mail.
    """

    lines: Lines | msgspec.UnsetType = msgspec.UNSET
    tracking_number: Text200 | msgspec.UnsetType = msgspec.UNSET
    tracking_url: Url | msgspec.UnsetType = msgspec.UNSET
    carrier_id: Text100 | msgspec.UnsetType = msgspec.UNSET
    buy_label: bool = False
    notify_customer: bool = True


class CancelInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Cancel an order (why, kept on the order and in the audit log)."""

    reason: Reason | msgspec.UnsetType = msgspec.UNSET


class RefundInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Give money back through the order's gateway, all or part, optionally putting lines back in stock.

    Attributes:
        amount_minor: how much, at most what is paid and not yet refunded.
        reason: kept with the refund.
        restock: lines put back in stock (items still waiting to ship first, then returned ones).
    """

    amount_minor: AmountMinor
    reason: Reason | msgspec.UnsetType = msgspec.UNSET
    restock: Lines | msgspec.UnsetType = msgspec.UNSET


class ConfirmPaymentInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The money of a payment that settles later has arrived (its amount and currency are the payment's)."""

    note: Note | msgspec.UnsetType = msgspec.UNSET


class LookupInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A guest looks up an order by its number and the e-mail address it was placed with."""

    order_number: OrderNumber
    email: Email


# --- admin answers --------------------------------------------------------------------------------------------------


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One order in a list."""

    id: UUID
    order_number: int
    email: str
    customer_id: UUID | None
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    total_minor: int
    refunded_minor: int
    item_count: int
    placed_at: datetime.datetime | None
    created_at: datetime.datetime


class OrderItemOut(msgspec.Struct, frozen=True, kw_only=True):
    """A line of an order: what was sold at what price, how much shipped, how much went back to stock."""

    id: UUID
    product_id: UUID
    variant_id: UUID
    sku: str
    product_name: str
    variant_title: str
    qty: int
    unit_price_minor: int
    total_price_minor: int
    discount_minor: int
    tax_minor: int
    fulfilled_qty: int
    restocked_qty: int
    waiting_qty: int
    """Still to ship."""


class PaymentOut(msgspec.Struct, frozen=True, kw_only=True):
    """A payment of the order through a gateway (``method``)."""

    id: UUID
    method: str
    status: str
    amount_minor: int
    refunded_minor: int
    currency: str
    transaction_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class LineOut(msgspec.Struct, frozen=True):
    """Some of one order line."""

    order_item_id: UUID
    qty: int


class FulfillmentOut(msgspec.Struct, frozen=True, kw_only=True):
    """A shipment."""

    id: UUID
    lines: list[LineOut]
    carrier_id: str | None
    tracking_number: str | None
    tracking_url: str | None
    label_url: str | None
    actor_user_id: UUID | None
    created_at: datetime.datetime


class RefundOut(msgspec.Struct, frozen=True, kw_only=True):
    """Money given back: ``pending`` until the gateway confirms it, then ``succeeded`` or ``failed``."""

    id: UUID
    payment_id: UUID
    amount_minor: int
    currency: str
    status: RefundStatus
    refund_ref: str | None
    reason: str | None
    lines: list[LineOut]
    """Lines put back in stock."""
    actor_user_id: UUID | None
    created_at: datetime.datetime


class OrderDetail(msgspec.Struct, frozen=True, kw_only=True):
    """An order with its items, payments, fulfilments and refunds."""

    id: UUID
    order_number: int
    checkout_id: UUID | None
    customer_id: UUID | None
    email: str
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    refunded_minor: int
    payment_method: str | None
    shipping_choice: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    discount_code: str | None
    flags: list[Any]
    cancelled_at: datetime.datetime | None
    cancel_reason: str | None
    placed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    items: list[OrderItemOut]
    payments: list[PaymentOut]
    fulfillments: list[FulfillmentOut]
    refunds: list[RefundOut]


# --- storefront answers ---------------------------------------------------------------------------------------------


class CustomerOrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One of the customer's orders in their history."""

    order_number: int
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    total_minor: int
    refunded_minor: int
    item_count: int
    placed_at: datetime.datetime | None


class CustomerOrderItem(msgspec.Struct, frozen=True, kw_only=True):
    """A line as the customer sees it."""

    sku: str
    product_name: str
    variant_title: str
    qty: int
    unit_price_minor: int
    total_price_minor: int
    discount_minor: int
    tax_minor: int
    shipped_qty: int


class ShipmentItem(msgspec.Struct, frozen=True):
    """Some of one line, shipped."""

    sku: str
    qty: int


class CustomerShipment(msgspec.Struct, frozen=True, kw_only=True):
    """A parcel and where to follow it."""

    items: list[ShipmentItem]
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime.datetime


class CustomerOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as its customer (or a guest who knows its number and e-mail) sees it: no internal ids."""

    order_number: int
    email: str
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    refunded_minor: int
    shipping_method: str | None
    shipping_address: dict[str, Any] | None
    items: list[CustomerOrderItem]
    shipments: list[CustomerShipment]
    placed_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None


# --- converters -----------------------------------------------------------------------------------------------------


def counts(item: OrderItem) -> LineCounts:
    """The item's ordered, shipped and restocked quantities."""
    return LineCounts(qty=item.qty, fulfilled_qty=item.fulfilled_qty, restocked_qty=item.restocked_qty)


def lines_out(raw: Sequence[Any]) -> list[LineOut]:
    """Stored ``[{"order_item_id": ..., "qty": ...}]`` as :class:`LineOut`."""
    return msgspec.convert(list(raw), list[LineOut])


def summary_out(order: Order, item_count: int) -> OrderSummary:
    """An order in a list."""
    return OrderSummary(
        id=order.id,
        order_number=order.order_number,
        email=order.email,
        customer_id=order.customer_id,
        status=cast("OrderStatus", order.status),
        payment_status=cast("PaymentStatus", order.payment_status),
        fulfillment_status=cast("FulfillmentStatus", order.fulfillment_status),
        currency=order.currency,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        item_count=item_count,
        placed_at=order.placed_at,
        created_at=order.created_at,
    )


def detail_out(
    order: Order,
    items: Sequence[OrderItem],
    payments: Sequence[Payment],
    fulfillments: Sequence[Fulfillment],
    refunds: Sequence[Refund],
) -> OrderDetail:
    """An order with everything that belongs to it."""
    return OrderDetail(
        id=order.id,
        order_number=order.order_number,
        checkout_id=order.checkout_id,
        customer_id=order.customer_id,
        email=order.email,
        status=cast("OrderStatus", order.status),
        payment_status=cast("PaymentStatus", order.payment_status),
        fulfillment_status=cast("FulfillmentStatus", order.fulfillment_status),
        currency=order.currency,
        subtotal_minor=order.subtotal_minor,
        discount_minor=order.discount_minor,
        shipping_minor=order.shipping_minor,
        tax_minor=order.tax_minor,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        payment_method=order.payment_method,
        shipping_choice=order.shipping_choice,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        discount_code=order.discount_code,
        flags=list(order.flags or []),
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        placed_at=order.placed_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
        items=[
            OrderItemOut(
                id=item.id,
                product_id=item.product_id,
                variant_id=item.variant_id,
                sku=item.sku,
                product_name=item.product_name,
                variant_title=item.variant_title,
                qty=item.qty,
                unit_price_minor=item.unit_price_minor,
                total_price_minor=item.total_price_minor,
                discount_minor=item.discount_minor,
                tax_minor=item.tax_minor,
                fulfilled_qty=item.fulfilled_qty,
                restocked_qty=item.restocked_qty,
                waiting_qty=counts(item).waiting,
            )
            for item in items
        ],
        payments=[
            PaymentOut(
                id=payment.id,
                method=payment.method,
                status=payment.status,
                amount_minor=payment.amount_minor,
                refunded_minor=payment.refunded_minor,
                currency=payment.currency,
                transaction_id=payment.transaction_id,
                created_at=payment.created_at,
                updated_at=payment.updated_at,
            )
            for payment in payments
        ],
        fulfillments=[
            FulfillmentOut(
                id=row.id,
                lines=lines_out(row.lines),
                carrier_id=row.carrier_id,
                tracking_number=row.tracking_number,
                tracking_url=row.tracking_url,
                label_url=row.label_url,
                actor_user_id=row.actor_user_id,
                created_at=row.created_at,
            )
            for row in fulfillments
        ],
        refunds=[
            RefundOut(
                id=row.id,
                payment_id=row.payment_id,
                amount_minor=row.amount_minor,
                currency=row.currency,
                status=cast("RefundStatus", row.status),
                refund_ref=row.refund_ref,
                reason=row.reason,
                lines=lines_out(row.lines),
                actor_user_id=row.actor_user_id,
                created_at=row.created_at,
            )
            for row in refunds
        ],
    )


def customer_summary_out(order: Order, item_count: int) -> CustomerOrderSummary:
    """An order in its customer's history."""
    return CustomerOrderSummary(
        order_number=order.order_number,
        status=cast("OrderStatus", order.status),
        payment_status=cast("PaymentStatus", order.payment_status),
        fulfillment_status=cast("FulfillmentStatus", order.fulfillment_status),
        currency=order.currency,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        item_count=item_count,
        placed_at=order.placed_at,
    )


def customer_order_out(order: Order, items: Sequence[OrderItem], fulfillments: Sequence[Fulfillment]) -> CustomerOrder:
    """An order as its customer sees it."""
    skus = {item.id: item.sku for item in items}
    choice = order.shipping_choice or {}
    return CustomerOrder(
        order_number=order.order_number,
        email=order.email,
        status=cast("OrderStatus", order.status),
        payment_status=cast("PaymentStatus", order.payment_status),
        fulfillment_status=cast("FulfillmentStatus", order.fulfillment_status),
        currency=order.currency,
        subtotal_minor=order.subtotal_minor,
        discount_minor=order.discount_minor,
        shipping_minor=order.shipping_minor,
        tax_minor=order.tax_minor,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        shipping_method=choice.get("name") if isinstance(choice.get("name"), str) else None,
        shipping_address=order.shipping_address,
        items=[
            CustomerOrderItem(
                sku=item.sku,
                product_name=item.product_name,
                variant_title=item.variant_title,
                qty=item.qty,
                unit_price_minor=item.unit_price_minor,
                total_price_minor=item.total_price_minor,
                discount_minor=item.discount_minor,
                tax_minor=item.tax_minor,
                shipped_qty=item.fulfilled_qty,
            )
            for item in items
        ],
        shipments=[
            CustomerShipment(
                items=[ShipmentItem(skus.get(line.order_item_id, ""), line.qty) for line in lines_out(row.lines)],
                tracking_number=row.tracking_number,
                tracking_url=row.tracking_url,
                shipped_at=row.created_at,
            )
            for row in fulfillments
        ],
        placed_at=order.placed_at,
        cancelled_at=order.cancelled_at,
    )
