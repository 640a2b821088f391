"""The ``tax_rates`` table (a tenant table created by the plugin's Alembic branch) and the reads of the hot path.

Calculating tax and collecting warnings read through the plugin's store-scoped asyncpg transaction
(:meth:`~tenantcommerce.plugins.context.PluginContext.transaction`); every query also filters on ``store_id``
explicitly, on top of Row Level Security.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import sqlalchemy as sa

from tenantcommerce_tax_rates.arithmetic import Rate

UNIQUE_NAME = "uq_tax_rates_store_id_country_region_name"
"""One name per store, country and region (``NULLS NOT DISTINCT``: one whole-country rate of each name)."""

metadata = sa.MetaData()

tax_rates = sa.Table(
    "tax_rates",
    metadata,
    sa.Column("store_id", sa.Uuid(), primary_key=True),
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(6), nullable=True),
    sa.Column("rate_bp", sa.Integer(), nullable=False),
    sa.Column("applies_to_shipping", sa.Boolean(), nullable=False),
    sa.Column("tax_code", sa.String(50), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
"""The table as SQLAlchemy Core sees it (the admin API's queries); the migration is the source of truth."""

ORDER = (
    tax_rates.c.country,
    tax_rates.c.region.asc().nulls_first(),
    tax_rates.c.tax_code.asc().nulls_first(),
    tax_rates.c.name,
    tax_rates.c.id,
)
"""Whole-country rates before regional ones, then rates for every line before those for one tax code."""

_RATES_FOR_COUNTRY = """
SELECT name, country, region, rate_bp, applies_to_shipping, tax_code
FROM tax_rates
WHERE store_id = $1 AND country = $2
ORDER BY region NULLS FIRST, tax_code NULLS FIRST, name, id
"""


async def rates_for_country(conn: asyncpg.pool.PoolConnectionProxy, store_id: UUID, country: str) -> list[Rate]:
    """Every rate of the store for ``country`` (whole-country and regional), in :data:`ORDER`."""
    rows = await conn.fetch(_RATES_FOR_COUNTRY, store_id, country.upper())
    return [Rate(**dict(row)) for row in rows]


async def has_rates(conn: asyncpg.pool.PoolConnectionProxy, store_id: UUID) -> bool:
    """Whether the store has at least one rate."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tax_rates WHERE store_id = $1)", store_id))
