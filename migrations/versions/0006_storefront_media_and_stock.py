"""Storefront reads with product media and available stock.

Replaces the two storefront read functions of 0003 (same names, arguments and structure: SECURITY INVOKER, the store
set transaction-locally first, then one query under row level security):

* each product carries ``media`` (its images in display order, each with the path the storefront serves it at);
* each variant's ``in_stock`` is ``inventory - reserved > 0`` (stock held by checkouts is not for sale) and it gains
  ``available``, that difference floored at 0.

Adds ``tc_storefront_media(store, media)`` in the same shape: what serving one image needs, if it belongs to an active
product of the store. The query texts are ``LIST_SQL`` / ``DETAIL_SQL`` / ``MEDIA_SQL`` of
``tenantcommerce.catalog.storefront`` as of this revision (a test fails when they drift apart); the downgrade puts
0003's functions back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

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

DETAIL_SQL = f"""
SELECT {_PRODUCT_JSON}::text FROM products p CROSS JOIN {_MEDIA_PATH}
WHERE p.store_id = $1 AND p.slug = $2 AND p.status = 'active'
"""

MEDIA_SQL = """
SELECT json_build_object('storage_key', m.storage_key, 'content_type', m.content_type, 'sha256', m.sha256,
                         'byte_size', m.byte_size)::text
FROM product_media m JOIN products p ON p.store_id = m.store_id AND p.id = m.product_id
WHERE m.store_id = $1 AND m.id = $2 AND p.status = 'active'
"""

# --- 0003's texts, for the downgrade ---------------------------------------------------------------------------------

_VARIANTS_JSON_0003 = """
    (SELECT coalesce(json_agg(json_build_object(
                'id', v.id, 'sku', v.sku, 'title', v.title,
                'price', json_build_object('amount_minor', v.price_minor, 'currency', v.currency),
                'in_stock', v.inventory > 0, 'attributes', v.attributes)
             ORDER BY v.position, v.id), '[]'::json)
     FROM product_variants v WHERE v.store_id = $1 AND v.product_id = p.id)
"""

_PRODUCT_JSON_0003 = f"""
    json_build_object('id', p.id, 'slug', p.slug, 'name', p.name, 'description', p.description,
                      'variants', {_VARIANTS_JSON_0003})
"""

LIST_SQL_0003 = f"""
SELECT json_build_object(
    'items', coalesce((
        SELECT json_agg({_PRODUCT_JSON_0003} ORDER BY p.id DESC)
        FROM (SELECT id, slug, name, description FROM products
              WHERE store_id = $1 AND status = 'active'
              ORDER BY id DESC LIMIT $2 OFFSET $3) p
    ), '[]'::json),
    'limit', $2::int, 'offset', $3::int,
    'total', (SELECT count(*) FROM products WHERE store_id = $1 AND status = 'active')
)::text
"""

DETAIL_SQL_0003 = f"""
SELECT {_PRODUCT_JSON_0003}::text FROM products p
WHERE p.store_id = $1 AND p.slug = $2 AND p.status = 'active'
"""


def _function(name: str, arguments: str, query: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_catalog AS $tc$
BEGIN
    PERFORM set_config('app.current_store_id', $1::text, true);
    RETURN ({query.strip()});
END
$tc$
"""


def upgrade() -> None:
    op.execute(_function("tc_storefront_product_page", "uuid, integer, integer", LIST_SQL))
    op.execute(_function("tc_storefront_product", "uuid, text", DETAIL_SQL))
    op.execute(_function("tc_storefront_media", "uuid, uuid", MEDIA_SQL))


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tc_storefront_media(uuid, uuid)")
    op.execute(_function("tc_storefront_product_page", "uuid, integer, integer", LIST_SQL_0003))
    op.execute(_function("tc_storefront_product", "uuid, text", DETAIL_SQL_0003))
