"""Tenant table ``inventory_adjustments``: every change of stock on hand, with its reason (the history)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String
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
