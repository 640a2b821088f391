"""The payment and refund records, and the rules that change them.

Every function takes an asyncpg connection inside a transaction scoped to the store (Row Level Security shows only
its rows) and filters on ``store_id`` as well. The gateways and the admin routes call the same functions, so a
payment marked paid by an admin obeys exactly the rules of :meth:`PaymentGateway.confirm`.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound
from tenantcommerce.money import Money
from tenantcommerce.plugins import PaymentRequest, RefundRequest
from uuid_utils.compat import uuid7

Method = Literal["bank_transfer", "cash_on_delivery"]
Status = Literal["pending", "succeeded", "cancelled"]

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""Letters and digits that cannot be misread (no 0/O, 1/I): the code customers type into a transfer."""
REFERENCE_CODE_LENGTH = 8
_REFERENCE_ATTEMPTS = 5
KEY_LENGTH = 255
"""Longest idempotency key stored."""
EMAIL_LENGTH = 320
NOTE_LENGTH = 1000
MAX_AMOUNT = 2**63 - 1
"""The largest amount a ``bigint`` column holds."""

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


class ManualPayment(msgspec.Struct, frozen=True, kw_only=True):
    """A manual payment, as the admin API shows it."""

    id: UUID
    method: Method
    reference: str
    """What the customer quotes on the transfer (and the gateway's ``payment_ref``)."""
    checkout_id: UUID
    amount_minor: int
    currency: str
    status: Status
    customer_email: str | None
    paid_at: datetime.datetime | None
    note: str | None
    """The admin's note when marking it paid."""
    refunded_minor: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ManualRefund(msgspec.Struct, frozen=True, kw_only=True):
    """Money the merchant pays back by hand."""

    id: UUID
    payment_id: UUID
    amount_minor: int
    currency: str
    note: str | None
    created_at: datetime.datetime


class PaymentNotFound(NotFound):
    """404: no such payment in this store (or one of another method, for a gateway)."""


_PAYMENT_COLUMNS = (
    "id, method, reference, checkout_id, amount_minor, currency, status, customer_email, paid_at, note, "
    "refunded_minor, created_at, updated_at"
)
_REFUND_COLUMNS = "id, payment_id, amount_minor, currency, note, created_at"


def _payment(row: asyncpg.Record) -> ManualPayment:
    return msgspec.convert(dict(row), ManualPayment)


def _refund(row: asyncpg.Record) -> ManualRefund:
    return msgspec.convert(dict(row), ManualRefund)


