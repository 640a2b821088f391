"""Guards: they check permissions, never role names.

* :func:`signed_in`: any authenticated caller (401 otherwise).
* :func:`requires`: a permission in the store of the request. A caller who is not a member of the store (or whose
  token belongs to another store) gets 404, exactly as for a missing resource: nothing reveals that the store's admin
  exists. A member without the permission gets 403 naming it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tenantcommerce.auth.permissions import permissions_for
from tenantcommerce.auth.principal import Principal
from tenantcommerce.errors import AuthenticationRequired, NotFound, PermissionDenied
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from uuid import UUID

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

    from tenantcommerce.db.database import Database

_PERMISSIONS_KEY = "tenantcommerce.permissions"


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The caller, or ``None``."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


async def member_permissions(database: Database, principal: Principal, store_id: UUID) -> frozenset[str] | None:
    """The caller's permissions in a store; ``None`` when the caller may not act for it at all."""
    if principal.via == "session" and principal.session_kind != "staff":
        return None
    if principal.via == "token" and principal.token_store_id != store_id:
        return None
    async with database.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT role, permissions FROM store_members WHERE store_id = $1 AND user_id = $2",
            store_id,
            principal.user_id,
        )
    if row is None:
        return None
    overrides = row["permissions"]
    if isinstance(overrides, str):
        overrides = json.loads(overrides)
    granted = permissions_for(row["role"], overrides)
    if principal.token_permissions is not None:
        granted = granted & principal.token_permissions  # a token never exceeds its creator's current rights
    return granted


async def permissions_in_store(connection: ASGIConnection[Any, Any, Any, Any]) -> frozenset[str]:
    """The caller's permissions in the request's store (cached for the request).

    Raises:
        AuthenticationRequired: nobody is signed in.
        NotFound: the caller may not act for this store.
    """
    cached = connection.scope.get("state", {}).get(_PERMISSIONS_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    principal = principal_of(connection)
    if principal is None:
        raise AuthenticationRequired("sign in, or send an API token as Authorization: Bearer <token>")
    from tenantcommerce.app import runtime_of

    granted = await member_permissions(runtime_of(connection.app).database, principal, current_store().id)
    if granted is None:
        raise NotFound("not found")
    connection.scope.setdefault("state", {})[_PERMISSIONS_KEY] = granted
    return granted


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: someone is signed in (a session or a token)."""
    if principal_of(connection) is None:
        raise AuthenticationRequired("sign in first")


async def staff_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a platform sign-in (not a store customer's session, not a token)."""
    principal = principal_of(connection)
    if principal is None or not principal.is_staff_session:
        raise AuthenticationRequired("sign in at /api/auth/login first")


async def store_member(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the caller (session or API token) may act for the request's store (401 anonymous, 404 otherwise)."""
    await permissions_in_store(connection)


def requires(permission: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """Guard: the caller holds ``permission`` in the request's store."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if permission not in await permissions_in_store(connection):
            raise PermissionDenied(f"you need the {permission!r} permission in this store")

    guard.__name__ = f"requires({permission})"
    return guard
