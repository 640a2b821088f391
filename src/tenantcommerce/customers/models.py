"""Tenant table ``store_customers``: a person known to one store, signed up (``user_id``) or a guest."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, StoreScoped, Timestamped


class StoreCustomer(StoreScoped, Timestamped, Base):
    """A customer of one store, identified by e-mail within it."""

    __tablename__ = "store_customers"
    __table_args__ = (
        UniqueConstraint("store_id", "email"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index(None, "store_id", "user_id"),
    )

    user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
