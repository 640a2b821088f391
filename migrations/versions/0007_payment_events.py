"""Payment provider webhooks: ``payment_events`` records each provider event once per store and gateway.

* A tenant table under row level security (``enable_store_isolation``).
* ``unique(store_id, gateway_id, event_id)``: the row is written in the transaction that applies the event, so a
  duplicate delivery (even a concurrent one) finds it and changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tenantcommerce.db.migration_helpers import enable_store_isolation

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("checkout_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("outcome IN ('applied', 'ignored', 'flagged')", name=op.f("ck_payment_events_outcome")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_payment_events_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "store_id", "gateway_id", "event_id", name=op.f("uq_payment_events_store_id_gateway_id_event_id")
        ),
    )
    op.create_index(
        op.f("ix_payment_events_store_id_payment_ref"), "payment_events", ["store_id", "payment_ref"], unique=False
    )
    op.create_index(
        op.f("ix_payment_events_store_id_created_at"), "payment_events", ["store_id", "created_at"], unique=False
    )
    enable_store_isolation("payment_events")


def downgrade() -> None:
    op.drop_table("payment_events")
