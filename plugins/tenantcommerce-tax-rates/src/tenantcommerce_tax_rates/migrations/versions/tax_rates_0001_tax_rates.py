"""tax_rates: a store's tax rates by country and region.

A tenant table (``create_tenant_table``: ``store_id`` leading the primary key, RLS enabled and forced, the store
policy, runtime grants). One name per store, country and region: the unique constraint treats NULL regions as equal
(``NULLS NOT DISTINCT``, PostgreSQL 15+), so a store has one whole-country rate of each name.

Country codes are checked by the API (ISO 3166-1 alpha-2, upper case); the table checks their length, the region's
shape and that it lies in the country, and the rate's range.

Revision ID: tax_rates_0001
Revises: (base of the tax_rates branch; depends on core 0004)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from tenantcommerce.db.migration_helpers import create_tenant_table

revision = "tax_rates_0001"
down_revision = None
branch_labels = ("tax_rates",)
depends_on = "0004"


def upgrade() -> None:
    create_tenant_table(
        "tax_rates",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("rate_bp", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("applies_to_shipping", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("tax_code", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rate_bp BETWEEN 0 AND 100000", name=op.f("ck_tax_rates_rate_bp_range")),
        sa.CheckConstraint("char_length(country) = 2", name=op.f("ck_tax_rates_country_length")),
        sa.CheckConstraint(
            "region IS NULL OR (region ~ '^[A-Z]{2}-[A-Z0-9]{1,3}$' AND left(region, 2) = country)",
            name=op.f("ck_tax_rates_region_in_country"),
        ),
        sa.CheckConstraint("char_length(name) > 0", name=op.f("ck_tax_rates_name_not_empty")),
        sa.CheckConstraint(
            "tax_code IS NULL OR char_length(tax_code) > 0", name=op.f("ck_tax_rates_tax_code_not_empty")
        ),
        sa.UniqueConstraint(
            "store_id",
            "country",
            "region",
            "name",
            name=op.f("uq_tax_rates_store_id_country_region_name"),
            postgresql_nulls_not_distinct=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("tax_rates")
