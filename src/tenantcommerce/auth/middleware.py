"""Authentication: a bearer API token, else the session cookie; the result is ``request.user`` (``None`` if anonymous).

A bad bearer token answers 401. A session whose user is gone, whose epoch is old (password changed, sessions revoked)
or that belongs to another store's customers counts as anonymous here.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from litestar import Request
from litestar.middleware import ASGIMiddleware

from tenantcommerce.auth.principal import Principal
from tenantcommerce.auth.sessions import ANONYMOUS_OPT
from tenantcommerce.auth.tokens import API_TOKEN_PREFIX, digest
from tenantcommerce.errors import AuthenticationRequired, TenantCommerceError
from tenantcommerce.tenancy.context import current_store_or_none

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.types import ASGIApp, Receive, Scope, Send

    from tenantcommerce.db.database import Database

_TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=5)


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of the request, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            raw = value.decode("latin-1")
            if raw[:7].lower() == "bearer ":
                return raw[7:].strip()
            return None
    return None


async def principal_from_token(database: Database, token: str) -> Principal | None:
    """The principal of a live API token, or ``None`` (unknown, expired or revoked)."""
    async with database.pool.acquire() as conn:
        row = await conn.fetchrow(
            """
            SELECT t.id, t.store_id, t.permissions, t.last_used_at, u.id AS user_id, u.email, u.is_operator
            FROM api_tokens t JOIN users u ON u.id = t.created_by_user_id
            WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
            """,
            digest(token),
        )
        if row is None:
            return None
        now = datetime.datetime.now(datetime.UTC)
        if row["last_used_at"] is None or now - row["last_used_at"] > _TOKEN_TOUCH_INTERVAL:
            await conn.execute("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", row["id"], now)
    permissions = row["permissions"]
    if isinstance(permissions, str):
        permissions = json.loads(permissions)
    return Principal(
        user_id=row["user_id"],
        email=row["email"],
        is_operator=row["is_operator"],
        via="token",
        token_id=row["id"],
        token_store_id=row["store_id"],
        token_permissions=frozenset(str(name) for name in permissions),
    )


async def principal_from_session(database: Database, session: dict[str, Any]) -> Principal | None:
    """The principal of a signed-in session, or ``None`` when it no longer stands."""
    try:
        user_id = UUID(str(session["uid"]))
        epoch = int(session["epoch"])
        kind = session.get("kind")
        store = session.get("store")
    except (KeyError, TypeError, ValueError):
        return None
    if kind not in ("staff", "customer"):
        return None
    customer_store = None
    if kind == "customer":
        current = current_store_or_none()
        if current is None or store != str(current.id):
            return None  # a customer session belongs to one store only
        customer_store = current.id
    async with database.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT email, is_operator, session_epoch FROM users WHERE id = $1", user_id)
    if row is None or row["session_epoch"] != epoch:
        return None
    return Principal(
        user_id=user_id,
        email=row["email"],
        is_operator=row["is_operator"],
        via="session",
        session_kind=kind,
        customer_store_id=customer_store,
    )


class AuthenticationMiddleware(ASGIMiddleware):
    """Sets ``scope["user"]`` to the request's :class:`Principal` (or ``None``) and logs its ``user_id``."""

    scopes = ("http",)  # type: ignore[assignment]
    exclude_opt_key = ANONYMOUS_OPT

    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        database = self._database()
        principal: Principal | None = None
        token = bearer_token(scope)
        if token is not None and not token.startswith(API_TOKEN_PREFIX):
            token = None  # not one of ours (e.g. the metrics token): nobody is signed in by it
        try:
            if token is not None:
                principal = await principal_from_token(database, token)
                if principal is None:
                    raise AuthenticationRequired("the bearer token is unknown, expired or revoked")
            else:
                session = scope.get("session")
                if isinstance(session, dict) and session.get("uid"):
                    principal = await principal_from_session(database, session)
        except TenantCommerceError as exc:
            request: Request[Any, Any, Any] = Request(scope, receive)
            response = exc.to_problem().to_response(request)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)
            return
        scope["user"] = principal
        scope["auth"] = token
        user_id = str(principal.user_id) if principal is not None else None
        log_tokens = structlog.contextvars.bind_contextvars(user_id=user_id)
        try:
            await next_app(scope, receive, send)
        finally:
            structlog.contextvars.reset_contextvars(**log_tokens)
