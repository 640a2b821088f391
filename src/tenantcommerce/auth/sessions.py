"""Server-side sessions: Litestar's session middleware, stored in Postgres by advanced-alchemy's session backend.

The cookie is host-only (no ``Domain``), HttpOnly, SameSite=Lax, and Secure with the ``__Host-`` prefix in production
(plain-http development serves ``tc_session``). The session holds the user id, the user's session epoch (a password
change bumps it, which ends every older session) and, for customers, the store the session belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar.session import SessionModelMixin, SQLAlchemyAsyncSessionBackend
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.types import Empty
from sqlalchemy import func, select

from tenantcommerce.auth.models import HttpSession

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.stores.base import Store
    from litestar.types import Message, ScopeSession
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.settings import Settings

SESSION_MAX_AGE = 14 * 24 * 3600
ANONYMOUS_OPT = "tenantcommerce_anonymous"
"""Route ``opt`` key: the route never needs a session, CSRF or a signed-in user (the storefront catalog, health
checks, metrics), so those middlewares are skipped for it."""


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
        exclude_opt_key=ANONYMOUS_OPT,
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


_ROTATE_KEY = "tenantcommerce.session.rotate"
_NEW_ID_KEY = "tenantcommerce.session.new_id"


def rotate_session(request: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Give the session a new id when this answer is sent (at sign-in and password changes: no fixation)."""
    request.scope.setdefault("state", {})[_ROTATE_KEY] = True


class WriteOnChangeSessionBackend(SQLAlchemyAsyncSessionBackend):
    """advanced-alchemy's Postgres session backend, writing only when the session changed.

    Litestar stores the session on every answer, which would give every anonymous visitor a row and a cookie and
    cost signed-in users a write per request; the library's ``get`` also writes on every read. Here reading never
    writes, an unchanged session writes nothing, an emptied one is deleted (with its cookie), and a session marked
    by :func:`rotate_session` moves to a new id (the old row is deleted).
    """

    async def get(self, /, session_id: str, store: Store) -> bytes | None:
        async with self.alchemy.get_session() as db_session:
            data = await db_session.scalar(
                select(HttpSession.data).where(
                    HttpSession.session_id == session_id[:255], HttpSession.expires_at > func.now()
                )
            )
            await db_session.rollback()
        return data

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATE_KEY):
            new_id: str | None = state.get(_NEW_ID_KEY)
            if new_id is None:
                new_id = state[_NEW_ID_KEY] = self.generate_session_id()
            return new_id
        return super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[_LOADED_KEY] = dict(data)
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        state = connection.scope.get("state", {})
        loaded = state.get(_LOADED_KEY, {})
        old_id = connection.cookies.get(self.config.key)
        if old_id == "null":  # a cleared cookie some browser kept
            old_id = None
        has_cookie = bool(old_id)
        if state.get(_ROTATE_KEY) and old_id:
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
            has_cookie = False
        if scope_session is Empty or not scope_session:
            if has_cookie:
                await self._clear(old_id or "", message, connection)
            return
        if scope_session == loaded and has_cookie:
            return
        await super().store_in_message(scope_session, message, connection)

    async def _clear(self, session_id: str, message: Message, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Delete the session and expire its cookie now (Litestar's own clearing cookie keeps the configured
        Max-Age, which browsers obey over Expires)."""
        await self.delete(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
        cookie = Cookie(
            key=self.config.key,
            value="null",
            max_age=0,
            expires=0,
            path=self.config.path,
            secure=self.config.secure,
            httponly=self.config.httponly,
            samesite=self.config.samesite,
        )
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


def session_payload(user_id: str, epoch: int, *, kind: str, store_id: str | None = None) -> dict[str, Any]:
    """What a signed-in session holds."""
    return {"uid": user_id, "epoch": epoch, "kind": kind, "store": store_id}
