"""Tenant tables of stock: ``inventory_adjustments`` (the history of stock on hand) and ``inventory_reservations``.

A variant's ``reserved`` column is the sum of its reservations' quantities; the check ``reserved <= inventory`` on
``product_variants`` is the database's own guard against overselling.
"""

from __future__ import annotations

import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped


class InventoryAdjustment(StoreScoped, CreatedAt, Base):
    """A change of one variant's stock on hand by ``delta`` (negative removes), leaving ``inventory_after``."""

    __tablename__ = "inventory_adjustments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "variant_id"], ["product_variants.store_id", "product_variants.id"], ondelete="CASCADE"
        ),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        CheckConstraint("inventory_after >= 0", name="inventory_after_not_negative"),
        Index(None, "store_id", "variant_id"),
    )

    variant_id: Mapped[UUID]
    delta: Mapped[int]
    inventory_after: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    actor_user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class InventoryReservation(StoreScoped, CreatedAt, Base):
    """``qty`` of a variant held for a checkout until ``expires_at``; deleted when released or sold."""

    __tablename__ = "inventory_reservations"
    __table_args__ = (
        UniqueConstraint("store_id", "checkout_id", "variant_id"),
        ForeignKeyConstraint(
            ["store_id", "variant_id"], ["product_variants.store_id", "product_variants.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["store_id", "checkout_id"], ["checkouts.store_id", "checkouts.id"], ondelete="CASCADE"),
        CheckConstraint("qty > 0", name="qty_positive"),
        Index(None, "store_id", "variant_id"),
        Index(None, "store_id", "expires_at"),
    )

    variant_id: Mapped[UUID]
    checkout_id: Mapped[UUID]
    qty: Mapped[int]
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
