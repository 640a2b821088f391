"""Alembic wiring: where the revisions are, and ``upgrade`` / ``downgrade`` / ``current`` / ``check``.

``upgrade`` connects as the user of ``TC_DATABASE_URL``, creates the roles (``tenantcommerce.db.roles``), then runs
the revisions as the owner role (``SET ROLE``), so the owner owns every table.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

import tenantcommerce
from tenantcommerce.db.admin import connect_admin
from tenantcommerce.db.database import DatabaseUrls, resolve_urls
from tenantcommerce.db.isolation import Problem, check_invariants
from tenantcommerce.db.migration_helpers import POLICY_NAME
from tenantcommerce.db.models import load_models
from tenantcommerce.db.roles import Roles, ensure_roles, grant_schema, restrict_version_table
from tenantcommerce.db.urls import describe, sqlalchemy_url
from tenantcommerce.errors import DatabaseSetupError
from tenantcommerce.settings import Settings


def core_migrations_dir() -> Path:
    """The core's Alembic directory: package data in a wheel, the top-level ``migrations/`` in a source tree."""
    package = Path(tenantcommerce.__file__).resolve().parent
    for candidate in (package / "_migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseSetupError(f"the core migrations are missing: neither {package / '_migrations'} nor the source tree")


@dataclass
class Migrations:
    """The migration set of one deployment: the core's revisions plus any plugin branches."""

    settings: Settings
    extra_locations: Sequence[Path] | None = None
    """Plugin ``versions`` directories; ``None``: those of the installed plugins (``tc_register_migrations``)."""

    def __post_init__(self) -> None:
        if self.extra_locations is None:
            from tenantcommerce.plugins.host import PluginHost

            self.extra_locations = PluginHost.from_settings(self.settings).migration_locations

    @property
    def roles(self) -> Roles:
        """Owner and runtime role names."""
        return Roles(owner=self.settings.db_owner_role, runtime=self.settings.db_runtime_role)

    def config(self, connection: Connection | None = None) -> Config:
        """An Alembic config over every location, bound to ``connection``."""
        core = core_migrations_dir()
        config = Config()
        config.set_main_option("script_location", str(core))
        config.set_main_option("path_separator", "os")
        locations = [core / "versions", *(self.extra_locations or ())]
        config.set_main_option("version_locations", os.pathsep.join(str(path) for path in locations))
        config.attributes["connection"] = connection
        config.attributes["owner_role"] = self.roles.owner
        config.attributes["runtime_role"] = self.roles.runtime
        return config

    @functools.cached_property
    def script(self) -> ScriptDirectory:
        """The revisions of every location, read once."""
        return ScriptDirectory.from_config(self.config())

    def heads(self) -> list[str]:
        """Revision ids of every head (core and plugins)."""
        return sorted(self.script.get_heads())

    def revisions(self) -> list[str]:
        """Every revision id installed (core and plugins)."""
        return sorted(script.revision for script in self.script.walk_revisions())

    def version_heads(self) -> list[str]:
        """What ``alembic_version`` holds once every head is applied: the heads, less those another head depends
        on. (A plugin branch's first revision has ``depends_on`` a core revision; Alembic then records only the
        plugin's revision, since a dependency counts as an ancestor.)"""
        script = self.script

        def below(revision: Script) -> list[Script]:
            names: list[str] = []
            for value in (revision.down_revision, revision.dependencies):
                if value:
                    names += [value] if isinstance(value, str) else list(value)
            found = script.revision_map.get_revisions(names)
            return [rev for rev in found if isinstance(rev, Script)]

        heads = [rev for rev in script.revision_map.get_revisions(script.get_heads()) if isinstance(rev, Script)]
        implied: set[str] = set()
        todo = [revision for head in heads for revision in below(head)]
        while todo:
            revision = todo.pop()
            if revision.revision not in implied:
                implied.add(revision.revision)
                todo += below(revision)
        return sorted({head.revision for head in heads} - implied)

    async def urls(self) -> DatabaseUrls:
        """Admin and runtime URLs (starts the embedded server for ``embedded``)."""
        return await resolve_urls(self.settings)

    async def _setup_roles(self, engine: AsyncEngine) -> None:
        # Roles are cluster-wide: set them up in a short transaction of their own, so a concurrent migration of
        # another database on the same server waits briefly instead of failing; retry if it collided anyway.
        for attempt in range(5):
            try:
                async with engine.begin() as conn:
                    await ensure_roles(conn, self.roles, self.settings.database_runtime_password)
                    await grant_schema(conn, self.roles)
                return
            except DBAPIError as exc:
                if "concurrently" not in str(exc.orig) or attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _as_owner(self, action: Callable[[AsyncConnection], Any], *, setup_roles: bool) -> Any:
        admin = (await self.urls()).admin
        engine = create_async_engine(sqlalchemy_url(admin), poolclass=NullPool)
        try:
            if setup_roles:
                await self._setup_roles(engine)
            async with engine.begin() as conn:
                exists = await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": self.roles.owner})
                if not exists:
                    raise OwnerRoleMissing(
                        f"the owner role {self.roles.owner!r} does not exist: run `tenantcommerce db upgrade`"
                    )
                await conn.execute(text(f"SET LOCAL ROLE {self.roles.owner}"))
                return await action(conn)
        except (OSError, DBAPIError) as exc:
            raise DatabaseSetupError(f"cannot use the database {describe(admin)}: {_reason(exc)}") from exc
        except CommandError as exc:
            raise DatabaseSetupError(f"migration failed: {exc}") from exc
        finally:
            await engine.dispose()

    async def upgrade(self, revision: str = "heads") -> list[str]:
        """Create the roles, then apply revisions up to ``revision`` (all heads by default).

        Returns:
            The revisions the database is at afterwards.
        """

        async def run(conn: AsyncConnection) -> list[str]:
            await conn.run_sync(lambda sync: command.upgrade(self.config(sync), revision))
            await restrict_version_table(conn, self.roles)
            return await _versions(conn)

        result: list[str] = await self._as_owner(run, setup_roles=True)
        return result

    async def downgrade(self, revision: str) -> list[str]:
        """Revert to ``revision`` (``base`` removes every table; the roles stay)."""

        async def run(conn: AsyncConnection) -> list[str]:
            await conn.run_sync(lambda sync: command.downgrade(self.config(sync), revision))
            return await _versions(conn)

        result: list[str] = await self._as_owner(run, setup_roles=False)
        return result

    async def current(self) -> list[str]:
        """The revisions the database is at (none before the first upgrade)."""
        try:
            result: list[str] = await self._as_owner(_versions, setup_roles=False)
        except OwnerRoleMissing:
            return []
        return result

    async def drift(self) -> list[str]:
        """Differences between the models and the migrated schema (empty when they agree)."""

        metadata = load_models()
        foreign: set[str] = set()

        def core_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
            # Tables the core has no model for are drift, except the job queue's and plugins' tenant tables
            # (made by their own branches through create_tenant_table; the isolation invariants check those).
            table = obj if type_ == "table" else getattr(obj, "table", None)
            return table is None or table.name in metadata.tables or table.name not in foreign

        def compare(sync: Connection) -> list[str]:
            foreign.update(
                sync.scalars(
                    text(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND (c.relname LIKE 'procrastinate\\_%' "
                        "OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = :policy))"
                    ),
                    {"policy": POLICY_NAME},
                )
            )
            context = MigrationContext.configure(
                sync, opts={"compare_type": True, "include_schemas": False, "include_object": core_only}
            )
            return [repr(diff) for diff in compare_metadata(context, metadata)]

        async def run(conn: AsyncConnection) -> list[str]:
            result: list[str] = await conn.run_sync(compare)
            return result

        result: list[str] = await self._as_owner(run, setup_roles=False)
        return result

    async def check(self) -> list[str]:
        """Everything wrong: out-of-date schema, model drift, and broken isolation invariants."""
        problems: list[str] = []
        try:
            await self._as_owner(_versions, setup_roles=False)
        except OwnerRoleMissing as exc:
            return [exc.detail]
        current = await self.current()
        heads = self.version_heads()
        if sorted(current) != heads:
            problems.append(f"schema at {current or 'nothing'}, migrations at {heads}: run `tenantcommerce db upgrade`")
        problems += [f"model drift: {diff}" for diff in await self.drift()]
        problems += [str(problem) for problem in await self.invariants()]
        return problems

    async def invariants(self) -> list[Problem]:
        """The isolation invariants on the live catalog."""
        admin = (await self.urls()).admin
        try:
            conn = await connect_admin(admin, admin.database or "postgres")
        except (OSError, asyncpg.PostgresError) as exc:
            raise DatabaseSetupError(f"cannot use the database {describe(admin)}: {exc}") from exc
        try:
            return await check_invariants(conn, self.roles)
        finally:
            await conn.close()


class OwnerRoleMissing(DatabaseSetupError):
    """The owner role does not exist yet: the server was never upgraded."""


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


async def _versions(conn: AsyncConnection) -> list[str]:
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return []
    rows = await conn.execute(text("SELECT version_num FROM alembic_version ORDER BY 1"))
    return [row[0] for row in rows]