def new_reference(prefix: str) -> str:
    """A fresh reference: ``prefix``, a dash and eight characters of :data:`REFERENCE_ALPHABET`."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_CODE_LENGTH))
    return f"{prefix}-{code}"


def money(amount_minor: int, currency: str) -> str:
    """``4250, "EUR"`` as ``42.50 EUR``."""
    return Money(amount_minor, currency).format()


async def create_payment(
    conn: Connection, store_id: UUID, method: Method, request: PaymentRequest, *, reference_prefix: str
) -> ManualPayment:
    """Insert a pending payment, or return the one already made with ``request.idempotency_key``.

    Raises:
        Conflict: the key was used for a payment of another amount, currency or method.
    """
    for _ in range(_REFERENCE_ATTEMPTS):
        row = await conn.fetchrow(
            f"""
            INSERT INTO manual_payments (store_id, id, method, reference, idempotency_key, checkout_id, amount_minor,
                                         currency, customer_email)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT DO NOTHING
            RETURNING {_PAYMENT_COLUMNS}
            """,
            store_id,
            uuid7(),
            method,
            new_reference(reference_prefix),
            request.idempotency_key,
            request.checkout_id,
            request.amount_minor,
            request.currency,
            request.customer_email,
        )
        if row is not None:
            return _payment(row)
        existing = await conn.fetchrow(
            f"SELECT {_PAYMENT_COLUMNS} FROM manual_payments WHERE store_id = $1 AND idempotency_key = $2",
            store_id,
            request.idempotency_key,
        )
        if existing is None:
            continue  # the reference collided with another payment's: draw again
        payment = _payment(existing)
        # The key alone names the payment (the checkout may be re-created around it); asking for another amount,
        # currency or method with it is a mistake of the caller's.
        if (payment.method, payment.amount_minor, payment.currency) != (method, request.amount_minor, request.currency):
            raise Conflict(
                "this idempotency key was already used for another payment: use a new key for a new payment",
                errors=[FieldError("idempotency_key", "already used for a payment of another amount or method")],
            )
        return payment
    raise RuntimeError(f"no free payment reference after {_REFERENCE_ATTEMPTS} attempts")


async def find_payment(
    conn: Connection, store_id: UUID, reference: str, *, method: Method | None = None, lock: bool = False
) -> ManualPayment:
    """The payment with ``reference`` (of ``method``, when given), locked for update with ``lock``.

    Raises:
        PaymentNotFound: there is none in this store.
    """
    row = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM manual_payments WHERE store_id = $1 AND reference = $2"
        + (" FOR UPDATE" if lock else ""),
        store_id,
        reference,
    )
    if row is None or (method is not None and row["method"] != method):
        raise PaymentNotFound(f"no payment {reference!r} in this store")
    return _payment(row)


async def list_payments(
    conn: Connection, store_id: UUID, *, status: Status | None, limit: int, offset: int
) -> tuple[list[ManualPayment], int]:
    """Payments newest first (only those with ``status``, when given), and how many there are in all."""
    where = "store_id = $1" + (" AND status = $2" if status is not None else "")
    args: list[Any] = [store_id] + ([status] if status is not None else [])
    total = await conn.fetchval(f"SELECT count(*) FROM manual_payments WHERE {where}", *args)
    rows = await conn.fetch(
        f"SELECT {_PAYMENT_COLUMNS} FROM manual_payments WHERE {where} ORDER BY created_at DESC, id DESC "
        f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
        *args,
        limit,
        offset,
    )
    return [_payment(row) for row in rows], int(total)


async def refunds_of(conn: Connection, store_id: UUID, payment_id: UUID) -> list[ManualRefund]:
    """The refunds of a payment, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_REFUND_COLUMNS} FROM manual_refunds WHERE store_id = $1 AND payment_id = $2 ORDER BY created_at, id",
        store_id,
        payment_id,
    )
    return [_refund(row) for row in rows]


def _check_amount(payment: ManualPayment, amount_minor: int, currency: str) -> None:
    errors = []
    if currency != payment.currency:
        errors.append(FieldError("currency", f"the payment is in {payment.currency}"))
    if amount_minor != payment.amount_minor:
        errors.append(FieldError("amount_minor", f"the payment is for {payment.amount_minor}"))
    if errors:
        raise BusinessRuleError(
            f"payment {payment.reference} is for {money(payment.amount_minor, payment.currency)}: confirm exactly "
            "that amount and currency",
            errors=errors,
        )


async def mark_paid(
    conn: Connection,
    store_id: UUID,
    reference: str,
    *,
    amount_minor: int,
    currency: str,
    note: str | None = None,
    method: Method | None = None,
) -> tuple[ManualPayment, bool]:
    """Mark a payment paid once its money has arrived; doing it again changes nothing.

    Returns:
        The payment, and whether this call changed it (``False`` when it was already paid).

    Raises:
        PaymentNotFound: no such payment in this store (of ``method``, when given).
        BusinessRuleError: the amount or currency differ from the payment's, or it was cancelled.
    """
    payment = await find_payment(conn, store_id, reference, method=method, lock=True)
    _check_amount(payment, amount_minor, currency)
    if payment.status == "succeeded":
        return payment, False
    if payment.status == "cancelled":
        raise BusinessRuleError(
            f"payment {reference} was cancelled and cannot be marked paid",
            errors=[FieldError("status", "cancelled")],
        )
    row = await conn.fetchrow(
        f"""
        UPDATE manual_payments SET status = 'succeeded', paid_at = now(), note = $3, updated_at = now()
        WHERE store_id = $1 AND id = $2
        RETURNING {_PAYMENT_COLUMNS}
        """,
        store_id,
        payment.id,
        note,
    )
    assert row is not None  # locked above
    return _payment(row), True


