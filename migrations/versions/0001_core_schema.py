"""Core schema: global tables, tenant tables under row level security, store-change notifications.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tenantcommerce.db.migration_helpers import disable_store_isolation, enable_store_isolation, grant_runtime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GLOBAL_TABLES = ("users", "stores", "store_domains", "store_members")
TENANT_TABLES = ("products", "product_variants", "store_customers", "orders", "order_items", "payments")

# Tells every app process to drop a store from its cache when the store or one of its domains changes.
NOTIFY_FUNCTION = """
CREATE FUNCTION tc_notify_store_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_notify('tenantcommerce_store_changed', (to_jsonb(OLD) ->> TG_ARGV[0]));
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("is_operator", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_stores_currency_format")),
        sa.CheckConstraint("slug ~ '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$'", name=op.f("ck_stores_slug_format")),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_stores_status")),
        sa.ForeignKeyConstraint(["owner_user_id"], ["users.id"], name=op.f("fk_stores_owner_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("id", "currency", name=op.f("uq_stores_id_currency")),
        sa.UniqueConstraint("slug", name=op.f("uq_stores_slug")),
    )
    op.create_index(op.f("ix_stores_owner_user_id"), "stores", ["owner_user_id"], unique=False)
    op.create_table(
        "products",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_products_slug_format")),
        sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name=op.f("ck_products_status")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_products_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_products")),
        sa.UniqueConstraint("store_id", "slug", name=op.f("uq_products_store_id_slug")),
    )
    op.create_index(op.f("ix_products_store_id_status"), "products", ["store_id", "status"], unique=False)
    op.create_table(
        "store_customers",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_store_customers_email_lowercase")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_store_customers_store_id_stores")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_store_customers_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_store_customers")),
        sa.UniqueConstraint("store_id", "email", name=op.f("uq_store_customers_store_id_email")),
    )
    op.create_index(
        op.f("ix_store_customers_store_id_user_id"), "store_customers", ["store_id", "user_id"], unique=False
    )
    op.create_table(
        "store_domains",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("domain = lower(domain)", name=op.f("ck_store_domains_domain_lowercase")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_store_domains_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_store_domains_domain")),
    )
    op.create_index(op.f("ix_store_domains_store_id"), "store_domains", ["store_id"], unique=False)
    op.create_table(
        "store_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column(
            "permissions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'admin', 'staff', 'viewer')", name=op.f("ck_store_members_role")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_store_members_store_id_stores"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_store_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_members")),
        sa.UniqueConstraint("store_id", "user_id", name=op.f("uq_store_members_store_id_user_id")),
    )
    op.create_index(op.f("ix_store_members_user_id"), "store_members", ["user_id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("order_number", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("payment_status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("fulfillment_status", sa.String(length=20), server_default="unfulfilled", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_orders_currency_format")),
        sa.CheckConstraint(
            "fulfillment_status IN ('unfulfilled', 'partially_fulfilled', 'fulfilled', 'returned')",
            name=op.f("ck_orders_fulfillment_status"),
        ),
        sa.CheckConstraint(
            "payment_status IN ('pending', 'authorized', 'paid', 'partially_refunded', 'refunded', 'failed', 'voided')",
            name=op.f("ck_orders_payment_status"),
        ),
        sa.CheckConstraint("status IN ('open', 'completed', 'cancelled')", name=op.f("ck_orders_status")),
        sa.CheckConstraint(
            "subtotal_minor >= 0 AND discount_minor >= 0 AND shipping_minor >= 0 AND tax_minor >= 0 AND total_minor >= 0",
            name=op.f("ck_orders_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["store_customers.store_id", "store_customers.id"],
            name=op.f("fk_orders_store_id_customer_id_store_customers"),
            ondelete="SET NULL (customer_id)",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_orders")),
        sa.UniqueConstraint("store_id", "order_number", name=op.f("uq_orders_store_id_order_number")),
    )
    op.create_index(
        op.f("ix_orders_store_id_created_at"),
        "orders",
        ["store_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(op.f("ix_orders_store_id_customer_id"), "orders", ["store_id", "customer_id"], unique=False)
    op.create_table(
        "product_variants",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), server_default="Default", nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("inventory", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("inventory >= 0", name=op.f("ck_product_variants_inventory_not_negative")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_product_variants_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["store_id", "currency"],
            ["stores.id", "stores.currency"],
            name=op.f("fk_product_variants_store_id_currency_stores"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "product_id"],
            ["products.store_id", "products.id"],
            name=op.f("fk_product_variants_store_id_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_product_variants_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("store_id", "sku", name=op.f("uq_product_variants_store_id_sku")),
    )
    op.create_index(
        op.f("ix_product_variants_store_id_currency"),
        "product_variants",
        ["store_id", "currency"],
        unique=False,
    )
    op.create_index(
        op.f("ix_product_variants_store_id_product_id_position"),
        "product_variants",
        ["store_id", "product_id", "position"],
        unique=False,
    )
    op.create_table(
        "order_items",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("variant_title", sa.String(length=200), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_items_qty_positive")),
        sa.CheckConstraint(
            "unit_price_minor >= 0 AND total_price_minor >= 0",
            name=op.f("ck_order_items_prices_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["orders.store_id", "orders.id"],
            name=op.f("fk_order_items_store_id_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "product_id"],
            ["products.store_id", "products.id"],
            name=op.f("fk_order_items_store_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id", "variant_id"],
            ["product_variants.store_id", "product_variants.id"],
            name=op.f("fk_order_items_store_id_variant_id_product_variants"),
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_order_items_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_order_items")),
    )
    op.create_index(op.f("ix_order_items_store_id_order_id"), "order_items", ["store_id", "order_id"], unique=False)
    op.create_index(op.f("ix_order_items_store_id_product_id"), "order_items", ["store_id", "product_id"], unique=False)
    op.create_index(op.f("ix_order_items_store_id_variant_id"), "order_items", ["store_id", "variant_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("transaction_id", sa.String(length=255), nullable=False),
        sa.Column(
            "gateway_response",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_payments_currency_format")),
        sa.CheckConstraint(
            "status IN ('pending', 'authorized', 'succeeded', 'failed', 'cancelled', 'refunded', 'partially_refunded')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_payments_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["orders.store_id", "orders.id"],
            name=op.f("fk_payments_store_id_order_id_orders"),
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_payments_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_payments")),
        sa.UniqueConstraint("store_id", "transaction_id", name=op.f("uq_payments_store_id_transaction_id")),
    )
    op.create_index(op.f("ix_payments_store_id_order_id"), "payments", ["store_id", "order_id"], unique=False)

    for table in GLOBAL_TABLES:
        grant_runtime(table)
    for table in TENANT_TABLES:
        enable_store_isolation(table)
    op.execute(NOTIFY_FUNCTION)
    for table, column in (("stores", "id"), ("store_domains", "store_id")):
        op.execute(
            f"CREATE TRIGGER tc_{table}_changed AFTER UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION tc_notify_store_changed('{column}')"
        )


def downgrade() -> None:
    for table in ("stores", "store_domains"):
        op.execute(f"DROP TRIGGER IF EXISTS tc_{table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS tc_notify_store_changed()")
    for table in TENANT_TABLES:
        disable_store_isolation(table)
    op.drop_index(op.f("ix_payments_store_id_order_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_order_items_store_id_variant_id"), table_name="order_items")
    op.drop_index(op.f("ix_order_items_store_id_product_id"), table_name="order_items")
    op.drop_index(op.f("ix_order_items_store_id_order_id"), table_name="order_items")
    op.drop_table("order_items")
    op.drop_index(op.f("ix_product_variants_store_id_product_id_position"), table_name="product_variants")
    op.drop_index(op.f("ix_product_variants_store_id_currency"), table_name="product_variants")
    op.drop_table("product_variants")
    op.drop_index(op.f("ix_orders_store_id_customer_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_store_id_created_at"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_store_members_user_id"), table_name="store_members")
    op.drop_table("store_members")
    op.drop_index(op.f("ix_store_domains_store_id"), table_name="store_domains")
    op.drop_table("store_domains")
    op.drop_index(op.f("ix_store_customers_store_id_user_id"), table_name="store_customers")
    op.drop_table("store_customers")
    op.drop_index(op.f("ix_products_store_id_status"), table_name="products")
    op.drop_table("products")
    op.drop_index(op.f("ix_stores_owner_user_id"), table_name="stores")
    op.drop_table("stores")
    op.drop_table("users")
