"""The edge layer of isolation: resolve the store once per request, put it in the ``ContextVar``, reset it after.

Order: a custom domain from ``store_domains``; a subdomain of ``TC_BASE_DOMAIN``; the ``{slug}`` of
``/api/storefront/{slug}/``, ``/api/admin/{slug}/``, ``/s/{slug}/`` and ``/admin/{slug}/``. Host and path naming
different stores: 404. Platform paths never resolve a store. Unknown store: 404; suspended: 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from litestar import Request
from litestar.middleware import ASGIMiddleware

from tenantcommerce.errors import StoreNotFound, StoreSuspended, TenantCommerceError
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.tenancy.resolver import classify_host, is_store_slug

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.types import ASGIApp, Receive, Scope, Send

    from tenantcommerce.tenancy.resolver import StoreResolver

STORE_PATH_PREFIXES = ("/api/storefront/", "/api/admin/", "/s/", "/admin/")
PLATFORM_PATH_PREFIXES = (
    "/health",
    "/ready",
    "/schema",
    "/metrics",
    "/static/",
    "/api/auth/",
    "/api/stores",
    "/api/platform/",
    "/api/payments/",
    "/api/plugins/",
)
SCOPE_STATE_KEY = "tenantcommerce.store"


def is_platform_path(path: str) -> bool:
    """True for paths that never belong to a store."""
    return path.startswith(PLATFORM_PATH_PREFIXES)


def path_slug(scope: Scope) -> str | None:
    """The ``{slug}`` of a store-scoped path, if the matched route has one."""
    path: str = scope["path"]
    if not path.startswith(STORE_PATH_PREFIXES):
        return None
    slug = scope.get("path_params", {}).get("slug")
    return slug if isinstance(slug, str) else None


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return str(value.decode("latin-1"))
    server = scope.get("server")
    return str(server[0]) if server else ""


class TenancyMiddleware(ASGIMiddleware):
    """Resolves the store of each HTTP request (see the module docstring)."""

    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self, resolver: Callable[[], StoreResolver], base_domain: str) -> None:
        self._resolver = resolver
        self.base_domain = base_domain

    @property
    def resolver(self) -> StoreResolver:
        """The resolver of the running app (it exists once the app has started)."""
        return self._resolver()

    async def resolve(self, scope: Scope) -> StoreContext | None:
        """The store of this request, ``None`` for platform requests.

        Raises:
            StoreNotFound: no store answers, or host and path name different stores.
            StoreSuspended: the store is suspended.
        """
        if is_platform_path(scope["path"]):
            return None
        host = classify_host(_host(scope), self.base_domain)
        if host.slug is not None and not is_store_slug(host.slug):
            raise StoreNotFound(f"no store is served at {host.slug}.{self.base_domain}")
        host_store: StoreContext | None = None
        if host.domain is not None:
            host_store = await self.resolver.by_domain(host.domain)
            if host_store is None:
                raise StoreNotFound(f"no store is served at {host.domain!r}")
        elif host.slug is not None:
            host_store = await self.resolver.by_slug(host.slug)
            if host_store is None:
                raise StoreNotFound(f"no store is called {host.slug!r}")
        slug = path_slug(scope)
        if slug is not None and not is_store_slug(slug):
            raise StoreNotFound(f"no store is called {slug!r}")
        store = host_store
        if slug is not None:
            if host_store is not None and host_store.slug != slug:
                raise StoreNotFound(f"no store is called {slug!r} on this host")
            if host_store is None:
                store = await self.resolver.by_slug(slug)
                if store is None:
                    raise StoreNotFound(f"no store is called {slug!r}")
        if store is not None and store.status != "active":
            raise StoreSuspended(f"the store {store.slug!r} is suspended")
        return store

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        try:
            store = await self.resolve(scope)
        except TenantCommerceError as exc:
            # Answer here, so the outer middleware (request id, metrics, access log) sees the response.
            request: Request[Any, Any, Any] = Request(scope, receive)
            response = exc.to_problem().to_response(request)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)
            return
        if store is None:
            await next_app(scope, receive, send)
            return
        scope.setdefault("state", {})[SCOPE_STATE_KEY] = store
        log_tokens = structlog.contextvars.bind_contextvars(store_id=str(store.id))
        try:
            with use_store(store):
                await next_app(scope, receive, send)
        finally:
            structlog.contextvars.reset_contextvars(**log_tokens)
