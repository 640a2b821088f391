"""Reading and writing ``shipping_rates`` with asyncpg, always for an explicit store.

Every function takes a connection inside a store-scoped transaction (Row Level Security already limits it to that
store) and filters on ``store_id`` as well, so a query never relies on one layer alone.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from tenantcommerce.db.base import new_id
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound

from tenantcommerce_shipping_rates.rates import Rate, RateInput, RateUpdate, checked, input_of, updated

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

DEFAULT_RATE_NAME = "Standard shipping"

_COLUMNS = (
    "id, name, kind, countries, band_min, band_max, amount_minor, free_over_minor, estimated_days, active, "
    "position, created_at, updated_at"
)
_ORDER = "position, amount_minor, name, id"


def _rate(row: asyncpg.Record, currency: str) -> Rate:
    return Rate(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        countries=list(row["countries"]),
        band_min=row["band_min"],
        band_max=row["band_max"],
        amount_minor=row["amount_minor"],
        free_over_minor=row["free_over_minor"],
        estimated_days=row["estimated_days"],
        active=row["active"],
        position=row["position"],
        currency=currency,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _values(data: RateInput) -> tuple[Any, ...]:
    return (
        data.name,
        data.kind,
        data.countries,
        data.band_min,
        data.band_max,
        data.amount_minor,
        data.free_over_minor,
        data.estimated_days,
        data.active,
        data.position,
    )


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f"a shipping rate named {name!r} already exists in this store: choose another name",
        errors=[FieldError("name", "already used by another rate of this store")],
    )


def _refused(exc: asyncpg.CheckViolationError) -> BusinessRuleError:
    # The rules of rates.checked() run first; this only answers if the two ever disagree.
    return BusinessRuleError(
        f"the shipping rate breaks a rule of the table ({exc.constraint_name})",
        errors=[FieldError("body", f"violates {exc.constraint_name}")],
    )


async def list_rates(
    conn: Connection, store_id: UUID, currency: str, *, active: bool | None, limit: int, offset: int
) -> tuple[list[Rate], int]:
    """One page of the store's rates (by position, amount, name) and their total."""
    total = await conn.fetchval(
        "SELECT count(*) FROM shipping_rates WHERE store_id = $1 AND ($2::boolean IS NULL OR active = $2)",
        store_id,
        active,
    )
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM shipping_rates WHERE store_id = $1 AND ($2::boolean IS NULL OR active = $2) "
        f"ORDER BY {_ORDER} LIMIT $3 OFFSET $4",
        store_id,
        active,
        limit,
        offset,
    )
    return [_rate(row, currency) for row in rows], int(total)


async def get_rate(conn: Connection, store_id: UUID, rate_id: UUID, currency: str, *, lock: bool = False) -> Rate:
    """The rate ``rate_id`` of the store (``lock``: for update).

    Raises:
        NotFound: no such rate in this store.
    """
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM shipping_rates WHERE store_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        store_id,
        rate_id,
    )
    if row is None:
        raise NotFound(f"no shipping rate {rate_id} in this store")
    return _rate(row, currency)


async def create_rate(conn: Connection, store_id: UUID, data: RateInput, currency: str) -> Rate:
    """Add a rate to the store.

    Raises:
        BusinessRuleError: 422, the rate breaks a rule.
        Conflict: 409, the store has a rate of that name.
    """
    data = checked(data)
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO shipping_rates (store_id, id, name, kind, countries, band_min, band_max, amount_minor,
                                        free_over_minor, estimated_days, active, position)
            VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9, $10, $11, $12)
            RETURNING {_COLUMNS}
            """,
            store_id,
            new_id(),
            *_values(data),
        )
    except asyncpg.UniqueViolationError:
        raise _duplicate(data.name) from None
    except asyncpg.CheckViolationError as exc:
        raise _refused(exc) from None
    assert row is not None
    return _rate(row, currency)


async def update_rate(conn: Connection, store_id: UUID, rate_id: UUID, update: RateUpdate, currency: str) -> Rate:
    """Change a rate; the result must follow the rules of a new rate.

    Raises:
        NotFound: no such rate in this store.
        BusinessRuleError: 422, the changed rate breaks a rule.
        Conflict: 409, another rate of the store has the new name.
    """
    current = await get_rate(conn, store_id, rate_id, currency, lock=True)
    data = checked(updated(input_of(current), update))
    if data == input_of(current):
        return current  # nothing changes: keep updated_at
    try:
        row = await conn.fetchrow(
            f"""
            UPDATE shipping_rates SET name = $3, kind = $4, countries = $5::text[], band_min = $6, band_max = $7,
                   amount_minor = $8, free_over_minor = $9, estimated_days = $10, active = $11, position = $12,
                   updated_at = now()
            WHERE store_id = $1 AND id = $2
            RETURNING {_COLUMNS}
            """,
            store_id,
            rate_id,
            *_values(data),
        )
    except asyncpg.UniqueViolationError:
        raise _duplicate(data.name) from None
    except asyncpg.CheckViolationError as exc:
        raise _refused(exc) from None
    assert row is not None
    return _rate(row, currency)


async def delete_rate(conn: Connection, store_id: UUID, rate_id: UUID) -> None:
    """Remove a rate.

    Raises:
        NotFound: no such rate in this store.
    """
    deleted = await conn.fetchval(
        "DELETE FROM shipping_rates WHERE store_id = $1 AND id = $2 RETURNING id", store_id, rate_id
    )
    if deleted is None:
        raise NotFound(f"no shipping rate {rate_id} in this store")


async def active_rates(conn: Connection, store_id: UUID, currency: str) -> list[Rate]:
    """The store's active rates, by position, amount and name (what the carrier quotes from)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM shipping_rates WHERE store_id = $1 AND active ORDER BY {_ORDER}", store_id
    )
    return [_rate(row, currency) for row in rows]


async def count_active_rates(conn: Connection, store_id: UUID) -> int:
    """How many active rates the store has."""
    return int(await conn.fetchval("SELECT count(*) FROM shipping_rates WHERE store_id = $1 AND active", store_id))


async def seed_default_rate(conn: Connection, store_id: UUID) -> bool:
    """Add the free flat rate :data:`DEFAULT_RATE_NAME` if the store has no rate at all.

    Safe to run twice, even at once: the unique name makes a second insert a no-op.

    Returns:
        Whether a rate was added.
    """
    added = await conn.fetchval(
        """
        INSERT INTO shipping_rates (store_id, id, name, kind, amount_minor)
        SELECT $1, $2, $3, 'flat', 0
        WHERE NOT EXISTS (SELECT 1 FROM shipping_rates WHERE store_id = $1)
        ON CONFLICT (store_id, name) DO NOTHING
        RETURNING id
        """,
        store_id,
        new_id(),
        DEFAULT_RATE_NAME,
    )
    return added is not None
