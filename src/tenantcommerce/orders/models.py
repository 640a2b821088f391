"""Tenant tables ``orders`` and ``order_items``.

An order carries typed amounts in minor units and three separate statuses, so it can be fulfilled and partially
refunded at once.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped, Timestamped

ORDER_STATUSES = ("open", "completed", "cancelled")
PAYMENT_STATUSES = ("pending", "authorized", "paid", "partially_refunded", "refunded", "failed", "voided")
FULFILLMENT_STATUSES = ("unfulfilled", "partially_fulfilled", "fulfilled", "returned")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Order(StoreScoped, Timestamped, Base):
    """A placed order with its per-store number (#1001, #1002, ...)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "order_number"),
        UniqueConstraint("store_id", "checkout_id"),
        ForeignKeyConstraint(
            ["store_id", "checkout_id"], ["checkouts.store_id", "checkouts.id"], ondelete="SET NULL (checkout_id)"
        ),
        ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["store_customers.store_id", "store_customers.id"],
            ondelete="SET NULL (customer_id)",
        ),
        CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
        CheckConstraint(_one_of("payment_status", PAYMENT_STATUSES), name="payment_status"),
        CheckConstraint(_one_of("fulfillment_status", FULFILLMENT_STATUSES), name="fulfillment_status"),
        CheckConstraint(
            "subtotal_minor >= 0 AND discount_minor >= 0 AND shipping_minor >= 0 AND tax_minor >= 0 "
            "AND total_minor >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        Index(None, "store_id", Column("created_at").desc()),
        Index(None, "store_id", "customer_id"),
        Index(None, "store_id", "email"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= total_minor", name="refunded_within_total"),
    )

    checkout_id: Mapped[UUID | None]
    """The checkout this order came from: one order per checkout, whatever retries or webhooks say."""
    customer_id: Mapped[UUID | None]
    order_number: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    payment_status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    fulfillment_status: Mapped[str] = mapped_column(String(20), default="unfulfilled", server_default="unfulfilled")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_address: Mapped[dict[str, Any] | None]
    billing_address: Mapped[dict[str, Any] | None]
    placed_at: Mapped[datetime.datetime | None]
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    payment_method: Mapped[str | None] = mapped_column(String(100))
    shipping_choice: Mapped[dict[str, Any] | None]
    discount_code: Mapped[str | None] = mapped_column(String(50))
    tax_breakdown: Mapped[dict[str, Any] | None]
    cancelled_at: Mapped[datetime.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))
    """Problems a merchant must look at (e.g. a payment that arrived after the stock was gone)."""


class OrderItem(StoreScoped, CreatedAt, Base):
    """One line of an order, with the price it was sold at."""

    __tablename__ = "order_items"
    __table_args__ = (
        ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["store_id", "product_id"], ["products.store_id", "products.id"]),
        ForeignKeyConstraint(["store_id", "variant_id"], ["product_variants.store_id", "product_variants.id"]),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("unit_price_minor >= 0 AND total_price_minor >= 0", name="prices_not_negative"),
        CheckConstraint("fulfilled_qty >= 0 AND fulfilled_qty <= qty", name="fulfilled_within_qty"),
        CheckConstraint("restocked_qty >= 0 AND restocked_qty <= qty", name="restocked_within_qty"),
        Index(None, "store_id", "order_id"),
        Index(None, "store_id", "product_id"),
        Index(None, "store_id", "variant_id"),
    )

    order_id: Mapped[UUID]
    product_id: Mapped[UUID]
    variant_id: Mapped[UUID]
    sku: Mapped[str] = mapped_column(String(100))
    product_name: Mapped[str] = mapped_column(String(200))
    variant_title: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    total_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fulfilled_qty: Mapped[int] = mapped_column(default=0, server_default="0")
    restocked_qty: Mapped[int] = mapped_column(default=0, server_default="0")


class OrderCounter(StoreScoped, Base):
    """The store's last order number: the next order takes ``last_number + 1`` (the first is 1001)."""

    __tablename__ = "order_counters"
    __table_args__ = (UniqueConstraint("store_id"),)

    last_number: Mapped[int] = mapped_column(BigInteger)


class Fulfillment(StoreScoped, CreatedAt, Base):
    """A shipment of some of an order's lines, with the carrier's tracking."""

    __tablename__ = "fulfillments"
    __table_args__ = (
        ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE"),
        Index(None, "store_id", "order_id"),
    )

    order_id: Mapped[UUID]
    lines: Mapped[list[Any]]
    """``[{"order_item_id": ..., "qty": ...}]``."""
    carrier_id: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(200))
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    label_url: Mapped[str | None] = mapped_column(String(2000))
    actor_user_id: Mapped[UUID | None]


REFUND_STATUSES = ("pending", "succeeded", "failed")


class Refund(StoreScoped, CreatedAt, Base):
    """Money given back through the order's gateway, all or part; optionally restocking lines."""

    __tablename__ = "refunds"
    __table_args__ = (
        ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["store_id", "payment_id"], ["payments.store_id", "payments.id"]),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(_one_of("status", REFUND_STATUSES), name="status"),
        Index(None, "store_id", "order_id"),
        Index(None, "store_id", "payment_id"),
    )

    order_id: Mapped[UUID]
    payment_id: Mapped[UUID]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    refund_ref: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(500))
    lines: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))
    """Lines put back in stock: ``[{"order_item_id": ..., "qty": ...}]``."""
    actor_user_id: Mapped[UUID | None]
