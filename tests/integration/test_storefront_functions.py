"""The storefront read functions in the database run exactly the SQL the code (and the benchmark baseline) names."""

from __future__ import annotations

import re

import asyncpg

from tenantcommerce.catalog.storefront import DETAIL_SQL, LIST_SQL
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase, TwoStores


def _squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


async def test_functions_run_the_storefront_sql(postgres: TestDatabase) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        bodies = dict(
            await conn.fetch(
                "SELECT proname, prosrc FROM pg_proc WHERE proname IN ('tc_storefront_product_page', "
                "'tc_storefront_product')"
            )
        )
    finally:
        await conn.close()
    assert _squash(LIST_SQL) in _squash(bodies["tc_storefront_product_page"]), (
        "LIST_SQL changed: add a migration that replaces tc_storefront_product_page"
    )
    assert _squash(DETAIL_SQL) in _squash(bodies["tc_storefront_product"]), (
        "DETAIL_SQL changed: add a migration that replaces tc_storefront_product"
    )


async def test_a_call_sees_one_store_and_leaves_no_store_behind(postgres: TestDatabase, two_stores: TwoStores) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.runtime_url))
    try:
        page = await conn.fetchval("SELECT tc_storefront_product_page($1, 100, 0)::json", two_stores.a.id)
        assert '"total" : 3' in page
        # Store A's id with store B's product: RLS and the filter agree, nothing comes back.
        assert (
            await conn.fetchval("SELECT tc_storefront_product($1, $2)", two_stores.a.id, two_stores.b.product_slugs[0])
            is None
        )
        assert await conn.fetchval("SELECT current_setting('app.current_store_id', true)") in ("", None)
        assert await conn.fetchval("SELECT count(*) FROM products") == 0
    finally:
        await conn.close()
