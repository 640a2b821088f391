"""The app's connections: an SQLAlchemy engine for admin and write paths, an asyncpg pool for hot reads.

Both connect as the runtime role. At start-up the app checks the role it actually got and refuses to serve when it
is a superuser, has BYPASSRLS, can act as the owner, or owns a table; and it refuses an out-of-date schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from tenantcommerce.db.session import STORE_SETTING, TenantSession
from tenantcommerce.db.urls import asyncpg_dsn, describe, parse, sqlalchemy_url, with_user
from tenantcommerce.errors import DatabaseSetupError

if TYPE_CHECKING:
    from tenantcommerce.db.roles import Roles
    from tenantcommerce.settings import Settings


@dataclass(frozen=True)
class DatabaseUrls:
    """Where migrations run (``admin``, the user of ``TC_DATABASE_URL``) and where the app serves (``runtime``)."""

    admin: URL
    runtime: URL


async def resolve_urls(settings: Settings) -> DatabaseUrls:
    """The admin and runtime URLs of ``settings``; ``embedded`` starts the embedded server first."""
    raw = settings.require_database_url()
    if raw == "embedded":
        from tenantcommerce.db.embedded import embedded_database_url

        admin = await embedded_database_url(settings.data_dir)
    else:
        admin = parse(raw)
    if settings.database_runtime_url is not None:
        runtime = parse(settings.database_runtime_url, variable="TC_DATABASE_RUNTIME_URL")
    else:
        runtime = with_user(admin, settings.db_runtime_role, settings.database_runtime_password)
    return DatabaseUrls(admin=admin, runtime=runtime)


def _set_store_sql(store_id: UUID, *, readonly: bool) -> str:
    # One round trip: BEGIN and the transaction-local store setting. store_id is a UUID object, so its text is
    # hex digits and dashes only and safe to inline.
    if not isinstance(store_id, UUID):
        raise TypeError("store_id must be a UUID")
    mode = " READ ONLY" if readonly else ""
    return f"BEGIN{mode}; SELECT set_config('{STORE_SETTING}', '{store_id}', true)"


async def _rollback_only(connection: asyncpg.Connection) -> None:
    """The pool's reset on release: asyncpg still rolls back an open transaction first; nothing more is needed.

    The store setting is transaction-local and the app sets no session state, so asyncpg's default reset query
    (``RESET ALL``, ``UNLISTEN *``, ...) would only cost a round trip per request. The pool tests check that a
    released connection carries no store.
    """


class Database:
    """Connections of one app to one database, as the runtime role."""

    def __init__(self, runtime_url: URL, *, pool_size: int = 10) -> None:
        self.url = runtime_url
        self.pool_size = pool_size
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._pool: asyncpg.Pool | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (after :meth:`connect`)."""
        if self._engine is None:
            raise RuntimeError("Database.connect() has not run")
        return self._engine

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool of the hot read path (after :meth:`connect`)."""
        if self._pool is None:
            raise RuntimeError("Database.connect() has not run")
        return self._pool

    async def connect(self) -> None:
        """Open the engine and the pool."""
        self._engine = create_async_engine(
            sqlalchemy_url(self.url),
            pool_size=self.pool_size,
            max_overflow=self.pool_size,
            pool_pre_ping=True,
        )
        self._sessions = async_sessionmaker(self._engine, sync_session_class=TenantSession, expire_on_commit=False)
        try:
            self._pool = await asyncpg.create_pool(
                asyncpg_dsn(self.url),
                min_size=1,
                max_size=self.pool_size,
                command_timeout=60,
                reset=_rollback_only,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            await self._engine.dispose()
            raise DatabaseSetupError(f"cannot connect to {describe(self.url)}: {exc}") from exc

    async def close(self) -> None:
        """Close the pool and the engine."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    def session(self) -> AsyncSession:
        """A new ORM session bound to the store in context (or to platform scope)."""
        if self._sessions is None:
            raise RuntimeError("Database.connect() has not run")
        return self._sessions()

    @asynccontextmanager
    async def store_transaction(
        self, store_id: UUID, *, readonly: bool = True
    ) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """A pooled asyncpg connection inside a transaction that has set the store first.

        Commits when the block ends, rolls back when it raises. The setting is transaction-local, so the connection
        goes back to the pool carrying no store.
        """
        async with self.pool.acquire() as conn:
            await conn.execute(_set_store_sql(store_id, readonly=readonly))
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")

    async def delete_in_every_store(self, sql: str, *args: object) -> int:
        """Run a ``DELETE`` in each store, in a transaction scoped to that store (as the runtime role): ``$1`` is the
        store's id, ``args`` follow as ``$2``, ``$3``, ... (housekeeping: pruning old rows).

        Returns:
            How many rows were deleted in all.
        """
        async with self.pool.acquire() as conn:
            store_ids = [row["id"] for row in await conn.fetch("SELECT id FROM stores")]
        deleted = 0
        for store_id in store_ids:
            async with self.store_transaction(store_id, readonly=False) as conn:
                status = await conn.execute(sql, store_id, *args)
            deleted += int(status.split()[-1])
        return deleted

    async def check_runtime_role(self, roles: Roles) -> str:
        """Refuse to serve as a role that could see or change more than one store at a time.

        Returns:
            The name of the role the app serves as.

        Raises:
            DatabaseSetupError: the role is a superuser, has BYPASSRLS, can act as the owner, or owns a table.
        """
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                """
                SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                       pg_has_role(r.oid, o.oid, 'MEMBER') AS acts_as_owner,
                       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p', 'v', 'm')
                           AND n.nspname NOT IN ('pg_catalog', 'information_schema')) AS owned
                FROM pg_roles r LEFT JOIN pg_roles o ON o.rolname = $1
                WHERE r.rolname = current_user
                """,
                roles.owner,
            )
        assert row is not None
        problems = []
        if row["rolsuper"]:
            problems.append("is a superuser")
        if row["rolbypassrls"]:
            problems.append("has BYPASSRLS")
        if row["acts_as_owner"]:
            problems.append(f"can act as the owner role {roles.owner!r}")
        if row["owned"]:
            problems.append(f"owns {row['owned']} table(s)")
        if problems:
            raise DatabaseSetupError(
                f"refusing to serve as role {row['rolname']!r}: it {', '.join(problems)}, so Row Level Security "
                f"would not isolate stores. Serve as the runtime role {roles.runtime!r} (unset "
                "TC_DATABASE_RUNTIME_URL, or point it at that role)"
            )
        return str(row["rolname"])

    async def check_schema_current(self, heads: Iterable[str], known: Iterable[str] | None = None) -> None:
        """Refuse a schema older (or other) than the migrations installed.

        Raises:
            DatabaseSetupError: the database is not at the installed heads.
        """
        expected = set(heads)
        async with self.pool.acquire() as conn:
            try:
                rows = await conn.fetch("SELECT version_num FROM alembic_version")
            except asyncpg.UndefinedTableError:
                rows = []
            except asyncpg.InsufficientPrivilegeError:
                raise DatabaseSetupError(
                    "the runtime role cannot read alembic_version: run `tenantcommerce db upgrade`"
                ) from None
        found = {row["version_num"] for row in rows}
        unknown = found - set(known) if known is not None else set()
        if unknown:
            raise DatabaseSetupError(
                f"the database holds revisions no installed package provides: {sorted(unknown)}. A plugin "
                "with tables was uninstalled or disabled: reinstall (or re-enable) it, then remove its tables with "
                "`tenantcommerce db downgrade <branch>@base` before uninstalling it"
            )
        if found != expected:
            raise DatabaseSetupError(
                f"the database schema is not current (at {sorted(found) or 'nothing'}, installed "
                f"{sorted(expected)}): run `tenantcommerce db upgrade`"
            )

    async def ping(self) -> None:
        """One round trip through the ORM engine (readiness)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
