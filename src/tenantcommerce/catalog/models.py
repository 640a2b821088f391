"""Tenant tables of the catalog: ``products`` and ``product_variants``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, StoreScoped, Timestamped

PRODUCT_STATUSES = ("draft", "active", "archived")


class Product(StoreScoped, Timestamped, Base):
    """A product of one store; shoppers see it when ``status`` is ``active``."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("store_id", "slug"),
        CheckConstraint("status IN ('draft', 'active', 'archived')", name="status"),
        CheckConstraint("slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name="slug_format"),
        Index(None, "store_id", "status"),
    )

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")


class ProductVariant(StoreScoped, Timestamped, Base):
    """A purchasable variant: its own SKU, price (minor units, in the store's currency), stock on hand and reserved."""

    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("store_id", "sku"),
        ForeignKeyConstraint(["store_id", "product_id"], ["products.store_id", "products.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["store_id", "currency"], ["stores.id", "stores.currency"]),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("inventory >= 0", name="inventory_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= inventory", name="reserved_within_inventory"),
        Index(None, "store_id", "product_id", "position"),
        Index(None, "store_id", "currency"),
    )

    product_id: Mapped[UUID]
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="Default", server_default="Default")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    inventory: Mapped[int] = mapped_column(default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(default=0, server_default="0")
    """Held by checkouts' reservations; ``inventory - reserved`` is available to sell."""
    weight_grams: Mapped[int | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
