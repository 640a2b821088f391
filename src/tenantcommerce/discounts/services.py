"""Discount codes of the store in context: what the checkout calls, and the admin's create/read/update/delete.

The checkout asks :func:`find_usable` whether a customer may use a code now and prices it with :func:`apply` (pure);
counting uses is :mod:`tenantcommerce.discounts.usage` (claimed with the stock hold, given back with it).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tenantcommerce.auth.audit_log import audit
from tenantcommerce.discounts.models import Discount
from tenantcommerce.discounts.schemas import CODE_PATTERN, DiscountInput, DiscountOut, DiscountUpdate
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, InputError, NotFound
from tenantcommerce.money import Money, round_minor
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal

BASIS_POINTS = 10_000
"""100 % in basis points."""

_CUSTOMER_FIELD = "discount_code"


class AppliedDiscount(msgspec.Struct, frozen=True, kw_only=True):
    """A discount priced for one subtotal."""

    discount_id: UUID
    code: str
    kind: str
    """``percentage``, ``fixed_amount`` or ``free_shipping``."""
    amount_minor: int
    """Taken off the subtotal (0 for ``free_shipping``): never negative, never more than the subtotal."""
    free_shipping: bool


# --- the checkout's side --------------------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """A code as stored: surrounding whitespace stripped, upper case (``" save10 "`` -> ``"SAVE10"``)."""
    return code.strip().upper()


def _refused(detail: str, message: str) -> BusinessRuleError:
    return BusinessRuleError(detail, errors=[FieldError(_CUSTOMER_FIELD, message)])


async def find_usable(session: AsyncSession, code: str, *, subtotal_minor: int, now: datetime.datetime) -> Discount:
    """The store's discount ``code`` if a customer may use it now for this subtotal.

    Args:
        session: a session of the store in context.
        code: the code as the customer typed it (normalised here).
        subtotal_minor: the lines' total, minor units of the store's currency.
        now: the moment of use (timezone-aware).

    Raises:
        BusinessRuleError: 422 naming ``discount_code``: the code is unknown (another store's code answers exactly
            the same), inactive, not started, ended, used up, or the subtotal is below its minimum.
    """
    normalised = normalise_code(code)
    discount = None
    if CODE_PATTERN.fullmatch(normalised):
        discount = await session.scalar(select(Discount).where(Discount.code == normalised))
    if discount is None:
        raise _refused("this discount code is not valid: check it, or remove it", "is not a valid code")
    if not discount.active:
        raise _refused(f"the discount code {discount.code} is no longer active: remove it", "is not active")
    if discount.starts_at is not None and now < discount.starts_at:
        when = discount.starts_at.isoformat()
        raise _refused(f"the discount code {discount.code} can be used from {when}", f"is valid from {when}")
    if discount.ends_at is not None and now >= discount.ends_at:
        when = discount.ends_at.isoformat()
        raise _refused(f"the discount code {discount.code} expired at {when}: remove it", f"expired at {when}")
    if discount.usage_limit is not None and discount.times_used >= discount.usage_limit:
        raise _refused(f"the discount code {discount.code} has been used up: remove it", "has been used up")
    if subtotal_minor < discount.min_subtotal_minor:
        minimum = Money(discount.min_subtotal_minor, current_store().currency).format()
        raise _refused(
            f"the discount code {discount.code} needs a subtotal of at least {minimum}",
            f"needs a subtotal of at least {minimum}",
        )
    return discount


def apply(discount: Discount, subtotal_minor: int) -> AppliedDiscount:
    """Price ``discount`` for ``subtotal_minor`` (pure).

    ``percentage``: ``subtotal * value / 10000`` rounded half-up to a minor unit; ``fixed_amount``: ``value`` but at
    most the subtotal; ``free_shipping``: nothing off the subtotal, ``free_shipping=True``. The amount is never
    negative and never more than the subtotal.
    """
    base = max(subtotal_minor, 0)
    if discount.kind == "percentage":
        amount = round_minor(Decimal(base * discount.value) / BASIS_POINTS)
    elif discount.kind == "fixed_amount":
        amount = discount.value
    else:
        amount = 0
    return AppliedDiscount(
        discount_id=discount.id,
        code=discount.code,
        kind=discount.kind,
        amount_minor=max(0, min(amount, base)),
        free_shipping=discount.kind == "free_shipping",
    )


# --- the admin's side -----------------------------------------------------------------------------------------------


def _out(discount: Discount) -> DiscountOut:
    return DiscountOut(
        id=discount.id,
        code=discount.code,
        kind=discount.kind,
        value=discount.value,
        min_subtotal=Money(discount.min_subtotal_minor, current_store().currency),
        starts_at=discount.starts_at,
        ends_at=discount.ends_at,
        usage_limit=discount.usage_limit,
        times_used=discount.times_used,
        active=discount.active,
        created_at=discount.created_at,
        updated_at=discount.updated_at,
    )


def _valid_code(raw: str) -> str:
    code = normalise_code(raw)
    if not CODE_PATTERN.fullmatch(code):
        message = "1 to 50 letters A-Z, digits, '-' or '_', starting with a letter or a digit"
        raise InputError(f"code must be {message}", errors=[FieldError("code", f"must be {message}")])
    return code


def _check_value(kind: str, value: int | msgspec.UnsetType) -> int:
    """``value`` if it fits ``kind`` (0 for an omitted free-shipping value), else 422 naming ``value``."""
    if kind == "percentage":
        if value is msgspec.UNSET or not 1 <= value <= BASIS_POINTS:
            message = "must be 1 to 10000 basis points (1000 = 10 %)"
            raise BusinessRuleError(f"a percentage discount's value {message}", errors=[FieldError("value", message)])
        return value
    if kind == "fixed_amount":
        if value is msgspec.UNSET or value <= 0:
            message = f"must be more than 0 (minor units of {current_store().currency})"
            raise BusinessRuleError(f"a fixed-amount discount's value {message}", errors=[FieldError("value", message)])
        return value
    if value is not msgspec.UNSET and value != 0:
        message = "must be 0 or omitted"
        raise BusinessRuleError(f"a free-shipping discount's value {message}", errors=[FieldError("value", message)])
    return 0


def _utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    """An instant in UTC (as Postgres answers it), so answers and audit entries show one form."""
    return moment.astimezone(datetime.UTC) if moment is not None else None


def _check_dates(starts_at: datetime.datetime | None, ends_at: datetime.datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise BusinessRuleError(
            "ends_at must be after starts_at", errors=[FieldError("ends_at", "must be after starts_at")]
        )


def _refusal(exc: IntegrityError) -> Exception:
    text = str(exc.orig)
    if "uq_discounts_store_id_code" in text:
        return Conflict("another discount of this store has this code", errors=[FieldError("code", "is taken")])
    if "ck_discounts_times_used" in text:
        return BusinessRuleError(
            "usage_limit cannot be below the uses so far", errors=[FieldError("usage_limit", "below times_used")]
        )
    return BusinessRuleError(f"the change breaks a rule of discounts: {text.splitlines()[0]}")


async def _locked(session: AsyncSession, discount_id: UUID) -> Discount:
    """The store's discount, locked until the transaction ends (a concurrent redemption waits for it)."""
    discount = await session.scalar(
        select(Discount).where(Discount.id == discount_id).with_for_update().execution_options(populate_existing=True)
    )
    if discount is None:
        raise NotFound("no such discount in this store")
    return discount


