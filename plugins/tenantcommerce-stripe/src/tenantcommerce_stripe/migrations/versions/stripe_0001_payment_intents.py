"""Stripe: ``stripe_payment_intents``, the PaymentIntent each of the core's payment idempotency keys made (a tenant
table under RLS), so the same key always answers the same PaymentIntent, however the request around it changes and
however long after (Stripe forgets its idempotency keys after 24 hours).

Revision ID: stripe_0001
Revises: (branch base; depends on the core's 0004)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from tenantcommerce.db.migration_helpers import create_tenant_table

revision = "stripe_0001"
down_revision = None
branch_labels = ("stripe",)
depends_on = "0004"


def upgrade() -> None:
    create_tenant_table(
        "stripe_payment_intents",
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column("checkout_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name="ck_stripe_payment_intents_amount_not_negative"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_stripe_payment_intents_currency_format"),
        sa.UniqueConstraint("store_id", "idempotency_key", name="uq_stripe_payment_intents_store_id_idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("stripe_payment_intents")  # its policy and grants go with it
