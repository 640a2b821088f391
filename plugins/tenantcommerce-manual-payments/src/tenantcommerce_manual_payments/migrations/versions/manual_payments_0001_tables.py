"""Manual payments: ``manual_payments`` (one row per bank transfer or pay-on-delivery payment) and
``manual_refunds`` (money the merchant pays back by hand), both tenant tables under RLS.

Revision ID: manual_payments_0001
Revises: (branch base; depends on the core's 0004)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from tenantcommerce.db.migration_helpers import create_tenant_table

revision = "manual_payments_0001"
down_revision = None
branch_labels = ("manual_payments",)
depends_on = "0004"


def upgrade() -> None:
    create_tenant_table(
        "manual_payments",
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("checkout_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("refunded_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("method IN ('bank_transfer', 'cash_on_delivery')", name="ck_manual_payments_method"),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'cancelled')", name="ck_manual_payments_status"),
        sa.CheckConstraint("amount_minor >= 0", name="ck_manual_payments_amount_not_negative"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_manual_payments_currency_format"),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="ck_manual_payments_refunded_within_amount"
        ),
        sa.CheckConstraint("(status = 'succeeded') = (paid_at IS NOT NULL)", name="ck_manual_payments_paid_at"),
        sa.CheckConstraint("refunded_minor = 0 OR status = 'succeeded'", name="ck_manual_payments_refunds_paid"),
        sa.UniqueConstraint("store_id", "reference", name="uq_manual_payments_store_id_reference"),
        sa.UniqueConstraint("store_id", "idempotency_key", name="uq_manual_payments_store_id_idempotency_key"),
    )
    op.create_index(
        "ix_manual_payments_store_id_status_created_at",
        "manual_payments",
        ["store_id", "status", sa.text("created_at DESC")],
    )
    op.create_index(
        "ix_manual_payments_store_id_created_at", "manual_payments", ["store_id", sa.text("created_at DESC")]
    )
    create_tenant_table(
        "manual_refunds",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name="ck_manual_refunds_amount_positive"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_manual_refunds_currency_format"),
        sa.ForeignKeyConstraint(
            ["store_id", "payment_id"],
            ["manual_payments.store_id", "manual_payments.id"],
            name="fk_manual_refunds_store_id_manual_payments",
        ),
        sa.UniqueConstraint("store_id", "idempotency_key", name="uq_manual_refunds_store_id_idempotency_key"),
    )
    op.create_index("ix_manual_refunds_store_id_payment_id", "manual_refunds", ["store_id", "payment_id"])


def downgrade() -> None:
    op.drop_table("manual_refunds")  # its indexes, policy and grants go with it
    op.drop_table("manual_payments")
