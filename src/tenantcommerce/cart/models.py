"""Tenant tables ``carts`` and ``cart_items``.

A guest's cart is found by the SHA-256 of its token (the token itself is never stored); a signed-in customer has at
most one open cart per store.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, StoreScoped, Timestamped

CART_STATUSES = ("open", "merged", "checked_out")
MAX_LINE_QUANTITY = 10_000
MAX_CART_LINES = 100


class Cart(StoreScoped, Timestamped, Base):
    """A shopping cart of one store."""

    __tablename__ = "carts"
    __table_args__ = (
        UniqueConstraint("store_id", "token_hash"),
        ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["store_customers.store_id", "store_customers.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("status IN ('open', 'merged', 'checked_out')", name="status"),
        Index(
            "uq_carts_store_id_customer_id_open",
            "store_id",
            "customer_id",
            unique=True,
            postgresql_where=sql("status = 'open' AND customer_id IS NOT NULL"),
        ),
        Index(None, "store_id", "customer_id"),
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    customer_id: Mapped[UUID | None]
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class CartItem(StoreScoped, Timestamped, Base):
    """One variant in a cart; ``unit_price_minor`` is the price the shopper last saw (to tell them what changed)."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("store_id", "cart_id", "variant_id"),
        ForeignKeyConstraint(["store_id", "cart_id"], ["carts.store_id", "carts.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["store_id", "variant_id"], ["product_variants.store_id", "product_variants.id"], ondelete="CASCADE"
        ),
        CheckConstraint(f"qty > 0 AND qty <= {MAX_LINE_QUANTITY}", name="qty_range"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
        Index(None, "store_id", "variant_id"),
    )

    cart_id: Mapped[UUID]
    variant_id: Mapped[UUID]
    qty: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
