"""Counting a discount's uses, the way stock is reserved: a completed checkout claims one use with a conditional
update (so ``usage_limit`` holds under any concurrency), the order records its redemption, and a checkout that is
released or expires gives its use back."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from tenantcommerce.discounts.models import Discount, DiscountRedemption
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_FIELD = "discount_code"


async def claim(session: AsyncSession, discount_id: UUID, *, now: datetime.datetime) -> None:
    """Count one use now, atomically; does not commit.

    One conditional ``UPDATE`` raises ``times_used`` only while the discount is active, within its dates and under its
    limit; concurrent transactions queue on the row and re-check the condition.

    Raises:
        BusinessRuleError: 422 naming ``discount_code``: used up, or no longer valid (inactive, dates, deleted).
    """
    counted = await session.execute(
        update(Discount)
        .where(
            Discount.id == discount_id,
            Discount.active.is_(True),
            or_(Discount.usage_limit.is_(None), Discount.times_used < Discount.usage_limit),
            or_(Discount.starts_at.is_(None), Discount.starts_at <= now),
            or_(Discount.ends_at.is_(None), Discount.ends_at > now),
        )
        .values(times_used=Discount.times_used + 1, updated_at=now)
        .returning(Discount.id)
        .execution_options(synchronize_session="fetch")
    )
    if counted.scalar_one_or_none() is not None:
        return
    row = (
        await session.execute(
            select(Discount.code, Discount.usage_limit, Discount.times_used).where(Discount.id == discount_id)
        )
    ).one_or_none()
    if row is not None and row.usage_limit is not None and row.times_used >= row.usage_limit:
        raise BusinessRuleError(
            f"the discount code {row.code} has been used up: remove it",
            errors=[FieldError(_FIELD, "has been used up")],
        )
    raise BusinessRuleError(
        "this discount code is no longer valid: remove it", errors=[FieldError(_FIELD, "is no longer valid")]
    )


async def give_back(session: AsyncSession, discount_id: UUID) -> None:
    """Undo a :func:`claim` of a checkout that will not become an order."""
    await session.execute(
        update(Discount)
        .where(Discount.id == discount_id, Discount.times_used > 0)
        .values(times_used=Discount.times_used - 1)
        .execution_options(synchronize_session="fetch")
    )


async def count_paid_use(session: AsyncSession, discount_id: UUID) -> None:
    """Count a use whose claim was given back but which was paid after all (a payment that arrived after its
    checkout's hold expired). Counted even past the usage limit or the end date: the customer paid the discounted
    price."""
    await session.execute(
        update(Discount)
        .where(Discount.id == discount_id)
        .values(times_used=Discount.times_used + 1)
        .execution_options(synchronize_session="fetch")
    )


async def record(session: AsyncSession, discount_id: UUID, *, order_id: UUID, amount_minor: int) -> None:
    """Record the claimed use against the order that made it; does not commit.

    Raises:
        Conflict: the order has already redeemed a discount.
    """
    if amount_minor < 0:
        raise ValueError("amount_minor must not be negative")
    session.add(DiscountRedemption(discount_id=discount_id, order_id=order_id, amount_minor=amount_minor))
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_discount_redemptions_store_id_order_id" in str(exc.orig):
            raise Conflict(
                "this order has already redeemed a discount", errors=[FieldError(_FIELD, "already used")]
            ) from None
        raise
