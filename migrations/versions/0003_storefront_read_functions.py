"""Storefront read functions: the hot catalog reads in one round trip, with the store set first.

Each function sets ``app.current_store_id`` transaction-locally and then runs the catalog query under row level
security (SECURITY INVOKER: it runs as the caller, the runtime role). Called as a single statement, the transaction
is the statement itself, so the setting ends with it. The query text is ``LIST_SQL`` / ``DETAIL_SQL`` of
``tenantcommerce.catalog.storefront`` as of this revision (``$1``.. are the function's parameters); a test fails when
they drift apart, and a change to them needs a new revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

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

DETAIL_SQL = f"""
SELECT {_PRODUCT_JSON}::text FROM products p
WHERE p.store_id = $1 AND p.slug = $2 AND p.status = 'active'
"""


def _function(name: str, arguments: str, query: str) -> str:
    return f"""
CREATE FUNCTION {name}({arguments}) RETURNS text
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


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tc_storefront_product(uuid, text)")
    op.execute("DROP FUNCTION IF EXISTS tc_storefront_product_page(uuid, integer, integer)")
