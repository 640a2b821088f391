"""The async dispatcher: runs decide, collect and event hooks for one store's enabled plugins.

pluggy is synchronous, so it only discovers, validates and orders implementations; this module awaits them. Order:
highest ``store_plugins.priority`` first, ties in pluggy's call order (``tryfirst``/``trylast``, then the last
registered first). Every call has a timeout (``TC_PLUGIN_TIMEOUT``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import structlog
from pluggy import HookImpl

from tenantcommerce.errors import PluginError, PluginTimeout, TenantCommerceError
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.host import hook_kind

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database
    from tenantcommerce.observability.metrics import Metrics
    from tenantcommerce.plugins.enablement import EnabledPlugin, StorePluginSet
    from tenantcommerce.plugins.host import PluginHost
    from tenantcommerce.tenancy.context import StoreContext

_log = structlog.get_logger("tenantcommerce.plugins")

T = TypeVar("T")


async def call_with_timeout(
    plugin_id: str, what: str, seconds: float, call: Callable[[], Awaitable[T]], metrics: Metrics | None = None
) -> T:
    """Await ``call()`` within ``seconds``.

    Raises:
        PluginTimeout: it took longer.
        PluginError: it raised something other than a tenantcommerce error (those pass through unchanged: a
            plugin may answer 422 or 404 on purpose).
    """
    try:
        async with asyncio.timeout(seconds):
            return await call()
    except TimeoutError:
        if metrics is not None:
            metrics.plugin_failure(plugin_id, what, "timeout")
        raise PluginTimeout(
            f"plugin {plugin_id!r} did not answer {what} within {seconds:g} s", plugin_id=plugin_id
        ) from None
    except TenantCommerceError:
        raise
    except Exception as exc:
        if metrics is not None:
            metrics.plugin_failure(plugin_id, what, "error")
        _log.exception("plugin failed", plugin_id=plugin_id, call=what)
        raise PluginError(f"plugin {plugin_id!r} failed in {what}: {type(exc).__name__}", plugin_id=plugin_id) from exc


class Dispatcher:
    """Calls hooks for a store."""

    def __init__(self, host: PluginHost, database: Database, timeout: float, metrics: Metrics | None = None) -> None:
        self.host = host
        self.database = database
        self.timeout = timeout
        self.metrics = metrics

    def plugin_context(self, store: StoreContext, enabled: EnabledPlugin) -> PluginContext:
        """What ``enabled`` gets as ``plugin`` for ``store``."""
        return PluginContext(
            plugin_id=enabled.plugin_id, store_id=store.id, config=enabled.config, database=self.database
        )

    def implementations(self, hook: str, plugins: StorePluginSet) -> list[tuple[EnabledPlugin, HookImpl]]:
        """The store's implementations of ``hook`` in calling order; plugins not enabled are left out."""
        ranked = []
        for position, impl in enumerate(self.host.implementations(hook)):
            enabled = plugins.get(impl.plugin_name)
            if enabled is not None:
                ranked.append((-enabled.priority, position, enabled, impl))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [(enabled, impl) for _, _, enabled, impl in ranked]

    async def call(
        self, hook: str, store: StoreContext, enabled: EnabledPlugin, impl: HookImpl, arguments: dict[str, Any]
    ) -> Any:
        """One implementation, with ``ctx`` and ``plugin`` added and only the arguments it declares."""
        offered = {"ctx": store, "plugin": self.plugin_context(store, enabled), **arguments}
        kwargs = {name: offered[name] for name in impl.argnames}
        function = cast("Callable[..., Awaitable[Any]]", impl.function)
        return await call_with_timeout(enabled.plugin_id, hook, self.timeout, lambda: function(**kwargs), self.metrics)

    async def decide(self, hook: str, store: StoreContext, plugins: StorePluginSet, **arguments: Any) -> Any:
        """The first non-``None`` result of a decide hook (``None`` when every plugin passes)."""
        _expect(hook, "decide")
        for enabled, impl in self.implementations(hook, plugins):
            result = await self.call(hook, store, enabled, impl, arguments)
            if result is not None:
                return result
        return None

    async def collect(self, hook: str, store: StoreContext, plugins: StorePluginSet, **arguments: Any) -> list[Any]:
        """Every result of a collect hook, in calling order (``None`` results are left out; sequences are
        flattened)."""
        _expect(hook, "collect")
        results: list[Any] = []
        for enabled, impl in self.implementations(hook, plugins):
            result = await self.call(hook, store, enabled, impl, arguments)
            if result is None:
                continue
            if isinstance(result, list | tuple):
                results.extend(result)
            else:
                results.append(result)
        return results


def _expect(hook: str, kind: str) -> None:
    if hook_kind(hook) != kind:
        raise ValueError(f"{hook} is a {hook_kind(hook)} hook, not a {kind} hook")
