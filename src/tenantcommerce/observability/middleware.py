"""The outermost request middleware: request id, structlog context, access log line, metrics."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING
from uuid import uuid4

import structlog
from litestar.middleware import ASGIMiddleware

from tenantcommerce.tenancy.middleware import SCOPE_STATE_KEY

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from tenantcommerce.observability.metrics import Metrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_access = structlog.get_logger("tenantcommerce.access")


def request_id_of(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is sane (1-128 of ``A-Za-z0-9._:-``), else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid4().hex


class RequestContextMiddleware(ASGIMiddleware):
    """Binds ``request_id``, ``store_id`` and ``user_id`` for the request's log lines; returns ``X-Request-ID``."""

    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        method: str = scope.get("method", "GET")  # type: ignore[assignment]  # http scopes only (see ``scopes``)
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id, store_id=None, user_id=None):
            try:
                await next_app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                store = scope["state"].get(SCOPE_STATE_KEY)
                route = scope.get("path_template") or "unmatched"
                self.metrics.observe(
                    store=store.slug if store is not None else None,
                    method=method,
                    route=route,
                    status=status,
                    seconds=seconds,
                )
                _access.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                    store_id=str(store.id) if store is not None else None,
                )
