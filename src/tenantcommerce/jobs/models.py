"""Tenant tables of the transactional outbox: ``outbox_events`` and ``outbox_deliveries``.

An event row is written in the same transaction as the change it reports. The worker delivers it to each enabled
plugin's ``tc_on_*`` hook and records each plugin it reached in ``outbox_deliveries``, so a retry calls only the
plugins that failed.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, StoreScoped


class OutboxEvent(StoreScoped, CreatedAt, Base):
    """An event waiting for (or done with) delivery; ``delivered_at`` is set once every plugin got it."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index(None, "store_id", "delivered_at", "created_at"),)

    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))


class OutboxDelivery(StoreScoped, CreatedAt, Base):
    """``plugin_id`` handled event ``event_id``: never called again for it."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "event_id"], ["outbox_events.store_id", "outbox_events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("store_id", "event_id", "plugin_id"),
    )

    event_id: Mapped[UUID]
    plugin_id: Mapped[str] = mapped_column(String(50))
