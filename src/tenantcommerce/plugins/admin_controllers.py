"""``/api/admin/{slug}/plugins``: installed plugins, and the store's enablement, priority and config of each.
``/api/platform/plugins``: installed plugins for operators."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from tenantcommerce.auth.admin_controllers import ADMIN_PREFIX, request_id
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.errors import NotFound, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.plugins.host import PluginInfo
from tenantcommerce.plugins.models import StorePlugin, StorePluginState
from tenantcommerce.plugins.services import configure_plugin
from tenantcommerce.plugins.types import StoreWarning
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, current_store
from tenantcommerce.tenancy.platform_controllers import operator_signed_in


class StorePluginView(msgspec.Struct, frozen=True, kw_only=True):
    """An installed plugin and how this store uses it. ``state`` is the plugin's own (read-only here)."""

    plugin: PluginInfo
    enabled: bool
    priority: int
    config: dict[str, Any]
    state: dict[str, Any]
    settings_schema: dict[str, Any] | None
    """JSON Schema of ``config`` (``null``: the plugin takes no config)."""
    warnings: list[StoreWarning]


class StorePluginUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to change; absent fields stay. ``config`` replaces the whole config and is validated against the
    plugin's settings schema (422 names the failing fields)."""

    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    priority: Annotated[int, msgspec.Meta(ge=-1000, le=1000)] | msgspec.UnsetType = msgspec.UNSET
    config: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


def _schema_of(runtime: Runtime, plugin_id: str) -> dict[str, Any] | None:
    schema = runtime.plugin_host.registrations.settings_schemas.get(plugin_id)
    return None if schema is None else msgspec.json.schema(schema)


def _installed(runtime: Runtime, plugin_id: str) -> PluginInfo:
    try:
        return runtime.plugin_host.info(plugin_id)
    except KeyError:
        raise NotFound(f"no plugin {plugin_id!r} is installed") from None


async def _warnings_of(runtime: Runtime, store: StoreContext) -> tuple[frozenset[str], list[StoreWarning]]:
    """The store's enabled plugins and every warning they report (``tc_collect_store_warnings``, called once)."""
    plugins = await runtime.plugins.for_store(store)
    enabled = frozenset(plugin.plugin_id for plugin in plugins.plugin_set)
    return enabled, await plugins.collect_store_warnings()


async def _view(
    runtime: Runtime,
    store: StoreContext,
    info: PluginInfo,
    row: StorePlugin | None,
    state: dict[str, Any],
    warned: tuple[frozenset[str], list[StoreWarning]] | None = None,
) -> StorePluginView:
    enabled = bool(row and row.enabled)
    warnings: list[StoreWarning] = []
    if enabled:
        active, all_warnings = warned if warned is not None else await _warnings_of(runtime, store)
        if info.id not in active:
            warnings.append(StoreWarning(message="the saved config no longer matches the plugin's settings: save "
                                         "it again", severity="error", plugin_id=info.id))  # fmt: skip
        else:
            warnings = [warning for warning in all_warnings if warning.plugin_id == info.id]
    return StorePluginView(
        plugin=info,
        enabled=enabled,
        priority=row.priority if row else 0,
        config=dict(row.config) if row else {},
        state=state,
        settings_schema=_schema_of(runtime, info.id),
        warnings=warnings,
    )


async def read_store_plugin(runtime: Runtime, plugin_id: str) -> StorePluginView:
    """``GET /api/admin/{slug}/plugins/{plugin_id}``."""
    info = _installed(runtime, plugin_id)
    async with runtime.database.session() as session:
        row = await session.scalar(select(StorePlugin).where(StorePlugin.plugin_id == plugin_id))
        state = await session.scalar(select(StorePluginState.state).where(StorePluginState.plugin_id == plugin_id))
    return await _view(runtime, current_store(), info, row, dict(state or {}))


async def update_store_plugin(
    request: Request[Any, Any, Any], runtime: Runtime, plugin_id: str, data: StorePluginUpdate
) -> StorePluginView:
    """``PATCH /api/admin/{slug}/plugins/{plugin_id}``."""
    info = _installed(runtime, plugin_id)
    store = current_store()
    async with runtime.database.session() as session:
        row = await configure_plugin(
            session,
            runtime.plugin_host,
            plugin_id,
            enabled=data.enabled,
            priority=data.priority,
            config=data.config,
            principal=principal_of(request),
            request_id=request_id(request),
        )
        await session.commit()
        state = await session.scalar(select(StorePluginState.state).where(StorePluginState.plugin_id == plugin_id))
    # The trigger bumped the store's plugins_version; drop this process's copy now (others hear the NOTIFY).
    await runtime.resolver.invalidate(store.id)
    fresh = await runtime.resolver.by_slug(store.slug)
    return await _view(runtime, fresh or store, info, row, dict(state or {}))


class StorePluginsController(Controller):
    """The store's plugins (read: ``settings:read``; change: ``plugins:manage``)."""

    path = f"{ADMIN_PREFIX}/plugins"
    tags = ["admin: plugins"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def list_plugins(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[StorePluginView]:
        """Installed plugins (by id) with their versions, hooks and providers, and their state in this store."""
        store = current_store()
        async with runtime.database.session() as session:
            rows = {row.plugin_id: row for row in await session.scalars(select(StorePlugin))}
            states = {row.plugin_id: dict(row.state) for row in await session.scalars(select(StorePluginState))}
        infos = runtime.plugin_host.infos()
        warned = await _warnings_of(runtime, store)
        items = [
            await _view(runtime, store, info, rows.get(info.id), states.get(info.id, {}), warned)
            for info in infos[offset : offset + limit]
        ]
        return Page(items=items, limit=limit, offset=offset, total=len(infos))

    @get("/{plugin_id:str}", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def read(self, runtime: NamedDependency[Runtime], plugin_id: FromPath[str]) -> StorePluginView:
        """One installed plugin and its state in this store."""
        return await read_store_plugin(runtime, plugin_id)

    @patch(
        "/{plugin_id:str}", guards=[requires("plugins:manage")], responses=problem_responses(400, 401, 403, 404, 422)
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        plugin_id: FromPath[str],
        data: JSONBody[StorePluginUpdate],
    ) -> StorePluginView:
        """Enable, disable, reorder or configure a plugin for this store. Enabling checks the config too."""
        return await update_store_plugin(request, runtime, plugin_id, data)


class PlatformPluginsController(Controller):
    """Installed plugins, for operators."""

    path = "/api/platform/plugins"
    tags = ["platform: operators"]
    guards = [operator_signed_in]
    security = [{"session": []}]

    @get("/", responses=problem_responses(401, 404))
    async def installed(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[PluginInfo]:
        """Installed plugins (by id) with their distributions, versions, hooks and providers."""
        infos = runtime.plugin_host.infos()
        return Page(items=infos[offset : offset + limit], limit=limit, offset=offset, total=len(infos))
