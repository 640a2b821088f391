"""Tenant table ``idempotency_keys``: the answer to a mutating storefront call, kept for replays of its key.

A key is scoped to the store and the client (the signed-in customer, else the cart token, else the address); the row
is claimed before the call runs, holds the answer once it is done, and is removed when the call failed on our side
so the client can try again.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped


class IdempotencyKey(StoreScoped, CreatedAt, Base):
    """One ``Idempotency-Key`` of one client of one store."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("store_id", "client", "key"),
        CheckConstraint("state IN ('running', 'done')", name="state"),
        Index(None, "store_id", "created_at"),
    )

    client: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    state: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[list[Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
