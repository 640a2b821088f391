"""The storefront's hot read path: asyncpg directly, one round trip, the store set first, RLS enforced.

The queries run inside database functions (``tc_storefront_product_page``, ``tc_storefront_product`` and
``tc_storefront_media``; migration 0006, which replaced 0003's) that first
``set_config('app.current_store_id', ..., true)`` and then run the SQL below as the caller (the runtime role), so row
level security applies. Called as one statement, the transaction is that statement: the setting ends with it and the
pooled connection carries no store. This saves the BEGIN and COMMIT round trips of an explicit transaction.

Each query builds its JSON in Postgres; it is decoded straight into msgspec Structs. The explicit
``store_id = $1`` filter sits on top of RLS: it keeps plans on the store's indexes and lets Citus route the query.
Benchmarks (``benchmarks/storefront_read.py``) run these same SQL strings without RLS as their baseline, and a test
checks that the functions in the database run exactly this SQL.

A variant is in stock when its stock on hand exceeds what checkouts hold (``inventory - reserved``); ``available``
says how many. A product's images come in their display order, each with the path the storefront serves it at
(``/api/storefront/<store slug>/media/<id>``, read from ``stores`` once per statement).
"""

from __future__ import annotations

import enum
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
                'in_stock', v.inventory - v.reserved > 0, 'available', greatest(v.inventory - v.reserved, 0),
                'attributes', v.attributes)
             ORDER BY v.position, v.id), '[]'::json)
     FROM product_variants v WHERE v.store_id = $1 AND v.product_id = p.id)
"""

_MEDIA_JSON = """
    (SELECT coalesce(json_agg(json_build_object(
                'id', m.id, 'url', u.media_path || m.id, 'alt', m.alt, 'width', m.width, 'height', m.height,
                'variant_id', m.variant_id, 'content_type', m.content_type)
             ORDER BY m.position, m.id), '[]'::json)
     FROM product_media m WHERE m.store_id = $1 AND m.product_id = p.id)
"""

_PRODUCT_JSON = f"""
    json_build_object('id', p.id, 'slug', p.slug, 'name', p.name, 'description', p.description,
                      'variants', {_VARIANTS_JSON}, 'media', {_MEDIA_JSON})
"""

_MEDIA_PATH = """
    (SELECT '/api/storefront/' || s.slug || '/media/' AS media_path FROM stores s WHERE s.id = $1) u
"""

LIST_SQL = f"""
SELECT json_build_object(
    'items', coalesce((
        SELECT json_agg({_PRODUCT_JSON} ORDER BY p.id DESC)
        FROM (SELECT id, slug, name, description FROM products
              WHERE store_id = $1 AND status = 'active'
              ORDER BY id DESC LIMIT $2 OFFSET $3) p
        CROSS JOIN {_MEDIA_PATH}
    ), '[]'::json),
    'limit', $2::int, 'offset', $3::int,
    'total', (SELECT count(*) FROM products WHERE store_id = $1 AND status = 'active')
)::text
"""
"""Active products of one store, newest first, with their variants and images; ``$1`` store, ``$2`` limit, ``$3``
offset."""

DETAIL_SQL = f"""
SELECT {_PRODUCT_JSON}::text FROM products p CROSS JOIN {_MEDIA_PATH}
WHERE p.store_id = $1 AND p.slug = $2 AND p.status = 'active'
"""
"""One active product by slug; ``$1`` store, ``$2`` product slug."""

MEDIA_SQL = """
SELECT json_build_object('storage_key', m.storage_key, 'content_type', m.content_type, 'sha256', m.sha256,
                         'byte_size', m.byte_size)::text
FROM product_media m JOIN products p ON p.store_id = m.store_id AND p.id = m.product_id
WHERE m.store_id = $1 AND m.id = $2 AND p.status = 'active'
"""
"""What serving one image needs, if it belongs to an active product of the store; ``$1`` store, ``$2`` media id."""


class ProductSort(enum.StrEnum):
    """The orders a product list can come in."""

    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    """Cheapest first, by each product's lowest variant price (products without variants last)."""
    PRICE_DESC = "price_desc"
    """Dearest first, by each product's lowest variant price (products without variants last)."""
    NAME = "name"


