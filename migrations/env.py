"""Alembic environment of tenantcommerce: runs on the connection the CLI hands over (as the owner role)."""

from __future__ import annotations

from alembic import context

from tenantcommerce.db.models import load_models

target_metadata = load_models()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `tenantcommerce db upgrade`, which opens the connection as the owner")
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use `tenantcommerce db upgrade`")
run()
