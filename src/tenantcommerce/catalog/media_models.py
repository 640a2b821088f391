"""Tenant table ``product_media``: images of a product (and optionally of one of its variants)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped

MEDIA_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


class ProductMedia(StoreScoped, CreatedAt, Base):
    """An image stored through the media storage under ``storage_key``."""

    __tablename__ = "product_media"
    __table_args__ = (
        UniqueConstraint("store_id", "storage_key"),
        ForeignKeyConstraint(["store_id", "product_id"], ["products.store_id", "products.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["store_id", "variant_id"], ["product_variants.store_id", "product_variants.id"], ondelete="CASCADE"
        ),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')", name="content_type"),
        CheckConstraint("byte_size > 0", name="byte_size_positive"),
        Index(None, "store_id", "product_id", "position"),
        Index(None, "store_id", "variant_id"),
    )

    product_id: Mapped[UUID]
    variant_id: Mapped[UUID | None]
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    position: Mapped[int] = mapped_column(default=0, server_default="0")
