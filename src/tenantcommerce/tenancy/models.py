"""Global tables of tenancy: ``stores`` and ``store_domains`` (no RLS; they hold no store data beyond ids)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, Timestamped

STORE_STATUSES = ("active", "suspended")


class Store(Timestamped, Base):
    """A shop. Its ``slug`` names it in paths and subdomains; ``currency`` prices its whole catalog."""

    __tablename__ = "stores"
    __table_args__ = (
        UniqueConstraint("id", "currency"),
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        CheckConstraint("slug ~ '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$'", name="slug_format"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
    )

    owner_user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
    plugins_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """Bumped by a trigger on every change of the store's ``store_plugins`` rows (cache key of its plugin set)."""


class StoreDomain(CreatedAt, Base):
    """A custom domain that serves one store (``shop.acme.com`` -> acme)."""

    __tablename__ = "store_domains"
    __table_args__ = (
        CheckConstraint("domain = lower(domain)", name="domain_lowercase"),
        Index(None, "store_id"),
    )

    store_id: Mapped[UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
