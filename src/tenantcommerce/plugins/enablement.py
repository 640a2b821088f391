"""Which plugins a store has enabled, in what order, with what config: computed once per
``(store_id, plugins_version)`` and cached, never rebuilt per request."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
import structlog

from tenantcommerce.errors import BusinessRuleError, FieldError, InputError, field_errors_of

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database
    from tenantcommerce.plugins.host import PluginHost
    from tenantcommerce.tenancy.context import StoreContext

_log = structlog.get_logger("tenantcommerce.plugins")

CACHED_STORES = 4096
"""Plugin sets kept per process (least recently used dropped first)."""


@dataclass(frozen=True)
class EnabledPlugin:
    """A plugin enabled for a store, with its decoded config."""

    plugin_id: str
    priority: int
    config: Any


@dataclass(frozen=True)
class StorePluginSet:
    """The enabled plugins of one store, highest priority first (ties by plugin id; hooks then keep pluggy's
    call order among equal priorities)."""

    store_id: UUID
    version: int
    plugins: tuple[EnabledPlugin, ...]

    def __iter__(self) -> Iterator[EnabledPlugin]:
        return iter(self.plugins)

    def get(self, plugin_id: str) -> EnabledPlugin | None:
        """The enabled plugin ``plugin_id``, or ``None`` when it is not enabled."""
        for plugin in self.plugins:
            if plugin.plugin_id == plugin_id:
                return plugin
        return None

    def is_enabled(self, plugin_id: str) -> bool:
        """Whether ``plugin_id`` is enabled for the store."""
        return self.get(plugin_id) is not None


def decode_config(host: PluginHost, plugin_id: str, config: dict[str, Any]) -> Any:
    """``config`` validated against the plugin's settings Struct (``None`` without one).

    Raises:
        BusinessRuleError: 422 naming each failing field (as ``config.<field>``).
    """
    nul = _nul_path(config, "config")
    if nul is not None:
        raise InputError(f"{nul} contains a NUL character", errors=[FieldError(nul, "must not contain NUL characters")])
    schema = host.registrations.settings_schemas.get(plugin_id)
    if schema is None:
        if config:
            raise BusinessRuleError(
                f"plugin {plugin_id!r} takes no configuration",
                errors=[FieldError("config", "must be empty: this plugin has no settings")],
            )
        return None
    try:
        return msgspec.convert(config, type=schema, strict=False)
    except msgspec.ValidationError as exc:
        errors = [FieldError(f"config.{error.field}" if error.field != "body" else "config", error.message)
                  for error in field_errors_of(str(exc))]  # fmt: skip
        raise BusinessRuleError(f"invalid configuration for plugin {plugin_id!r}: {exc}", errors=errors) from None


def _nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding a NUL character, which Postgres cannot store."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_path(key, path) or _nul_path(item, f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class StorePluginSets:
    """Loads and caches :class:`StorePluginSet` per ``(store_id, plugins_version)``."""

    def __init__(self, host: PluginHost, database: Database) -> None:
        self.host = host
        self.database = database
        self._cache: OrderedDict[tuple[UUID, int], StorePluginSet] = OrderedDict()
        self.loads = 0
        """How many sets were read from the database (tests check the cache with it)."""

    def forget(self) -> None:
        """Drop every cached set (after registering or unregistering a plugin at run time)."""
        self._cache.clear()

    async def for_store(self, store: StoreContext) -> StorePluginSet:
        """The store's plugin set at ``store.plugins_version``."""
        key = (store.id, store.plugins_version)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        plugin_set = await self._load(store)
        self._cache[key] = plugin_set
        if len(self._cache) > CACHED_STORES:
            self._cache.popitem(last=False)
        return plugin_set

    async def _load(self, store: StoreContext) -> StorePluginSet:
        self.loads += 1
        async with self.database.store_transaction(store.id) as conn:
            rows = await conn.fetch(
                "SELECT plugin_id, priority, config::text AS config FROM store_plugins "
                "WHERE store_id = $1 AND enabled ORDER BY priority DESC, plugin_id",
                store.id,
            )
        plugins = []
        for row in rows:
            plugin_id = row["plugin_id"]
            if not self.host.has_plugin(plugin_id):
                continue  # enabled once, since uninstalled or disabled by TC_DISABLED_PLUGINS
            try:
                config = decode_config(self.host, plugin_id, msgspec.json.decode(row["config"]))
            except BusinessRuleError as exc:
                # The plugin's schema changed since the merchant saved: leave it out until the config is fixed
                # (the admin list and `plugins doctor` show why).
                _log.warning("plugin config invalid", store_id=str(store.id), plugin_id=plugin_id, detail=exc.detail)
                continue
            plugins.append(EnabledPlugin(plugin_id=plugin_id, priority=row["priority"], config=config))
        return StorePluginSet(store_id=store.id, version=store.plugins_version, plugins=tuple(plugins))
