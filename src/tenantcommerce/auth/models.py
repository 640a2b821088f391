"""Global identity tables: ``users`` and ``store_members``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, Timestamped

MEMBER_ROLES = ("owner", "admin", "staff", "viewer")


class User(Timestamped, Base):
    """A person; global across stores. Emails are stored lower-case."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    is_operator: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class StoreMember(Timestamped, Base):
    """A user's staff role in one store; ``permissions`` adds or removes single permissions."""

    __tablename__ = "store_members"
    __table_args__ = (
        UniqueConstraint("store_id", "user_id"),
        CheckConstraint("role IN ('owner', 'admin', 'staff', 'viewer')", name="role"),
        Index(None, "user_id"),
    )

    store_id: Mapped[UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    permissions: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
