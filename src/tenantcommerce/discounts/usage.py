"""Counting a discount's uses, the way stock is reserved: a completed checkout claims one use with a conditional
update (so ``usage_limit`` holds under any concurrency), the order records its redemption, and a checkout that is
released or expires gives its use back."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import text

from tenantcommerce.db.base import new_id
from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_CLAIM = text(
    "UPDATE discounts SET times_used = times_used + 1, updated_at = now() "
    "WHERE store_id = :store AND id = :id AND active "
    "AND (usage_limit IS NULL OR times_used < usage_limit) "
    "AND (starts_at IS NULL OR starts_at <= :now) AND (ends_at IS NULL OR ends_at > :now) RETURNING id"
)
_GIVE_BACK = text(
    "UPDATE discounts SET times_used = times_used - 1, updated_at = now() "
    "WHERE store_id = :store AND id = :id AND times_used > 0"
)
_RECORD = text(
    "INSERT INTO discount_redemptions (store_id, id, discount_id, order_id, amount_minor, created_at) "
    "VALUES (:store, :id, :discount, :order, :amount, now())"
)


async def claim(session: AsyncSession, discount_id: UUID, *, now: datetime.datetime) -> None:
    """Count one use now.

    Raises:
        BusinessRuleError: the code is used up, inactive or outside its dates (422 naming ``discount_code``).
    """
    claimed = await session.execute(_CLAIM, {"store": current_store().id, "id": discount_id, "now": now})
    if claimed.first() is None:
        raise BusinessRuleError(
            "this discount code can no longer be used",
            errors=[FieldError("discount_code", "has been used up or is no longer valid")],
        )


async def give_back(session: AsyncSession, discount_id: UUID) -> None:
    """Undo a :func:`claim` of a checkout that will not become an order."""
    await session.execute(_GIVE_BACK, {"store": current_store().id, "id": discount_id})


async def record(session: AsyncSession, discount_id: UUID, *, order_id: UUID, amount_minor: int) -> None:
    """Record the claimed use against the order that made it."""
    await session.execute(
        _RECORD,
        {
            "store": current_store().id,
            "id": new_id(),
            "discount": discount_id,
            "order": order_id,
            "amount": amount_minor,
        },
    )
