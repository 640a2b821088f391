"""Tenant table ``checkouts``: a frozen snapshot of a cart with what the customer chose, and where it stands.

``version`` grows with every change, so a payment created for one version is never reused for another; the lines,
addresses and the shipping choice are jsonb snapshots (validated by the msgspec schemas before they are written).
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, StoreScoped, Timestamped

CHECKOUT_STATUSES = ("open", "awaiting_payment", "completed", "expired", "cancelled")


class Checkout(StoreScoped, Timestamped, Base):
    """A checkout of one store."""

    __tablename__ = "checkouts"
    __table_args__ = (
        ForeignKeyConstraint(["store_id", "cart_id"], ["carts.store_id", "carts.id"], ondelete="SET NULL (cart_id)"),
        ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["store_customers.store_id", "store_customers.id"],
            ondelete="SET NULL (customer_id)",
        ),
        ForeignKeyConstraint(
            ["store_id", "discount_id"], ["discounts.store_id", "discounts.id"], ondelete="SET NULL (discount_id)"
        ),
        CheckConstraint("status IN ('open', 'awaiting_payment', 'completed', 'expired', 'cancelled')", name="status"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        Index(None, "store_id", "cart_id"),
        Index(None, "store_id", "customer_id"),
        Index(None, "store_id", "discount_id"),
        Index(None, "store_id", "status", "expires_at"),
    )

    cart_id: Mapped[UUID | None]
    customer_id: Mapped[UUID | None]
    cart_token_hash: Mapped[bytes | None]
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    currency: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    lines: Mapped[list[Any]]
    shipping_address: Mapped[dict[str, Any] | None]
    billing_address: Mapped[dict[str, Any] | None]
    shipping_choice: Mapped[dict[str, Any] | None]
    discount_id: Mapped[UUID | None]
    discount_code: Mapped[str | None] = mapped_column(String(50))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    payment_ref: Mapped[str | None] = mapped_column(String(255))
    payment: Mapped[dict[str, Any] | None]
    totals: Mapped[dict[str, Any] | None]
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[UUID | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict, server_default=text("'{}'::jsonb"))
