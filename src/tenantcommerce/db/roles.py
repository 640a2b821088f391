"""The owner and runtime roles: created idempotently by ``db upgrade``, never dropped.

* owner (``TC_DB_OWNER_ROLE``): NOLOGIN, BYPASSRLS; owns every table and runs migrations (``SET ROLE``).
* runtime (``TC_DB_RUNTIME_ROLE``): LOGIN, NOSUPERUSER, NOBYPASSRLS; owns nothing; SELECT/INSERT/UPDATE/DELETE on
  the tables it needs (default privileges cover tables added later); no TRUNCATE, no REFERENCES.

Roles are cluster-wide, so a second database on the same server reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantcommerce.errors import DatabaseSetupError


@dataclass(frozen=True)
class Roles:
    """The two role names in use."""

    owner: str
    runtime: str


def _create_role(name: str, attributes: str) -> str:
    # CREATE ROLE has no IF NOT EXISTS; two databases migrated at once may race, hence both conditions.
    return (
        "DO $tc$ BEGIN "
        f"CREATE ROLE {name} {attributes}; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
        "END $tc$"
    )


async def ensure_roles(connection: AsyncConnection, roles: Roles, runtime_password: str | None) -> None:
    """Create the roles if missing, fix their attributes, and let the migrating user act as the owner.

    Raises:
        DatabaseSetupError: the connected user may not create roles.
    """
    me = (
        await connection.execute(
            text("SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        )
    ).one()
    if not me.rolsuper:
        ready = await connection.execute(
            text(
                "SELECT count(*) = 2 AND bool_and(pg_has_role(current_user, :owner, 'MEMBER') OR rolname <> :owner) "
                "FROM pg_roles WHERE rolname IN (:owner, :runtime)"
            ),
            {"owner": roles.owner, "runtime": roles.runtime},
        )
        if ready.scalar():
            return
        raise DatabaseSetupError(
            f"the user {me.rolname!r} of TC_DATABASE_URL cannot set up roles: run `tenantcommerce db upgrade` once "
            f"as a superuser (it creates the BYPASSRLS owner role {roles.owner!r} and the runtime role "
            f"{roles.runtime!r}), or have them created and grant {roles.owner!r} to {me.rolname!r}"
        )
    await connection.execute(text(_create_role(roles.owner, "NOLOGIN BYPASSRLS")))
    await connection.execute(text(_create_role(roles.runtime, "LOGIN NOSUPERUSER NOBYPASSRLS")))
    # ALTER only what differs: altering a role locks its row cluster-wide, and other databases may be migrating.
    attributes = {
        row.rolname: row
        for row in await connection.execute(
            text(
                "SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles "
                "WHERE rolname IN (:owner, :runtime)"
            ),
            {"owner": roles.owner, "runtime": roles.runtime},
        )
    }
    owner, runtime = attributes[roles.owner], attributes[roles.runtime]
    if owner.rolcanlogin or owner.rolsuper or not owner.rolbypassrls:
        await connection.execute(text(f"ALTER ROLE {roles.owner} NOLOGIN NOSUPERUSER BYPASSRLS"))
    if (
        not runtime.rolcanlogin
        or runtime.rolsuper
        or runtime.rolbypassrls
        or runtime.rolcreatedb
        or runtime.rolcreaterole
    ):
        await connection.execute(
            text(f"ALTER ROLE {roles.runtime} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        )
    if runtime_password is not None:
        await connection.execute(text("SELECT set_config('tenantcommerce.pw', :pw, true)"), {"pw": runtime_password})
        await connection.execute(
            text(
                "DO $tc$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', "
                f"'{roles.runtime}', current_setting('tenantcommerce.pw')); END $tc$"
            )
        )
    # The migrating user acts as the owner through SET ROLE; the runtime role must never be able to.
    acts_as_owner = await connection.execute(
        text("SELECT pg_has_role(current_user, :owner, 'MEMBER')"), {"owner": roles.owner}
    )
    if not acts_as_owner.scalar():
        await connection.execute(text(f"GRANT {roles.owner} TO current_user"))
    member = await connection.execute(
        text("SELECT pg_has_role(:runtime, :owner, 'MEMBER')"),
        {"runtime": roles.runtime, "owner": roles.owner},
    )
    if member.scalar():
        await connection.execute(text(f"REVOKE {roles.owner} FROM {roles.runtime}"))


async def grant_schema(connection: AsyncConnection, roles: Roles) -> None:
    """Per database: the owner creates in ``public``; the runtime role uses it and gets DML on new tables."""
    await connection.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {roles.owner}"))
    await connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {roles.runtime}"))
    await connection.execute(text(f"REVOKE CREATE ON SCHEMA public FROM {roles.runtime}"))
    await connection.execute(
        text(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {roles.owner} IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {roles.runtime}"
        )
    )


async def restrict_version_table(connection: AsyncConnection, roles: Roles) -> None:
    """The runtime role may read the schema version (to refuse an old schema) and never write it."""
    await connection.execute(
        text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON alembic_version FROM {roles.runtime}")
    )
    await connection.execute(text(f"GRANT SELECT ON alembic_version TO {roles.runtime}"))
