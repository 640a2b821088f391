"""Helpers for Alembic revisions of the core and of plugins.

Create every tenant table through :func:`create_tenant_table` (or call :func:`enable_store_isolation` on one you
created): it adds ``store_id`` leading the primary key, ENABLE and FORCE row level security, the store policy for all
commands with USING and WITH CHECK, and the runtime role's grants. ``tenantcommerce db check`` verifies the result.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

from tenantcommerce.db.isolation import STORE_PREDICATE

POLICY_NAME = "store_isolation"


def roles() -> tuple[str, str]:
    """``(owner, runtime)`` role names of the running migration."""
    attributes = context.config.attributes
    return attributes.get("owner_role", "tenantcommerce_owner"), attributes.get("runtime_role", "tenantcommerce_app")


def grant_runtime(table: str) -> None:
    """SELECT, INSERT, UPDATE, DELETE on ``table`` for the runtime role, and nothing else."""
    _, runtime = roles()
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {runtime}")
    op.execute(f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON {table} FROM {runtime}")


def enable_store_isolation(table: str) -> None:
    """Turn on (and force) row level security on ``table`` with the store policy, and grant the runtime role."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {POLICY_NAME} ON {table} AS PERMISSIVE FOR ALL "
        f"USING ({STORE_PREDICATE}) WITH CHECK ({STORE_PREDICATE})"
    )
    grant_runtime(table)


def disable_store_isolation(table: str) -> None:
    """Undo :func:`enable_store_isolation` (for downgrades of tables that stay)."""
    op.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def create_tenant_table(name: str, *columns: sa.Column[Any] | sa.Constraint | sa.Index, **kwargs: Any) -> sa.Table:
    """``op.create_table`` for a tenant table: ``id`` and ``store_id`` columns, primary key ``(store_id, id)``,
    a foreign key to ``stores``, and :func:`enable_store_isolation`.

    Columns named ``store_id`` or ``id`` and primary keys must not be passed; every other unique constraint and
    every foreign key to another tenant table must lead with ``store_id``.
    """
    table = op.create_table(
        name,
        sa.Column(
            "store_id",
            sa.Uuid(),
            sa.ForeignKey("stores.id", name=f"fk_{name}_store_id_stores"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("store_id", "id", name=f"pk_{name}"),
        **kwargs,
    )
    enable_store_isolation(name)
    return table
