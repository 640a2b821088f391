"""The audit log: who changed roles, members, tokens, settings and money, when, and in which request."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped


class AuditEntry(StoreScoped, CreatedAt, Base):
    """One audited change in one store (a tenant table: a store sees only its own entries)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "store_id", Column("created_at").desc()),)

    actor_user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_token_id: Mapped[UUID | None]
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(128))
