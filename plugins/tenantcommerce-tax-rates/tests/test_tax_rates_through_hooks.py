"""The installed plugin, reached the way the core reaches it: discovered by entry point, enabled per store, its saved
config decoded, its rates read from the store's own rows, its warnings collected."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest
from tenantcommerce.db.database import Database
from tenantcommerce.plugins import Address, TaxLine, TaxRequest
from tenantcommerce.plugins.facade import Plugins
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing.plugins import enable_plugin, store_context

from tenantcommerce_tax_rates.calculator import RateTableCalculator

InsertRate = Callable[..., Awaitable[UUID]]

GROSS_LINE = TaxRequest(
    currency="EUR",
    destination=Address(country="DE"),
    lines=[TaxLine(key="v1", sku="S", quantity=1, amount_minor=1190)],
    shipping_minor=595,
)


@pytest.fixture
def plugins(tc_settings: Settings, tc_database: Database) -> Plugins:
    """The app's plugin facade over the installed plugins (as ``runtime.plugins``)."""
    return Plugins(PluginHost.from_settings(tc_settings), tc_database, timeout=10)


async def new_store(database: Database, slug: str, **plugin: Any) -> UUID:
    store = await create_store(database, slug=slug, name=slug.title(), currency="EUR", owner_email=f"o@{slug}.test")
    if plugin:
        await enable_plugin(database, store.id, "tax-rates", **plugin)
    return store.id


def test_the_installed_plugin_registers_its_calculator_settings_routes_and_migrations(tc_settings: Settings) -> None:
    info = PluginHost.from_settings(tc_settings).info("tax-rates")
    assert info.distribution == "tenantcommerce-tax-rates"
    assert info.tax_calculators == ("rate-table",)
    assert info.route_scopes == ("admin",)
    assert info.has_settings
    assert info.has_migrations
    assert "tc_collect_store_warnings" in info.hooks


async def test_the_store_calculator_uses_the_saved_config_and_the_stores_rates(
    plugins: Plugins, tc_database: Database, tax_insert_rate: InsertRate
) -> None:
    store_id = await new_store(tc_database, "gross-shop", config={"prices_include_tax": True})
    await tax_insert_rate(store_id, name="VAT", country="DE", rate_bp=1900, applies_to_shipping=True)
    calculator = (await plugins.for_store(await store_context(tc_database, store_id))).tax_calculator()
    assert calculator is not None
    assert calculator.id == RateTableCalculator.id

    result = await calculator.calculate(GROSS_LINE)

    assert result.prices_include_tax is True
    assert [line.tax_minor for line in result.lines] == [190]  # 1190 gross at 19 %
    assert result.shipping_tax_minor == 95  # 595 gross at 19 %


async def test_a_store_without_the_plugin_enabled_gets_no_calculator(
    plugins: Plugins, tc_database: Database, tax_insert_rate: InsertRate
) -> None:
    store_id = await new_store(tc_database, "plain-shop")
    await tax_insert_rate(store_id, name="VAT", country="DE", rate_bp=1900)
    await enable_plugin(tc_database, store_id, "tax-rates", enabled=False)
    assert (await plugins.for_store(await store_context(tc_database, store_id))).tax_calculator() is None


async def test_the_store_is_warned_until_it_has_a_tax_rate(
    plugins: Plugins, tc_database: Database, tax_insert_rate: InsertRate
) -> None:
    store_id = await new_store(tc_database, "new-shop", config={})
    store = await plugins.for_store(await store_context(tc_database, store_id))

    warnings = await store.collect_store_warnings()
    assert [(warning.plugin_id, warning.severity) for warning in warnings] == [("tax-rates", "warning")]
    assert "no tax rates" in warnings[0].message

    await tax_insert_rate(store_id, name="VAT", country="DE", rate_bp=1900)
    assert await store.collect_store_warnings() == []


async def test_another_stores_rates_never_tax_this_store(
    plugins: Plugins, tc_database: Database, tax_insert_rate: InsertRate
) -> None:
    taxed = await new_store(tc_database, "taxed-shop", config={})
    untaxed = await new_store(tc_database, "untaxed-shop", config={})
    await tax_insert_rate(taxed, name="VAT", country="DE", rate_bp=1900, applies_to_shipping=True)

    results = {}
    for store_id in (taxed, untaxed):
        calculator = (await plugins.for_store(await store_context(tc_database, store_id))).tax_calculator()
        assert calculator is not None
        results[store_id] = (await calculator.calculate(GROSS_LINE)).total_tax_minor

    assert results == {taxed: 226 + 113, untaxed: 0}  # tax on top: 1190 * 19 % = 226.1; 595 * 19 % = 113.05
