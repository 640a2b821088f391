"""Tenant tables ``discounts`` and ``discount_redemptions``.

``times_used`` is raised by one conditional update per order (``times_used < usage_limit``), so a limit holds under
any concurrency; each redemption is also a row, one per order.
"""

from __future__ import annotations

import datetime
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped, Timestamped

DISCOUNT_KINDS = ("percentage", "fixed_amount", "free_shipping")


class Discount(StoreScoped, Timestamped, Base):
    """A code customers enter at checkout.

    ``value`` is basis points for ``percentage`` (1,000 = 10 %), minor units of the store's currency for
    ``fixed_amount``, and 0 for ``free_shipping``.
    """

    __tablename__ = "discounts"
    __table_args__ = (
        UniqueConstraint("store_id", "code"),
        CheckConstraint("kind IN ('percentage', 'fixed_amount', 'free_shipping')", name="kind"),
        CheckConstraint("code ~ '^[A-Z0-9][A-Z0-9_-]{0,49}$'", name="code_format"),
        CheckConstraint(
            "(kind = 'percentage' AND value BETWEEN 1 AND 10000) OR (kind = 'fixed_amount' AND value > 0) "
            "OR (kind = 'free_shipping' AND value = 0)",
            name="value_fits_kind",
        ),
        CheckConstraint("min_subtotal_minor >= 0", name="min_subtotal_not_negative"),
        CheckConstraint("usage_limit IS NULL OR usage_limit > 0", name="usage_limit_positive"),
        CheckConstraint("times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)", name="times_used"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="dates_in_order"),
    )

    code: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[int] = mapped_column(BigInteger)
    min_subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    starts_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    usage_limit: Mapped[int | None]
    times_used: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")


class DiscountRedemption(StoreScoped, CreatedAt, Base):
    """A discount used by one order."""

    __tablename__ = "discount_redemptions"
    __table_args__ = (
        UniqueConstraint("store_id", "order_id"),
        ForeignKeyConstraint(["store_id", "discount_id"], ["discounts.store_id", "discounts.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE"),
        Index(None, "store_id", "discount_id"),
    )

    discount_id: Mapped[UUID]
    order_id: Mapped[UUID]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
