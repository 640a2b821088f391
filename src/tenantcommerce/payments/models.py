"""Tenant table ``payments``: one row per provider transaction, unique per store."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped, Timestamped

PAYMENT_ROW_STATUSES = (
    "pending",
    "authorized",
    "succeeded",
    "failed",
    "cancelled",
    "refunded",
    "partially_refunded",
)


class Payment(StoreScoped, Timestamped, Base):
    """A payment of an order through one gateway (``method`` is the plugin id)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("store_id", "transaction_id"),
        ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"]),
        CheckConstraint(
            "status IN ('pending', 'authorized', 'succeeded', 'failed', 'cancelled', 'refunded', 'partially_refunded')",
            name="status",
        ),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refunded_within_amount"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        Index(None, "store_id", "order_id"),
    )

    order_id: Mapped[UUID]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30))
    transaction_id: Mapped[str] = mapped_column(String(255))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    gateway_response: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))


PROVIDER_EVENT_OUTCOMES = ("applied", "ignored", "flagged")


class ProviderEvent(StoreScoped, CreatedAt, Base):
    """A payment provider's webhook event, recorded in the transaction that applied it: each event id is processed
    once per store and gateway (``unique(store_id, gateway_id, event_id)``), however often it is delivered."""

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("store_id", "gateway_id", "event_id"),
        CheckConstraint("outcome IN ('applied', 'ignored', 'flagged')", name="outcome"),
        Index(None, "store_id", "payment_ref"),
        Index(None, "store_id", "created_at"),
    )

    gateway_id: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))
    payment_ref: Mapped[str | None] = mapped_column(String(255))
    checkout_id: Mapped[UUID | None]
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(1000))
