"""Plugins and background work: per-store plugin config and state, the event outbox, the job queue.

* ``store_plugins`` and ``store_plugin_state`` (tenant tables). A trigger bumps ``stores.plugins_version`` on any
  change of a store's ``store_plugins`` rows, so caches keyed by it (and the store cache, through the existing
  ``stores`` NOTIFY trigger) drop the old plugin set.
* ``outbox_events`` and ``outbox_deliveries`` (tenant tables): events written with the change they report.
* procrastinate's schema (its ``schema.sql`` of the pinned version): the global job queue, holding only ids.
* ``tc_outbox_backlog(older_than, max_attempts, max_rows)``: SECURITY DEFINER, fixed ``search_path``; returns ``(store_id,
  event_id)`` pairs of undelivered events across stores, ids only, so the relay can re-queue them without any
  role seeing another store's data.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

from tenantcommerce.db.migration_helpers import create_tenant_table, roles

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSONB_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.add_column("stores", sa.Column("plugins_version", sa.Integer(), server_default=sa.text("0"), nullable=False))
    create_tenant_table(
        "store_plugins",
        sa.Column("plugin_id", sa.String(length=50), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), server_default=_JSONB_EMPTY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("priority BETWEEN -1000 AND 1000", name=op.f("ck_store_plugins_priority_range")),
        sa.UniqueConstraint("store_id", "plugin_id", name=op.f("uq_store_plugins_store_id_plugin_id")),
    )
    create_tenant_table(
        "store_plugin_state",
        sa.Column("plugin_id", sa.String(length=50), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), server_default=_JSONB_EMPTY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("store_id", "plugin_id", name=op.f("uq_store_plugin_state_store_id_plugin_id")),
    )
    create_tenant_table(
        "outbox_events",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index(
        op.f("ix_outbox_events_store_id_delivered_at_created_at"),
        "outbox_events",
        ["store_id", "delivered_at", "created_at"],
    )
    create_tenant_table(
        "outbox_deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("plugin_id", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "event_id"],
            ["outbox_events.store_id", "outbox_events.id"],
            name=op.f("fk_outbox_deliveries_store_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "store_id", "event_id", "plugin_id", name=op.f("uq_outbox_deliveries_store_id_event_id_plugin_id")
        ),
    )
    op.execute(
        """
        CREATE FUNCTION tc_bump_plugins_version() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_catalog AS $$
        BEGIN
            UPDATE stores SET plugins_version = plugins_version + 1
            WHERE id = coalesce(NEW.store_id, OLD.store_id);
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER tc_store_plugins_changed AFTER INSERT OR UPDATE OR DELETE ON store_plugins "
        "FOR EACH ROW EXECUTE FUNCTION tc_bump_plugins_version()"
    )
    _, runtime = roles()
    op.execute(
        """
        CREATE FUNCTION tc_outbox_backlog(older_than interval, max_attempts integer, max_rows integer)
        RETURNS TABLE (store_id uuid, event_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_catalog AS $$
            SELECT e.store_id, e.id FROM outbox_events e
            WHERE e.delivered_at IS NULL AND e.created_at < now() - older_than AND e.attempts < max_attempts
            ORDER BY e.created_at LIMIT max_rows
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION tc_outbox_backlog(interval, integer, integer) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION tc_outbox_backlog(interval, integer, integer) TO {runtime}")
    # The job queue (global: job arguments are ids). Tables get the runtime role's DML by default privileges;
    # its sequences need USAGE too.
    _execute_script(SchemaManager.get_schema())
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {runtime}")


def _execute_script(sql: str) -> None:
    """Run a multi-statement SQL script (asyncpg prepares single statements only; this uses its simple query
    protocol on the migration's own connection and transaction)."""
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    await_only(driver_connection.execute(sql))


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.relname);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c') AND t.typname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
            END LOOP;
        END;
        $$
        """
    )
    op.execute("DROP FUNCTION IF EXISTS tc_outbox_backlog(interval, integer, integer)")
    op.execute("DROP TRIGGER IF EXISTS tc_store_plugins_changed ON store_plugins")
    op.execute("DROP FUNCTION IF EXISTS tc_bump_plugins_version()")
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox_events")
    op.drop_table("store_plugin_state")
    op.drop_table("store_plugins")
    op.drop_column("stores", "plugins_version")