async def list_discounts(
    session: AsyncSession, *, active: bool | None, q: str | None, limit: int, offset: int
) -> tuple[list[DiscountOut], int]:
    """The store's discounts, newest first, filtered by ``active`` and a part of the code; one page and the total."""
    query = select(Discount)
    if active is not None:
        query = query.where(Discount.active.is_(active))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Discount.code.ilike(pattern))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Discount.created_at.desc(), Discount.id.desc()).limit(limit).offset(offset)
    )
    return [_out(row) for row in rows], total


async def get_discount(session: AsyncSession, discount_id: UUID) -> DiscountOut:
    """One discount of the store (another store's answers 404)."""
    discount = await session.scalar(select(Discount).where(Discount.id == discount_id))
    if discount is None:
        raise NotFound("no such discount in this store")
    return _out(discount)


async def create_discount(
    session: AsyncSession, data: DiscountInput, principal: Principal | None, *, request_id: str | None
) -> DiscountOut:
    """Create a discount (audited as ``discount.created``)."""
    code = _valid_code(data.code)
    value = _check_value(data.kind, data.value)
    _check_dates(data.starts_at, data.ends_at)
    discount = Discount(
        code=code,
        kind=data.kind,
        value=value,
        min_subtotal_minor=data.min_subtotal_minor,
        starts_at=_utc(data.starts_at),
        ends_at=_utc(data.ends_at),
        usage_limit=data.usage_limit,
        times_used=0,
        active=data.active,
    )
    session.add(discount)
    try:
        await session.flush()
        audit(session, principal, "discount.created", "discount", discount.id, _described(discount),
              request_id=request_id)  # fmt: skip
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _refusal(exc) from None
    return _out(discount)


