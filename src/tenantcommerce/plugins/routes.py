"""Mounting plugins' routes under their prefixes, guarded so a store reaches them only while the plugin is
enabled for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Router, get, patch
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody
from litestar.types import Guard

from tenantcommerce.auth.guards import requires, store_member
from tenantcommerce.errors import NotFound
from tenantcommerce.plugins.admin_controllers import (
    StorePluginUpdate,
    StorePluginView,
    read_store_plugin,
    update_store_plugin,
)
from tenantcommerce.plugins.registrations import ROUTE_PREFIXES
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store


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
    managed: set[str] = set()
    for registered in runtime.plugin_host.registrations.routes:
        plugin_id, routes = registered.plugin_id, registered.value
        if only is not None and plugin_id != only:
            continue
        guards: list[Guard] = []
        if routes.scope == "admin":
            guards = [store_member, plugin_enabled(runtime, plugin_id)]
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
        if routes.scope == "admin" and plugin_id not in managed:
            managed.add(plugin_id)
            routers.append(_management_router(plugin_id))
    return routers


def _management_router(plugin_id: str) -> Router:
    """``GET``/``PATCH /api/admin/{slug}/plugins/<plugin_id>`` for a plugin that mounts admin routes there: the
    router takes that path from the core's ``{plugin_id}`` route (a literal segment wins), so it answers it too,
    without the plugin-enabled guard (enabling must work while the plugin is off)."""

    @get("/", guards=[requires("settings:read")], include_in_schema=False)
    async def read_own(runtime: NamedDependency[Runtime]) -> StorePluginView:
        return await read_store_plugin(runtime, plugin_id)

    @patch("/", guards=[requires("plugins:manage")], include_in_schema=False)
    async def update_own(
        request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[StorePluginUpdate]
    ) -> StorePluginView:
        return await update_store_plugin(request, runtime, plugin_id, data)

    return Router(path=ROUTE_PREFIXES["admin"].replace("{plugin_id}", plugin_id), route_handlers=[read_own, update_own])
