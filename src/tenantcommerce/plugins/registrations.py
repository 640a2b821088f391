"""What register hooks hand over besides providers: routes and periodic jobs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from litestar.types import ControllerRouterHandler

if TYPE_CHECKING:
    from tenantcommerce.runtime import Runtime

RouteScope = Literal["admin", "storefront", "payments", "platform"]

ROUTE_PREFIXES: dict[RouteScope, str] = {
    "admin": "/api/admin/{slug:str}/plugins/{plugin_id}",
    "storefront": "/api/storefront/{slug:str}/plugins/{plugin_id}",
    "payments": "/api/payments/{plugin_id}",
    "platform": "/api/plugins/{plugin_id}",
}
"""Where each scope mounts. Admin and storefront routes resolve the store from ``{slug}`` and answer 404 while the
plugin is not enabled for it; admin routes also need a signed-in member of the store. Payments and platform routes
resolve no store (webhooks): they find the store themselves and open store-scoped transactions."""


@dataclass(frozen=True)
class Routes:
    """Route handlers of a plugin, mounted under the prefix of ``scope`` (see :data:`ROUTE_PREFIXES`).

    Example::

        @hookimpl
        def tc_register_routes(register):
            register(Routes("admin", [RatesController]))
    """

    scope: RouteScope
    handlers: Sequence[ControllerRouterHandler]


@dataclass(frozen=True)
class PeriodicJob:
    """A job the worker runs on a schedule.

    Attributes:
        name: unique within the plugin (the worker's task is ``<plugin_id>:<name>``).
        cron: five cron fields (minute hour day month weekday), e.g. ``"*/15 * * * *"``.
        run: called with the worker's :class:`~tenantcommerce.runtime.Runtime`. Work on store data opens
            store-scoped transactions (``runtime.database.store_transaction(store_id)``).
    """

    name: str
    cron: str
    run: Callable[[Runtime], Awaitable[None]] = field(repr=False)
