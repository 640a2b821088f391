"""``stripe_payment_intents``: which PaymentIntent each of the core's payment idempotency keys made in a store.

Stripe replays a request sent again with the same idempotency key only for 24 hours, and only with the same
parameters; this table makes the key alone name the payment, for good.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from tenantcommerce.errors import Conflict, FieldError
from tenantcommerce.plugins import PaymentRequest
from uuid_utils.compat import uuid7

from tenantcommerce_stripe.state import Connection

KEY_LENGTH = 255
"""The longest idempotency key kept (the column's length)."""


class RecordedIntent(msgspec.Struct, frozen=True, kw_only=True):
    """The PaymentIntent a key made, with the amount and currency it was made for."""

    payment_intent_id: str
    amount_minor: int
    currency: str


async def find(conn: Connection, store_id: UUID, request: PaymentRequest) -> RecordedIntent | None:
    """The PaymentIntent made for ``request.idempotency_key`` in the store, if any.

    Raises:
        Conflict: the key made a payment of another amount or currency.
    """
    row = await conn.fetchrow(
        "SELECT payment_intent_id, amount_minor, currency FROM stripe_payment_intents "
        "WHERE store_id = $1 AND idempotency_key = $2",
        store_id,
        request.idempotency_key,
    )
    if row is None:
        return None
    recorded = RecordedIntent(
        payment_intent_id=row["payment_intent_id"], amount_minor=row["amount_minor"], currency=row["currency"]
    )
    if (recorded.amount_minor, recorded.currency) != (request.amount_minor, request.currency):
        raise Conflict(
            "this idempotency key was already used for a payment of another amount or currency: use a new key for "
            "a new payment",
            errors=[FieldError("idempotency_key", "already used for another payment")],
        )
    return recorded


async def record(conn: Connection, store_id: UUID, request: PaymentRequest, payment_intent_id: str) -> None:
    """Remember that ``request.idempotency_key`` made ``payment_intent_id`` (a second writer of the same key
    changes nothing: Stripe answered it the same PaymentIntent)."""
    await conn.execute(
        """
        INSERT INTO stripe_payment_intents (store_id, id, idempotency_key, payment_intent_id, checkout_id,
                                            amount_minor, currency)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (store_id, idempotency_key) DO NOTHING
        """,
        store_id,
        uuid7(),
        request.idempotency_key,
        payment_intent_id,
        request.checkout_id,
        request.amount_minor,
        request.currency,
    )