_UPDATABLE = ("code", "value", "min_subtotal_minor", "starts_at", "ends_at", "usage_limit", "active")


def _described(discount: Discount) -> dict[str, Any]:
    return {name: getattr(discount, name) for name in ("code", "kind", *_UPDATABLE[1:])}


async def update_discount(
    session: AsyncSession,
    discount_id: UUID,
    data: DiscountUpdate,
    principal: Principal | None,
    *,
    request_id: str | None,
) -> DiscountOut:
    """Change a discount (audited as ``discount.updated`` with each field's ``from`` and ``to``); ``kind`` stays."""
    code = _valid_code(data.code) if data.code is not msgspec.UNSET else msgspec.UNSET
    discount = await _locked(session, discount_id)
    if data.kind is not msgspec.UNSET and data.kind != discount.kind:
        message = f"cannot change once created (it is {discount.kind}): create a new discount instead"
        raise BusinessRuleError(f"kind {message}", errors=[FieldError("kind", message)])
    wanted: dict[str, Any] = {name: getattr(data, name) for name in _UPDATABLE}
    wanted["code"] = code
    for name in ("starts_at", "ends_at"):
        if wanted[name] is not msgspec.UNSET:
            wanted[name] = _utc(wanted[name])
    if data.value is not msgspec.UNSET:
        wanted["value"] = _check_value(discount.kind, data.value)
    after = {name: getattr(discount, name) if wanted[name] is msgspec.UNSET else wanted[name] for name in _UPDATABLE}
    _check_dates(after["starts_at"], after["ends_at"])
    if after["usage_limit"] is not None and after["usage_limit"] < discount.times_used:
        message = f"must be at least the uses so far ({discount.times_used})"
        raise BusinessRuleError(f"usage_limit {message}", errors=[FieldError("usage_limit", message)])
    changes = {
        name: {"from": getattr(discount, name), "to": after[name]}
        for name in _UPDATABLE
        if getattr(discount, name) != after[name]
    }
    for name, change in changes.items():
        setattr(discount, name, change["to"])
    try:
        if changes:
            await session.flush()
            audit(session, principal, "discount.updated", "discount", discount.id, changes, request_id=request_id)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _refusal(exc) from None
    return _out(discount)


async def delete_discount(
    session: AsyncSession, discount_id: UUID, principal: Principal | None, *, request_id: str | None
) -> None:
    """Delete a discount that was never used (audited as ``discount.deleted``); a used one is deactivated instead."""
    discount = await _locked(session, discount_id)
    if discount.times_used > 0:
        raise Conflict(
            f"the discount {discount.code} has been used {discount.times_used} times and is kept with its orders: "
            'deactivate it instead (PATCH {"active": false})'
        )
    audit(session, principal, "discount.deleted", "discount", discount.id, _described(discount), request_id=request_id)
    await session.delete(discount)
    await session.commit()
