"""What the admin API does with a store's rates: list, read, create, change, delete.

Each function works in the ORM session of the store in context (its transaction sets the store first, so Row Level
Security applies) and also filters on ``store_id``. Every change is written to the store's audit log in the same
transaction, and is all or nothing: a refused change writes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.principal import Principal
from tenantcommerce.db.base import new_id
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound

from tenantcommerce_tax_rates.rates import ORDER, UNIQUE_NAME, tax_rates
from tenantcommerce_tax_rates.schemas import TaxRateInput, TaxRateOut, TaxRateUpdate

AUDIT_TARGET = "tax_rate"
EDITABLE = ("name", "country", "region", "rate_bp", "applies_to_shipping", "tax_code")


def _out(row: sa.RowMapping) -> TaxRateOut:
    return TaxRateOut(**{name: row[name] for name in TaxRateOut.__struct_fields__})


def _audited(rate: TaxRateOut) -> dict[str, Any]:
    return {name: getattr(rate, name) for name in EDITABLE}


def check_region(country: str, region: str | None) -> None:
    """A regional rate's region must lie in its country.

    Raises:
        BusinessRuleError: it does not (422 naming ``region``).
    """
    if region is not None and not region.startswith(f"{country}-"):
        raise BusinessRuleError(
            f"region {region} is not in country {country}: use a code that starts with {country}-, or null for "
            "the whole country",
            errors=[FieldError("region", f"must be a subdivision of {country} (start with {country}-) or null")],
        )


def _conflict(exc: IntegrityError) -> Exception:
    text = str(exc.orig)
    if UNIQUE_NAME in text:
        return Conflict(
            "the store already has a rate of this name for this country and region: rename one of them",
            errors=[FieldError("name", "is taken for this country and region")],
        )
    return BusinessRuleError(f"the change breaks a rule of the tax rates: {text.splitlines()[0]}")


async def list_rates(
    session: AsyncSession, store_id: UUID, *, country: str | None, limit: int, offset: int
) -> tuple[list[TaxRateOut], int]:
    """One page of the store's rates (of ``country`` when given) and how many there are."""
    condition = tax_rates.c.store_id == store_id
    if country is not None:
        condition = sa.and_(condition, tax_rates.c.country == country)
    total = await session.scalar(sa.select(sa.func.count()).select_from(tax_rates).where(condition)) or 0
    rows = await session.execute(sa.select(tax_rates).where(condition).order_by(*ORDER).limit(limit).offset(offset))
    return [_out(row) for row in rows.mappings()], total


async def _get(session: AsyncSession, store_id: UUID, rate_id: UUID, *, for_update: bool = False) -> TaxRateOut:
    query = sa.select(tax_rates).where(tax_rates.c.store_id == store_id, tax_rates.c.id == rate_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one_or_none()
    if row is None:
        raise NotFound("no such tax rate in this store")
    return _out(row)


async def get_rate(session: AsyncSession, store_id: UUID, rate_id: UUID) -> TaxRateOut:
    """One rate of the store.

    Raises:
        NotFound: no such rate, or another store's.
    """
    return await _get(session, store_id, rate_id)


async def create_rate(
    session: AsyncSession,
    store_id: UUID,
    data: TaxRateInput,
    principal: Principal | None,
    *,
    request_id: str | None = None,
) -> TaxRateOut:
    """Add a rate to the store.

    Raises:
        BusinessRuleError: the region is not in the country.
        Conflict: the store has a rate of this name for this country and region.
    """
    check_region(data.country, data.region)
    values = msgspec.structs.asdict(data)
    statement = sa.insert(tax_rates).values(store_id=store_id, id=new_id(), **values).returning(*tax_rates.c)
    try:
        rate = _out((await session.execute(statement)).mappings().one())
        audit(session, principal, "tax_rate.created", AUDIT_TARGET, rate.id, {"rate": _audited(rate)},
              request_id=request_id)  # fmt: skip
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _conflict(exc) from None
    return rate


async def update_rate(
    session: AsyncSession,
    store_id: UUID,
    rate_id: UUID,
    data: TaxRateUpdate,
    principal: Principal | None,
    *,
    request_id: str | None = None,
) -> TaxRateOut:
    """Change a rate of the store (absent fields stay).

    Raises:
        NotFound: no such rate, or another store's.
        BusinessRuleError: the region (new or kept) is not in the country (new or kept).
        Conflict: the new name, country or region clashes with another rate of the store.
    """
    before = await _get(session, store_id, rate_id, for_update=True)
    changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not msgspec.UNSET}
    after = msgspec.structs.replace(before, **changes)
    check_region(after.country, after.region)
    diff = {
        name: {"from": getattr(before, name), "to": getattr(after, name)}
        for name in EDITABLE
        if getattr(before, name) != getattr(after, name)
    }
    if not diff:
        await session.rollback()
        return before
    statement = (
        sa.update(tax_rates)
        .where(tax_rates.c.store_id == store_id, tax_rates.c.id == rate_id)
        .values(**{name: getattr(after, name) for name in diff}, updated_at=sa.func.now())
        .returning(*tax_rates.c)
    )
    try:
        rate = _out((await session.execute(statement)).mappings().one())
        audit(session, principal, "tax_rate.updated", AUDIT_TARGET, rate_id, diff, request_id=request_id)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _conflict(exc) from None
    return rate


async def delete_rate(
    session: AsyncSession,
    store_id: UUID,
    rate_id: UUID,
    principal: Principal | None,
    *,
    request_id: str | None = None,
) -> None:
    """Delete a rate of the store.

    Raises:
        NotFound: no such rate, or another store's.
    """
    statement = (
        sa.delete(tax_rates).where(tax_rates.c.store_id == store_id, tax_rates.c.id == rate_id).returning(*tax_rates.c)
    )
    row = (await session.execute(statement)).mappings().one_or_none()
    if row is None:
        await session.rollback()
        raise NotFound("no such tax rate in this store")
    audit(session, principal, "tax_rate.deleted", AUDIT_TARGET, rate_id, {"rate": _audited(_out(row))},
          request_id=request_id)  # fmt: skip
    await session.commit()
