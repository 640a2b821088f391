"""Commerce core: carts, checkouts, stock reservations, order numbers, fulfilments, refunds, discounts, product media,
idempotency keys.

* Every new table is a tenant table under row level security (``enable_store_isolation``).
* ``product_variants.reserved`` sums the variant's reservations; ``reserved <= inventory`` is checked by the database,
  so no interleaving of checkouts can sell more than exists.
* ``orders.checkout_id`` is unique per store: one order per checkout, whatever retries or webhooks do.
* ``tc_expired_checkouts(max_rows)``: SECURITY DEFINER, fixed ``search_path``; returns ``(store_id, checkout_id)`` of
  checkouts whose hold has expired, ids only, so the release job can visit just those stores.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tenantcommerce.db.migration_helpers import enable_store_isolation, roles

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW_TABLES = (
    "discounts",
    "idempotency_keys",
    "order_counters",
    "carts",
    "cart_items",
    "checkouts",
    "product_media",
    "inventory_reservations",
    "discount_redemptions",
    "fulfillments",
    "refunds",
)

CHECKS = (
    ("product_variants", "reserved_within_inventory", "reserved >= 0 AND reserved <= inventory"),
    ("orders", "refunded_within_total", "refunded_minor >= 0 AND refunded_minor <= total_minor"),
    ("order_items", "fulfilled_within_qty", "fulfilled_qty >= 0 AND fulfilled_qty <= qty"),
    ("order_items", "restocked_within_qty", "restocked_qty >= 0 AND restocked_qty <= qty"),
    ("payments", "refunded_within_amount", "refunded_minor >= 0 AND refunded_minor <= amount_minor"),
)


def upgrade() -> None:
    op.create_table(
        "discounts",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("min_subtotal_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("times_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'percentage' AND value BETWEEN 1 AND 10000) OR (kind = 'fixed_amount' AND value > 0) OR (kind = 'free_shipping' AND value = 0)",
            name=op.f("ck_discounts_value_fits_kind"),
        ),
        sa.CheckConstraint("code ~ '^[A-Z0-9][A-Z0-9_-]{0,49}$'", name=op.f("ck_discounts_code_format")),
        sa.CheckConstraint("kind IN ('percentage', 'fixed_amount', 'free_shipping')", name=op.f("ck_discounts_kind")),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name=op.f("ck_discounts_dates_in_order")
        ),
        sa.CheckConstraint("min_subtotal_minor >= 0", name=op.f("ck_discounts_min_subtotal_not_negative")),
        sa.CheckConstraint(
            "times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)",
            name=op.f("ck_discounts_times_used"),
        ),
        sa.CheckConstraint("usage_limit IS NULL OR usage_limit > 0", name=op.f("ck_discounts_usage_limit_positive")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_discounts_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_discounts")),
        sa.UniqueConstraint("store_id", "code", name=op.f("uq_discounts_store_id_code")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("state IN ('running', 'done')", name=op.f("ck_idempotency_keys_state")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_idempotency_keys_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("store_id", "client", "key", name=op.f("uq_idempotency_keys_store_id_client_key")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_store_id_created_at"), "idempotency_keys", ["store_id", "created_at"], unique=False
    )
    op.create_table(
        "order_counters",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_order_counters_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_order_counters")),
        sa.UniqueConstraint("store_id", name=op.f("uq_order_counters_store_id")),
    )
    op.create_table(
        "carts",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('open', 'merged', 'checked_out')", name=op.f("ck_carts_status")),
        sa.ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["store_customers.store_id", "store_customers.id"],
            name=op.f("fk_carts_store_id_customer_id_store_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_carts_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_carts")),
        sa.UniqueConstraint("store_id", "token_hash", name=op.f("uq_carts_store_id_token_hash")),
    )
    op.create_index(op.f("ix_carts_store_id_customer_id"), "carts", ["store_id", "customer_id"], unique=False)
    op.create_index(
        "uq_carts_store_id_customer_id_open",
        "carts",
        ["store_id", "customer_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open' AND customer_id IS NOT NULL"),
    )
    op.create_table(
        "cart_items",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cart_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("qty > 0 AND qty <= 10000", name=op.f("ck_cart_items_qty_range")),
        sa.CheckConstraint("unit_price_minor >= 0", name=op.f("ck_cart_items_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["store_id", "cart_id"],
            ["carts.store_id", "carts.id"],
            name=op.f("fk_cart_items_store_id_cart_id_carts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "variant_id"],
            ["product_variants.store_id", "product_variants.id"],
            name=op.f("fk_cart_items_store_id_variant_id_product_variants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_cart_items_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint(
            "store_id", "cart_id", "variant_id", name=op.f("uq_cart_items_store_id_cart_id_variant_id")
        ),
    )
    op.create_index(op.f("ix_cart_items_store_id_variant_id"), "cart_items", ["store_id", "variant_id"], unique=False)
    op.create_table(
        "checkouts",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cart_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("cart_token_hash", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("shipping_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("shipping_choice", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("discount_id", sa.Uuid(), nullable=True),
        sa.Column("discount_code", sa.String(length=50), nullable=True),
        sa.Column("payment_method", sa.String(length=100), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("payment", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("totals", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("total_minor", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_checkouts_currency_format")),
        sa.CheckConstraint(
            "status IN ('open', 'awaiting_payment', 'completed', 'expired', 'cancelled')",
            name=op.f("ck_checkouts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "cart_id"],
            ["carts.store_id", "carts.id"],
            name=op.f("fk_checkouts_store_id_cart_id_carts"),
            ondelete="SET NULL (cart_id)",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["store_customers.store_id", "store_customers.id"],
            name=op.f("fk_checkouts_store_id_customer_id_store_customers"),
            ondelete="SET NULL (customer_id)",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "discount_id"],
            ["discounts.store_id", "discounts.id"],
            name=op.f("fk_checkouts_store_id_discount_id_discounts"),
            ondelete="SET NULL (discount_id)",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_checkouts_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_checkouts")),
    )
    op.create_index(op.f("ix_checkouts_store_id_cart_id"), "checkouts", ["store_id", "cart_id"], unique=False)
    op.create_index(op.f("ix_checkouts_store_id_customer_id"), "checkouts", ["store_id", "customer_id"], unique=False)
    op.create_index(op.f("ix_checkouts_store_id_discount_id"), "checkouts", ["store_id", "discount_id"], unique=False)
    op.create_index(
        op.f("ix_checkouts_store_id_status_expires_at"), "checkouts", ["store_id", "status", "expires_at"], unique=False
    )
    op.create_table(
        "product_media",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("alt", sa.String(length=300), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')",
            name=op.f("ck_product_media_content_type"),
        ),
        sa.CheckConstraint("byte_size > 0", name=op.f("ck_product_media_byte_size_positive")),
        sa.ForeignKeyConstraint(
            ["store_id", "product_id"],
            ["products.store_id", "products.id"],
            name=op.f("fk_product_media_store_id_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "variant_id"],
            ["product_variants.store_id", "product_variants.id"],
            name=op.f("fk_product_media_store_id_variant_id_product_variants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_product_media_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_product_media")),
        sa.UniqueConstraint("store_id", "storage_key", name=op.f("uq_product_media_store_id_storage_key")),
    )
    op.create_index(
        op.f("ix_product_media_store_id_product_id_position"),
        "product_media",
        ["store_id", "product_id", "position"],
        unique=False,
    )
    op.create_index(
        op.f("ix_product_media_store_id_variant_id"), "product_media", ["store_id", "variant_id"], unique=False
    )
    op.create_table(
        "inventory_reservations",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("checkout_id", sa.Uuid(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_inventory_reservations_qty_positive")),
        sa.ForeignKeyConstraint(
            ["store_id", "checkout_id"],
            ["checkouts.store_id", "checkouts.id"],
            name=op.f("fk_inventory_reservations_store_id_checkout_id_checkouts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "variant_id"],
            ["product_variants.store_id", "product_variants.id"],
            name=op.f("fk_inventory_reservations_store_id_variant_id_product_variants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_inventory_reservations_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_inventory_reservations")),
        sa.UniqueConstraint(
            "store_id",
            "checkout_id",
            "variant_id",
            name=op.f("uq_inventory_reservations_store_id_checkout_id_variant_id"),
        ),
    )
    op.create_index(
        op.f("ix_inventory_reservations_store_id_expires_at"),
        "inventory_reservations",
        ["store_id", "expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inventory_reservations_store_id_variant_id"),
        "inventory_reservations",
        ["store_id", "variant_id"],
        unique=False,
    )
    op.create_table(
        "discount_redemptions",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("discount_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "discount_id"],
            ["discounts.store_id", "discounts.id"],
            name=op.f("fk_discount_redemptions_store_id_discount_id_discounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["orders.store_id", "orders.id"],
            name=op.f("fk_discount_redemptions_store_id_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_discount_redemptions_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_discount_redemptions")),
        sa.UniqueConstraint("store_id", "order_id", name=op.f("uq_discount_redemptions_store_id_order_id")),
    )
    op.create_index(
        op.f("ix_discount_redemptions_store_id_discount_id"),
        "discount_redemptions",
        ["store_id", "discount_id"],
        unique=False,
    )
    op.create_table(
        "fulfillments",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("carrier_id", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=200), nullable=True),
        sa.Column("tracking_url", sa.String(length=2000), nullable=True),
        sa.Column("label_url", sa.String(length=2000), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["orders.store_id", "orders.id"],
            name=op.f("fk_fulfillments_store_id_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_fulfillments_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_fulfillments")),
    )
    op.create_index(op.f("ix_fulfillments_store_id_order_id"), "fulfillments", ["store_id", "order_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_ref", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "lines", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_refunds_status")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["orders.store_id", "orders.id"],
            name=op.f("fk_refunds_store_id_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "payment_id"],
            ["payments.store_id", "payments.id"],
            name=op.f("fk_refunds_store_id_payment_id_payments"),
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_refunds_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_store_id_order_id"), "refunds", ["store_id", "order_id"], unique=False)
    op.create_index(op.f("ix_refunds_store_id_payment_id"), "refunds", ["store_id", "payment_id"], unique=False)
    op.add_column("order_items", sa.Column("discount_minor", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("order_items", sa.Column("tax_minor", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("order_items", sa.Column("fulfilled_qty", sa.Integer(), server_default="0", nullable=False))
    op.add_column("order_items", sa.Column("restocked_qty", sa.Integer(), server_default="0", nullable=False))
    op.add_column("orders", sa.Column("checkout_id", sa.Uuid(), nullable=True))
    op.add_column("orders", sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("orders", sa.Column("payment_method", sa.String(length=100), nullable=True))
    op.add_column("orders", sa.Column("shipping_choice", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("orders", sa.Column("discount_code", sa.String(length=50), nullable=True))
    op.add_column("orders", sa.Column("tax_breakdown", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("orders", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("cancel_reason", sa.String(length=500), nullable=True))
    op.add_column(
        "orders",
        sa.Column(
            "flags", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
    )
    op.create_index(op.f("ix_orders_store_id_email"), "orders", ["store_id", "email"], unique=False)
    op.create_unique_constraint(op.f("uq_orders_store_id_checkout_id"), "orders", ["store_id", "checkout_id"])
    op.create_foreign_key(
        op.f("fk_orders_store_id_checkout_id_checkouts"),
        "orders",
        "checkouts",
        ["store_id", "checkout_id"],
        ["store_id", "id"],
        ondelete="SET NULL (checkout_id)",
    )
    op.add_column("payments", sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("product_variants", sa.Column("reserved", sa.Integer(), server_default="0", nullable=False))
    op.add_column("product_variants", sa.Column("weight_grams", sa.Integer(), nullable=True))

    for table in NEW_TABLES:
        enable_store_isolation(table)
    for table, name, condition in CHECKS:
        op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)
    _, runtime = roles()
    op.execute(
        """
        CREATE FUNCTION tc_expired_checkouts(max_rows integer)
        RETURNS TABLE (store_id uuid, checkout_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_catalog AS $$
            SELECT c.store_id, c.id FROM checkouts c
            WHERE c.status = 'awaiting_payment' AND c.expires_at < now()
            ORDER BY c.expires_at LIMIT max_rows
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION tc_expired_checkouts(integer) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION tc_expired_checkouts(integer) TO {runtime}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tc_expired_checkouts(integer)")
    for table, name, _ in CHECKS:
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.drop_column("product_variants", "weight_grams")
    op.drop_column("product_variants", "reserved")
    op.drop_column("payments", "refunded_minor")
    op.drop_constraint(op.f("fk_orders_store_id_checkout_id_checkouts"), "orders", type_="foreignkey")
    op.drop_constraint(op.f("uq_orders_store_id_checkout_id"), "orders", type_="unique")
    op.drop_index(op.f("ix_orders_store_id_email"), table_name="orders")
    for column in (
        "flags",
        "cancel_reason",
        "cancelled_at",
        "tax_breakdown",
        "discount_code",
        "shipping_choice",
        "payment_method",
        "refunded_minor",
        "checkout_id",
    ):
        op.drop_column("orders", column)
    for column in ("restocked_qty", "fulfilled_qty", "tax_minor", "discount_minor"):
        op.drop_column("order_items", column)
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
