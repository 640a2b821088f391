"""The storefront's hot read path: asyncpg directly, one round trip, the store set first, RLS enforced.

The queries run inside database functions (``tc_storefront_product_page``, ``tc_storefront_product``; migration
0003) that first ``set_config('app.current_store_id', ..., true)`` and then run the SQL below as the caller (the
runtime role), so row level security applies. Called as one statement, the transaction is that statement: the
setting ends with it and the pooled connection carries no store. This saves the BEGIN and COMMIT round trips of an
explicit transaction.

Each query builds its JSON in Postgres; it is decoded straight into msgspec Structs. The explicit
``store_id = $1`` filter sits on top of RLS: it keeps plans on the store's indexes and lets Citus route the query.
Benchmarks (``benchmarks/storefront_read.py``) run these same SQL strings without RLS as their baseline, and a test
checks that the functions in the database run exactly this SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from tenantcommerce.catalog.schemas import StorefrontProduct, StorefrontProductPage

if TYPE_CHECKING:
    from uuid import UUID

    from tenantcommerce.db.database import Database

_VARIANTS_JSON = """
    (SELECT coalesce(json_agg(json_build_object(
                'id', v.id, 'sku', v.sku, 'title', v.title,
                'price', json_build_object('amount_minor', v.price_minor, 'currency', v.currency),
                'in_stock', v.inventory > 0, 'attributes', v.attributes)
             ORDER BY v.position, v.id), '[]'::json)
     FROM product_variants v WHERE v.store_id = $1 AND v.product_id = p.id)
"""

_PRODUCT_JSON = f"""
    json_build_object('id', p.id, 'slug', p.slug, 'name', p.name, 'description', p.description,
                      'variants', {_VARIANTS_JSON})
"""

LIST_SQL = f"""
SELECT json_build_object(
    'items', coalesce((
        SELECT json_agg({_PRODUCT_JSON} ORDER BY p.id DESC)
        FROM (SELECT id, slug, name, description FROM products
              WHERE store_id = $1 AND status = 'active'
              ORDER BY id DESC LIMIT $2 OFFSET $3) p
    ), '[]'::json),
    'limit', $2::int, 'offset', $3::int,
    'total', (SELECT count(*) FROM products WHERE store_id = $1 AND status = 'active')
)::text
"""
"""Active products of one store, newest first, with their variants; ``$1`` store, ``$2`` limit, ``$3`` offset."""

DETAIL_SQL = f"""
SELECT {_PRODUCT_JSON}::text FROM products p
WHERE p.store_id = $1 AND p.slug = $2 AND p.status = 'active'
"""
"""One active product by slug; ``$1`` store, ``$2`` product slug."""

_decode_page = msgspec.json.Decoder(StorefrontProductPage).decode
_decode_product = msgspec.json.Decoder(StorefrontProduct).decode


LIST_CALL = "SELECT tc_storefront_product_page($1, $2, $3)"
DETAIL_CALL = "SELECT tc_storefront_product($1, $2)"


async def list_products(database: Database, store_id: UUID, *, limit: int, offset: int) -> StorefrontProductPage:
    """A page of the store's active products."""
    raw = await database.pool.fetchval(LIST_CALL, store_id, limit, offset)
    return _decode_page(raw)


async def get_product(database: Database, store_id: UUID, slug: str) -> StorefrontProduct | None:
    """The store's active product ``slug``, or ``None``."""
    raw = await database.pool.fetchval(DETAIL_CALL, store_id, slug)
    return _decode_product(raw) if raw is not None else None
