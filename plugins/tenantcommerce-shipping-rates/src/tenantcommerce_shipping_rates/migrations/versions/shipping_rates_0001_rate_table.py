"""Shipping rate tables: ``shipping_rates`` (a tenant table, one row per rate of a store).

Revision ID: shipping_rates_0001
Revises: (base of the ``shipping_rates`` branch; needs core 0004)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from tenantcommerce.db.migration_helpers import create_tenant_table

revision = "shipping_rates_0001"
down_revision = None
branch_labels = ("shipping_rates",)
depends_on = "0004"


def upgrade() -> None:
    create_tenant_table(
        "shipping_rates",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("countries", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("band_min", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("band_max", sa.BigInteger(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("free_over_minor", sa.BigInteger(), nullable=True),
        sa.Column("estimated_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        # `flat` first: tools that pick the first allowed value get a row every other check accepts.
        sa.CheckConstraint("kind IN ('flat', 'weight', 'order_value')", name=op.f("ck_shipping_rates_kind")),
        sa.CheckConstraint(
            "array_position(countries, NULL) IS NULL AND array_to_string(countries, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*)?$'",
            name=op.f("ck_shipping_rates_countries"),
        ),
        sa.CheckConstraint("band_min >= 0", name=op.f("ck_shipping_rates_band_min")),
        sa.CheckConstraint("band_max IS NULL OR band_max > band_min", name=op.f("ck_shipping_rates_band_max")),
        sa.CheckConstraint(
            "kind <> 'flat' OR (band_min = 0 AND band_max IS NULL)", name=op.f("ck_shipping_rates_flat_has_no_band")
        ),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_shipping_rates_amount_minor")),
        sa.CheckConstraint(
            "free_over_minor IS NULL OR free_over_minor > 0", name=op.f("ck_shipping_rates_free_over_minor")
        ),
        sa.CheckConstraint(
            "estimated_days IS NULL OR estimated_days BETWEEN 0 AND 365", name=op.f("ck_shipping_rates_estimated_days")
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_shipping_rates_position")),
        sa.UniqueConstraint("store_id", "name", name=op.f("uq_shipping_rates_store_id_name")),
    )


def downgrade() -> None:
    op.drop_table("shipping_rates")
