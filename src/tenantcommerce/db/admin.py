"""Server-level chores done as the admin user: creating, cloning and dropping databases."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import URL

from tenantcommerce.db.urls import asyncpg_dsn


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def connect_admin(server: URL, database: str = "postgres") -> asyncpg.Connection:
    """A plain asyncpg connection to ``database`` on the server of ``server``."""
    return await asyncpg.connect(asyncpg_dsn(server.set(database=database)))


async def ensure_database(server: URL, database: str) -> None:
    """Create ``database`` unless it exists."""
    conn = await connect_admin(server)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f"CREATE DATABASE {_quote(database)}")
    finally:
        await conn.close()


async def create_database(server: URL, database: str, *, template: str | None = None) -> None:
    """Create ``database``, optionally as a copy of ``template``."""
    conn = await connect_admin(server)
    try:
        clause = f" TEMPLATE {_quote(template)}" if template else ""
        await conn.execute(f"CREATE DATABASE {_quote(database)}{clause}")
    finally:
        await conn.close()


async def drop_database(server: URL, database: str) -> None:
    """Drop ``database`` if it exists, ending its connections first."""
    conn = await connect_admin(server)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(database)} WITH (FORCE)")
    finally:
        await conn.close()
