"""Mounting plugins' routes under their prefixes, guarded so a store reaches them only while the plugin is
enabled for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from tenantcommerce.auth.guards import staff_signed_in
from tenantcommerce.errors import NotFound
from tenantcommerce.plugins.registrations import ROUTE_PREFIXES
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from tenantcommerce.runtime import Runtime


def plugin_enabled(
    runtime: Runtime, plugin_id: str
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """Guard: 404 unless ``plugin_id`` is enabled for the store of the request."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        plugins = await runtime.plugins.sets.for_store(current_store())
        if not plugins.is_enabled(plugin_id):
            raise NotFound(f"plugin {plugin_id!r} is not enabled for this store")

    return guard


def plugin_routers(runtime: Runtime, *, only: str | None = None) -> list[Router]:
    """A router per plugin and scope, under :data:`~tenantcommerce.plugins.registrations.ROUTE_PREFIXES`
    (``only``: of that plugin alone)."""
    routers = []
    for registered in runtime.plugin_host.registrations.routes:
        plugin_id, routes = registered.plugin_id, registered.value
        if only is not None and plugin_id != only:
            continue
        guards: list[Guard] = []
        if routes.scope == "admin":
            guards = [staff_signed_in, plugin_enabled(runtime, plugin_id)]
        elif routes.scope == "storefront":
            guards = [plugin_enabled(runtime, plugin_id)]
        routers.append(
            Router(
                path=ROUTE_PREFIXES[routes.scope].replace("{plugin_id}", plugin_id),
                route_handlers=list(routes.handlers),
                guards=guards,
                tags=[f"plugin: {plugin_id}"],
            )
        )
    return routers