_LOWEST_PRICE = "(SELECT min(v.price_minor) FROM product_variants v WHERE v.store_id = $1 AND v.product_id = p.id)"
_SORT_KEYS = {
    ProductSort.NEWEST: "p.id DESC",
    ProductSort.PRICE_ASC: f"{_LOWEST_PRICE} ASC NULLS LAST, p.id DESC",
    ProductSort.PRICE_DESC: f"{_LOWEST_PRICE} DESC NULLS LAST, p.id DESC",
    ProductSort.NAME: "lower(p.name), p.id DESC",
}
_FILTERS = """
    p.store_id = $1 AND p.status = 'active'
    AND ($4 = '' OR strpos(lower(p.name), lower($4)) > 0)
    AND (NOT $5 OR EXISTS (SELECT 1 FROM product_variants v
                           WHERE v.store_id = $1 AND v.product_id = p.id AND v.inventory - v.reserved > 0))
"""


def _filtered_list_sql(sort: ProductSort) -> str:
    return f"""
SELECT json_build_object(
    'items', coalesce((
        SELECT json_agg({_PRODUCT_JSON} ORDER BY p.rank)
        FROM (SELECT p.id, p.slug, p.name, p.description, row_number() OVER (ORDER BY {_SORT_KEYS[sort]}) AS rank
              FROM products p WHERE {_FILTERS}
              ORDER BY rank LIMIT $2 OFFSET $3) p
        CROSS JOIN {_MEDIA_PATH}
    ), '[]'::json),
    'limit', $2::int, 'offset', $3::int,
    'total', (SELECT count(*) FROM products p WHERE {_FILTERS})
)::text
"""


FILTERED_LIST_SQL = {sort: _filtered_list_sql(sort) for sort in ProductSort}
"""Per order: active products whose name contains ``$4`` (any case; ``''``: every name), only those with a variant in
stock when ``$5``; ``$1`` store, ``$2`` limit, ``$3`` offset."""


class ServedMedia(msgspec.Struct, frozen=True):
    """The stored file behind a public media URL."""

    storage_key: str
    content_type: str
    sha256: str
    byte_size: int


_decode_page = msgspec.json.Decoder(StorefrontProductPage).decode
_decode_product = msgspec.json.Decoder(StorefrontProduct).decode
_decode_media = msgspec.json.Decoder(ServedMedia).decode


LIST_CALL = "SELECT tc_storefront_product_page($1, $2, $3)"
DETAIL_CALL = "SELECT tc_storefront_product($1, $2)"
MEDIA_CALL = "SELECT tc_storefront_media($1, $2)"


async def list_products(database: Database, store_id: UUID, *, limit: int, offset: int) -> StorefrontProductPage:
    """A page of the store's active products."""
    raw = await database.pool.fetchval(LIST_CALL, store_id, limit, offset)
    return _decode_page(raw)


async def find_products(
    database: Database,
    store_id: UUID,
    *,
    limit: int,
    offset: int,
    query: str = "",
    in_stock: bool = False,
    sort: ProductSort = ProductSort.NEWEST,
) -> StorefrontProductPage:
    """A page of the store's active products whose name contains ``query``, only those in stock when ``in_stock``,
    in the ``sort`` order. With no filter and the newest first, this is :func:`list_products` (the hot path)."""
    if not query and not in_stock and sort is ProductSort.NEWEST:
        return await list_products(database, store_id, limit=limit, offset=offset)
    async with database.store_transaction(store_id) as conn:
        raw = await conn.fetchval(FILTERED_LIST_SQL[sort], store_id, limit, offset, query, in_stock)
    return _decode_page(raw)


async def get_product(database: Database, store_id: UUID, slug: str) -> StorefrontProduct | None:
    """The store's active product ``slug``, or ``None``."""
    raw = await database.pool.fetchval(DETAIL_CALL, store_id, slug)
    return _decode_product(raw) if raw is not None else None


async def get_media(database: Database, store_id: UUID, media_id: UUID) -> ServedMedia | None:
    """The stored file of the store's image ``media_id`` when its product is active, or ``None``."""
    raw = await database.pool.fetchval(MEDIA_CALL, store_id, media_id)
    return _decode_media(raw) if raw is not None else None
