"""The outermost request middleware: request id, structlog context, access log line, metrics."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING
from uuid import uuid4

import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from tenantcommerce.observability.logging import AccessLog
from tenantcommerce.tenancy.middleware import SCOPE_STATE_KEY

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from tenantcommerce.observability.metrics import Metrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is sane (1-128 of ``A-Za-z0-9._:-``), else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid4().hex


OBSERVED_KEY = "tenantcommerce.observed"


def _request_id(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    request_id: str | None = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = request_id_of(scope)
    return request_id


class RequestObserver:
    """Request id, log context, the access line and metrics for every answer, routed or not.

    Routed requests pass through :meth:`middleware`; answers Litestar gives before any route matched (404, 405)
    are observed from its ``after_exception`` hook. Every answer gets ``X-Request-ID`` from the ``before_send`` hook.
    """

    def __init__(self, metrics: Metrics, access_log: AccessLog) -> None:
        self.metrics = metrics
        self.access_log = access_log

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        """Write the access line and the metrics of one answer."""
        store = scope.get("state", {}).get(SCOPE_STATE_KEY)
        method: str = scope.get("method", "GET")  # type: ignore[assignment]  # http scopes only
        self.metrics.observe(
            store=store.slug if store is not None else None,
            method=method,
            route=scope.get("path_template") or "unmatched",
            status=status,
            seconds=seconds,
        )
        self.access_log.write(
            method=method,
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 2),
            store_id=str(store.id) if store is not None else None,
            user_id=str(user.user_id) if (user := scope.get("user")) is not None else None,
            request_id=_request_id(scope),
        )

    async def before_send(self, message: Message, scope: Scope) -> None:
        """Add ``X-Request-ID`` to every HTTP answer."""
        if message["type"] == "http.response.start":
            header = (b"x-request-id", _request_id(scope).encode("latin-1"))
            message["headers"] = [*message.get("headers", ()), header]

    async def after_exception(self, exception: Exception, scope: Scope) -> None:
        """Observe answers that no route middleware saw (unknown path, method not allowed)."""
        if scope.get("type") != ScopeType.HTTP or scope.get("state", {}).get(OBSERVED_KEY):
            return
        self.record(scope, getattr(exception, "status_code", 500), 0.0)

    def middleware(self) -> RequestContextMiddleware:
        """The route middleware of routed requests."""
        return RequestContextMiddleware(self)


class RequestContextMiddleware(ASGIMiddleware):
    """Binds ``request_id``, ``store_id`` and ``user_id`` for the request's log lines; records the answer."""

    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self, observer: RequestObserver) -> None:
        self.observer = observer

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope["state"][OBSERVED_KEY] = True
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        log_tokens = structlog.contextvars.bind_contextvars(request_id=request_id, store_id=None, user_id=None)
        try:
            await next_app(scope, receive, send_and_watch)
        except Exception as exc:
            # Raised by a middleware below (CSRF, tenancy, auth): the app's handler answers with this status.
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            self.observer.record(scope, status, time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**log_tokens)
