"""Server-side sessions: Litestar's session middleware, stored in Postgres by advanced-alchemy's session backend.

The cookie is host-only (no ``Domain``), HttpOnly, SameSite=Lax, and Secure with the ``__Host-`` prefix in production
(plain-http development serves ``tc_session``). The session holds the user id, the user's session epoch (a password
change bumps it, which ends every older session) and, for customers, the store the session belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar.session import SessionModelMixin, SQLAlchemyAsyncSessionBackend
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.types import Empty

from tenantcommerce.auth.models import HttpSession

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.settings import Settings

SESSION_MAX_AGE = 14 * 24 * 3600
# Paths that never need a session: the storefront's hot catalog reads and the platform endpoints.
SESSIONLESS_PATHS = [r"^/api/storefront/[^/]+/products", r"^/health", r"^/ready", r"^/metrics", r"^/schema"]


def session_cookie_name(settings: Settings) -> str:
    """``__Host-tc_session`` over https (production), ``tc_session`` on plain-http development."""
    return "__Host-tc_session" if cookies_are_secure(settings) else "tc_session"


def cookies_are_secure(settings: Settings) -> bool:
    """Cookies carry Secure (and the ``__Host-`` prefix) everywhere but plain-http development."""
    return settings.env == "production"


def session_middleware(settings: Settings, sessions: Callable[[], AsyncSession]) -> DefineMiddleware:
    """The session middleware, storing sessions in the ``sessions`` table through ``sessions()``."""
    config = ServerSideSessionConfig(
        key=session_cookie_name(settings),
        max_age=SESSION_MAX_AGE,
        secure=cookies_are_secure(settings),
        httponly=True,
        samesite="lax",
        domain=None,
        path="/",
        exclude=SESSIONLESS_PATHS,
    )
    alchemy = SQLAlchemyAsyncConfig(
        session_maker=sessions,
        enable_touch_updated_timestamp_listener=False,
        enable_file_object_listener=False,
    )
    model = cast("type[SessionModelMixin]", HttpSession)  # the same columns; our own metadata and migrations
    backend = WriteOnChangeSessionBackend(config=config, alchemy_config=alchemy, model=model)
    return DefineMiddleware(SessionMiddleware, backend=backend)


_LOADED_KEY = "tenantcommerce.session.loaded"


class WriteOnChangeSessionBackend(SQLAlchemyAsyncSessionBackend):
    """advanced-alchemy's Postgres session backend, writing only when the session changed.

    Litestar stores the session on every answer, which would give every anonymous visitor a row and a cookie and
    cost signed-in users a write per request. Here an unchanged session writes nothing, and an emptied one is
    deleted (with its cookie).
    """

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[_LOADED_KEY] = dict(data)
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        loaded = connection.scope.get("state", {}).get(_LOADED_KEY, {})
        has_cookie = bool(connection.cookies.get(self.config.key))
        if scope_session is Empty or not scope_session:
            if has_cookie:
                await super().store_in_message(Empty, message, connection)
            return
        if scope_session == loaded and has_cookie:
            return
        await super().store_in_message(scope_session, message, connection)


def session_payload(user_id: str, epoch: int, *, kind: str, store_id: str | None = None) -> dict[str, Any]:
    """What a signed-in session holds."""
    return {"uid": user_id, "epoch": epoch, "kind": kind, "store": store_id}
