"""The hooks of the ``shipping-rates`` plugin (entry point ``shipping-rates`` in the group ``tenantcommerce``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
from tenantcommerce.plugins import PluginContext, PluginToggled, Routes, ShippingCarrier, StoreWarning, hookimpl
from tenantcommerce.plugins.state import read_state, write_state
from tenantcommerce.tenancy.context import StoreContext

from tenantcommerce_shipping_rates import storage
from tenantcommerce_shipping_rates.api import RatesController
from tenantcommerce_shipping_rates.carrier import RateTableCarrier
from tenantcommerce_shipping_rates.settings import ShippingRatesSettings, settings_of

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
"""The plugin's Alembic branch (``shipping_rates``)."""

SEEDED = "default_rate_seeded"
"""Key of the plugin state set once the default rate was considered for the store (it is never seeded again)."""


@hookimpl
def tc_register_shipping_carriers(register: Callable[[ShippingCarrier], None]) -> None:
    """The ``rate-table`` carrier."""
    register(RateTableCarrier())


@hookimpl
def tc_register_migrations(register: Callable[[Path], None]) -> None:
    """The ``shipping_rates`` table."""
    register(MIGRATIONS)


@hookimpl
def tc_register_settings_schemas(register: Callable[[type[msgspec.Struct]], None]) -> None:
    """:class:`~tenantcommerce_shipping_rates.settings.ShippingRatesSettings`."""
    register(ShippingRatesSettings)


@hookimpl
def tc_register_routes(register: Callable[[Routes], None]) -> None:
    """The rate table's admin API."""
    register(Routes("admin", [RatesController]))


@hookimpl
async def tc_collect_store_warnings(ctx: StoreContext, plugin: PluginContext) -> Sequence[StoreWarning]:
    """Warn while the store has no active rate: the carrier then quotes nothing, so nothing can be shipped."""
    async with plugin.transaction() as conn:
        active = await storage.count_active_rates(conn, plugin.store_id)
    if active:
        return []
    return [
        StoreWarning(
            message="no active shipping rate: customers get no shipping option from the rate table. Add or "
            f"activate one at /api/admin/{ctx.slug}/plugins/{plugin.plugin_id}/rates"
        )
    ]


@hookimpl
async def tc_on_plugin_enabled(ctx: StoreContext, change: PluginToggled, plugin: PluginContext) -> None:
    """The first time this plugin is enabled for a store without rates, add the free flat rate "Standard
    shipping" (unless ``seed_default_rate`` is off), so checkout offers shipping from the start.

    Runs once per store: the plugin state remembers it, so a merchant who later empties the table and enables the
    plugin again is not given the rate back. Repeated or concurrent deliveries add at most one rate.
    """
    if change.plugin_id != plugin.plugin_id or not settings_of(plugin.config).seed_default_rate:
        return
    async with plugin.transaction(readonly=False) as conn:
        state = await read_state(conn, plugin.plugin_id)
        if state.get(SEEDED):
            return
        await storage.seed_default_rate(conn, plugin.store_id)
        await write_state(conn, plugin.plugin_id, {**state, SEEDED: True})