async def cancel(conn: Connection, store_id: UUID, reference: str, *, method: Method | None = None) -> ManualPayment:
    """Cancel a pending payment (its checkout expired or its order was cancelled); cancelling again changes nothing.

    Raises:
        PaymentNotFound: no such payment in this store (of ``method``, when given).
        BusinessRuleError: it was paid (refund it instead).
    """
    payment = await find_payment(conn, store_id, reference, method=method, lock=True)
    if payment.status == "cancelled":
        return payment
    if payment.status == "succeeded":
        raise BusinessRuleError(
            f"payment {reference} was paid: refund it instead of cancelling",
            errors=[FieldError("status", "succeeded")],
        )
    row = await conn.fetchrow(
        f"""
        UPDATE manual_payments SET status = 'cancelled', updated_at = now()
        WHERE store_id = $1 AND id = $2
        RETURNING {_PAYMENT_COLUMNS}
        """,
        store_id,
        payment.id,
    )
    assert row is not None  # locked above
    return _payment(row)


async def refund(
    conn: Connection, store_id: UUID, request: RefundRequest, *, method: Method | None = None
) -> ManualRefund:
    """Record a refund of a paid payment; the same ``idempotency_key`` returns the same refund.

    Raises:
        PaymentNotFound: no such payment in this store (of ``method``, when given).
        Conflict: the key was used for another refund.
        BusinessRuleError: the payment is not paid, the currency differs, or the refunds would exceed the amount.
    """
    payment = await find_payment(conn, store_id, request.payment_ref, method=method, lock=True)
    existing = await conn.fetchrow(
        f"SELECT {_REFUND_COLUMNS} FROM manual_refunds WHERE store_id = $1 AND idempotency_key = $2",
        store_id,
        request.idempotency_key,
    )
    if existing is not None:
        earlier = _refund(existing)
        if (earlier.payment_id, earlier.amount_minor, earlier.currency) != (
            payment.id,
            request.amount_minor,
            request.currency,
        ):
            raise Conflict(
                "this idempotency key was already used for another refund: use a new key for a new refund",
                errors=[FieldError("idempotency_key", "already used for another refund")],
            )
        return earlier
    if request.currency != payment.currency:
        raise BusinessRuleError(
            f"payment {payment.reference} is in {payment.currency}: refund in that currency",
            errors=[FieldError("currency", f"the payment is in {payment.currency}")],
        )
    if payment.status != "succeeded":
        raise BusinessRuleError(
            f"payment {payment.reference} is {payment.status}: only a paid payment can be refunded",
            errors=[FieldError("payment_ref", f"the payment is {payment.status}")],
        )
    left = payment.amount_minor - payment.refunded_minor
    if request.amount_minor > left:
        raise BusinessRuleError(
            f"at most {money(left, payment.currency)} of payment {payment.reference} is left to refund",
            errors=[FieldError("amount_minor", f"at most {left}")],
        )
    row = await conn.fetchrow(
        f"""
        INSERT INTO manual_refunds (store_id, id, payment_id, idempotency_key, amount_minor, currency, note)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (store_id, idempotency_key) DO NOTHING
        RETURNING {_REFUND_COLUMNS}
        """,
        store_id,
        uuid7(),
        payment.id,
        request.idempotency_key,
        request.amount_minor,
        request.currency,
        request.reason[:NOTE_LENGTH] if request.reason else None,
    )
    if row is None:  # the same key, just now, for a refund of another payment
        raise Conflict(
            "this idempotency key was already used for another refund: use a new key for a new refund",
            errors=[FieldError("idempotency_key", "already used for another refund")],
        )
    await conn.execute(
        "UPDATE manual_payments SET refunded_minor = refunded_minor + $3, updated_at = now() "
        "WHERE store_id = $1 AND id = $2",
        store_id,
        payment.id,
        request.amount_minor,
    )
    return _refund(row)
