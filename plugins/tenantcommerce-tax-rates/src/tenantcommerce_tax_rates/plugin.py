"""The hook implementations of the ``tax-rates`` plugin (entry point ``tax-rates`` in the group
``tenantcommerce``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from tenantcommerce.plugins import Routes, StoreWarning, TaxCalculator, hookimpl

from tenantcommerce_tax_rates.calculator import RateTableCalculator
from tenantcommerce_tax_rates.rates import has_rates
from tenantcommerce_tax_rates.routes import TaxRatesController
from tenantcommerce_tax_rates.settings import TaxRatesSettings

if TYPE_CHECKING:
    from tenantcommerce.plugins import PluginContext
    from tenantcommerce.tenancy.context import StoreContext

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
"""The plugin's Alembic branch (label ``tax_rates``)."""


@hookimpl
def tc_register_tax_calculators(register: Callable[[TaxCalculator], None]) -> None:
    """The ``rate-table`` calculator."""
    register(RateTableCalculator())


@hookimpl
def tc_register_settings_schemas(register: Callable[[type[msgspec.Struct]], None]) -> None:
    """Per-store settings: ``prices_include_tax`` and ``rounding``."""
    register(TaxRatesSettings)


@hookimpl
def tc_register_migrations(register: Callable[[Path], None]) -> None:
    """The ``tax_rates`` table."""
    register(MIGRATIONS)


@hookimpl
def tc_register_routes(register: Callable[[Routes], None]) -> None:
    """CRUD of the store's rates under ``/api/admin/{slug}/plugins/tax-rates/rates``."""
    register(Routes("admin", [TaxRatesController]))


@hookimpl
async def tc_collect_store_warnings(ctx: StoreContext, plugin: PluginContext) -> Sequence[StoreWarning]:
    """A warning while the store has no tax rate (every order would carry zero tax)."""
    async with plugin.transaction() as conn:
        if await has_rates(conn, ctx.id):
            return ()
    return (
        StoreWarning(
            message="no tax rates: orders carry no tax until you add a rate "
            f"(POST /api/admin/{ctx.slug}/plugins/tax-rates/rates)"
        ),
    )
