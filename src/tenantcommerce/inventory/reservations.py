"""Stock reservations: a completed checkout holds its quantities until it is paid, released, or expires.

Reserving is one conditional update per variant, ``reserved = reserved + qty WHERE inventory - reserved >= qty``,
taken in variant-id order so concurrent multi-line checkouts lock rows in the same order and never deadlock. A
variant row is locked from its update to the commit, so no interleaving can hold more than exists; the check
``reserved <= inventory`` on ``product_variants`` would refuse it anyway.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import text

from tenantcommerce.db.base import new_id
from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_HOLD = text(
    "UPDATE product_variants SET reserved = reserved + :qty "
    "WHERE store_id = :store AND id = :variant AND inventory - reserved >= :qty RETURNING id"
)
_AVAILABLE = text(
    "SELECT id, greatest(inventory - reserved, 0) AS available FROM product_variants "
    "WHERE store_id = :store AND id = ANY(:ids)"
)
_ADD_RESERVATION = text(
    "INSERT INTO inventory_reservations (store_id, id, variant_id, checkout_id, qty, expires_at) "
    "VALUES (:store, :id, :variant, :checkout, :qty, :expires_at)"
)
_TAKE_RESERVATIONS = text(
    "DELETE FROM inventory_reservations WHERE store_id = :store AND checkout_id = :checkout RETURNING variant_id, qty"
)
_UNHOLD = text("UPDATE product_variants SET reserved = reserved - :qty WHERE store_id = :store AND id = :variant")
_SELL = text(
    "UPDATE product_variants SET inventory = inventory - :qty, reserved = reserved - :qty "
    "WHERE store_id = :store AND id = :variant RETURNING inventory"
)
_SELL_UNRESERVED = text(
    "UPDATE product_variants SET inventory = inventory - :qty "
    "WHERE store_id = :store AND id = :variant AND inventory - reserved >= :qty RETURNING inventory"
)
_HISTORY = text(
    "INSERT INTO inventory_adjustments (store_id, id, variant_id, delta, inventory_after, reason, created_at) "
    "VALUES (:store, :id, :variant, :delta, :after, :reason, now())"
)


class OutOfStock(BusinessRuleError):
    """Some lines cannot be had in the quantity asked (422, one error per line naming what is available)."""


def _merged(lines: Iterable[tuple[UUID, int]]) -> list[tuple[UUID, int]]:
    totals: dict[UUID, int] = {}
    for variant_id, qty in lines:
        totals[variant_id] = totals.get(variant_id, 0) + qty
    return sorted(totals.items())


async def _out_of_stock(session: AsyncSession, wanted: dict[UUID, int], short: list[UUID]) -> OutOfStock:
    rows = await session.execute(_AVAILABLE, {"store": current_store().id, "ids": short})
    available = {row.id: row.available for row in rows}
    return OutOfStock(
        "not enough stock for: "
        + ", ".join(f"{variant} (asked {wanted[variant]}, available {available.get(variant, 0)})" for variant in short),
        errors=[FieldError(f"lines.{variant}", f"only {available.get(variant, 0)} available") for variant in short],
    )


async def reserve(
    session: AsyncSession, checkout_id: UUID, lines: Iterable[tuple[UUID, int]], expires_at: datetime.datetime
) -> None:
    """Hold ``(variant_id, qty)`` lines for a checkout until ``expires_at``, all or nothing.

    Raises:
        OutOfStock: a line cannot be held; the caller must roll back (earlier lines were held in this transaction).
    """
    store_id = current_store().id
    wanted = _merged(lines)
    for variant_id, qty in wanted:
        held = await session.execute(_HOLD, {"store": store_id, "variant": variant_id, "qty": qty})
        if held.first() is None:
            raise await _out_of_stock(session, dict(wanted), [variant_id])
    for variant_id, qty in wanted:
        await session.execute(
            _ADD_RESERVATION,
            {
                "store": store_id,
                "id": new_id(),
                "variant": variant_id,
                "checkout": checkout_id,
                "qty": qty,
                "expires_at": expires_at,
            },
        )


async def release(session: AsyncSession, checkout_id: UUID) -> list[tuple[UUID, int]]:
    """Give a checkout's held stock back (its reservations are deleted); what was released."""
    store_id = current_store().id
    taken = _merged(
        (row.variant_id, row.qty)
        for row in await session.execute(_TAKE_RESERVATIONS, {"store": store_id, "checkout": checkout_id})
    )
    for variant_id, qty in taken:
        await session.execute(_UNHOLD, {"store": store_id, "variant": variant_id, "qty": qty})
    return taken


async def sell(
    session: AsyncSession, checkout_id: UUID, lines: Iterable[tuple[UUID, int]]
) -> list[tuple[UUID, int, int]]:
    """Turn a checkout's reservation into a stock decrement; ``(variant_id, qty, inventory_after)`` per variant, for
    :func:`record_sales`.

    When the reservation is gone (it expired and was released), the stock is taken again if it is available.

    Raises:
        OutOfStock: the reservation was gone and the stock no longer suffices.
    """
    store_id = current_store().id
    wanted = _merged(lines)
    asked = dict(wanted)
    reserved = dict(
        _merged(
            (row.variant_id, row.qty)
            for row in await session.execute(_TAKE_RESERVATIONS, {"store": store_id, "checkout": checkout_id})
        )
    )
    sales: list[tuple[UUID, int, int]] = []
    for variant_id, qty in wanted:
        held = min(reserved.get(variant_id, 0), qty)
        if held:
            after = await session.scalar(_SELL, {"store": store_id, "variant": variant_id, "qty": held})
        if qty > held:
            after = await session.scalar(
                _SELL_UNRESERVED, {"store": store_id, "variant": variant_id, "qty": qty - held}
            )
            if after is None:
                raise await _out_of_stock(session, asked, [variant_id])
        sales.append((variant_id, qty, after))
    for variant_id, qty in reserved.items():
        extra = qty - asked.get(variant_id, 0)
        if extra > 0:
            await session.execute(_UNHOLD, {"store": store_id, "variant": variant_id, "qty": extra})
    return sales


async def record_sales(session: AsyncSession, sales: Iterable[tuple[UUID, int, int]], *, reason: str) -> None:
    """One stock-history entry per sold variant (``reason`` names the order)."""
    store_id = current_store().id
    for variant_id, qty, after in sales:
        await session.execute(
            _HISTORY,
            {"store": store_id, "id": new_id(), "variant": variant_id, "delta": -qty, "after": after, "reason": reason},
        )
