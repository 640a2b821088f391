"""What enabling the plugin does (the default rate, delivered through the outbox) and the store warning."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from tenantcommerce.app import runtime_of
from tenantcommerce.db.database import Database
from tenantcommerce.errors import BusinessRuleError
from tenantcommerce.plugins import Address, PluginHost, PluginToggled, ShippingLine, ShippingRequest
from tenantcommerce.plugins.enablement import decode_config
from tenantcommerce.plugins.facade import Plugins
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing.plugins import enable_plugin, plugin_context, run_pending_jobs, store_context

from tenantcommerce_shipping_rates import plugin as hooks
from tenantcommerce_shipping_rates.settings import ShippingRatesSettings

ENABLED = PluginToggled(plugin_id="shipping-rates", enabled=True)


async def test_enabling_the_plugin_gives_a_store_without_rates_one_free_flat_rate(shipping_merchant: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("seed-once")

    await run_pending_jobs(client)

    rates = (await client.get(merchant.rates_url(slug))).json()["items"]
    assert [
        (rate["name"], rate["kind"], rate["countries"], rate["amount_minor"], rate["active"]) for rate in rates
    ] == [("Standard shipping", "flat", [], 0, True)]


async def test_enabling_again_after_the_table_was_emptied_adds_nothing(shipping_merchant: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("seed-again")
    await run_pending_jobs(client)
    (seeded,) = (await client.get(merchant.rates_url(slug))).json()["items"]
    deleted = await client.delete(merchant.rates_url(slug, seeded["id"]), headers=merchant.headers)
    assert deleted.status_code == 204

    await merchant.set_plugin(slug, enabled=False)
    await merchant.set_plugin(slug, enabled=True)
    await run_pending_jobs(client)

    assert await merchant.rate_names(slug) == []


async def test_no_rate_is_added_when_the_merchant_turned_seeding_off(shipping_merchant: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("seed-off", enable=False)
    await merchant.set_plugin(slug, enabled=True, config={"seed_default_rate": False})

    await run_pending_jobs(client)

    assert await merchant.rate_names(slug) == []


async def test_the_hook_delivered_twice_or_for_another_plugin_adds_at_most_one_rate(tc_database: Database) -> None:
    store = await create_store(tc_database, slug="seed-twice", name="Twice", currency="EUR", owner_email="o@t.test")
    await enable_plugin(tc_database, store.id, "shipping-rates")
    ctx = await store_context(tc_database, store.id)
    plugin = plugin_context(tc_database, store.id, "shipping-rates", ShippingRatesSettings())

    await hooks.tc_on_plugin_enabled(ctx, PluginToggled(plugin_id="tax-rates", enabled=True), plugin)
    assert await count_rates(plugin) == 0, "another plugin being enabled is none of this plugin's business"
    await hooks.tc_on_plugin_enabled(ctx, ENABLED, plugin)
    await hooks.tc_on_plugin_enabled(ctx, ENABLED, plugin)

    assert await count_rates(plugin) == 1
    assert await plugin.get_state() == {"default_rate_seeded": True}


async def test_a_store_that_already_has_rates_gets_no_default(tc_database: Database) -> None:
    store = await create_store(tc_database, slug="seed-has", name="Has", currency="EUR", owner_email="o@h.test")
    ctx = await store_context(tc_database, store.id)
    plugin = plugin_context(tc_database, store.id, "shipping-rates", ShippingRatesSettings())
    async with plugin.transaction(readonly=False) as conn:
        await conn.execute(
            "INSERT INTO shipping_rates (store_id, id, name, kind, amount_minor, active) "
            "VALUES ($1, gen_random_uuid(), 'Paused', 'flat', 100, false)",
            store.id,
        )

    await hooks.tc_on_plugin_enabled(ctx, ENABLED, plugin)

    assert await count_rates(plugin) == 1


async def count_rates(plugin: Any) -> int:
    async with plugin.transaction() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM shipping_rates"))


async def test_the_store_is_warned_while_it_has_no_active_rate(shipping_merchant: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("seed-warn")
    plugin_url = f"/api/admin/{slug}/plugins/shipping-rates"

    async def warnings() -> list[str]:
        response = await client.get("/api/admin/" + slug + "/plugins", params={"limit": 100})
        assert response.status_code == 200, response.text
        (view,) = [item for item in response.json()["items"] if item["plugin"]["id"] == "shipping-rates"]
        return [warning["message"] for warning in view["warnings"]]

    assert len(await warnings()) == 1
    assert f"{plugin_url}/rates" in (await warnings())[0]
    rate = await merchant.create_rate(slug, name="Paused", amount_minor=500, active=False)
    assert len(await warnings()) == 1, "an inactive rate does not count"

    changed = await client.patch(merchant.rates_url(slug, rate["id"]), json={"active": True}, headers=merchant.headers)
    assert changed.status_code == 200

    assert await warnings() == []


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"default_estimated_days": -1}, "config.default_estimated_days"),
        ({"default_estimated_days": "soon"}, "config.default_estimated_days"),
        ({"seed_default_rate": "yes"}, "config.seed_default_rate"),
        ({"colour": "red"}, "config.colour"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(app: Litestar, config: dict[str, Any], field: str) -> None:
    host = runtime_of(app).plugin_host

    with pytest.raises(BusinessRuleError) as refused:
        decode_config(host, "shipping-rates", config)

    assert [error.field for error in refused.value.errors] == [field]
    assert decode_config(host, "shipping-rates", {}) == ShippingRatesSettings()


async def test_enabling_with_invalid_settings_is_a_422_and_leaves_the_plugin_off(
    shipping_merchant: Any, shipping_problem: Any, shipping_error_fields: Any
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("seed-bad-config", enable=False)

    refused = await client.patch(
        f"/api/admin/{slug}/plugins/shipping-rates",
        json={"enabled": True, "config": {"default_estimated_days": -1}},
        headers=merchant.headers,
    )

    assert shipping_error_fields(shipping_problem(refused, 422)) == {"config.default_estimated_days"}
    shipping_problem(await client.get(merchant.rates_url(slug)), 404)


async def test_the_core_reaches_the_carrier_through_its_facade_only_while_the_plugin_is_enabled(
    tc_database: Database,
) -> None:
    store = await create_store(tc_database, slug="facade", name="Facade", currency="EUR", owner_email="o@f.test")
    plugins = Plugins(PluginHost(), tc_database, timeout=5)
    request = ShippingRequest(
        currency="EUR",
        destination=Address(country="DE"),
        lines=[ShippingLine(sku="A", quantity=1, unit_price_minor=1_000)],
        subtotal_minor=1_000,
    )
    assert "rate-table" not in carrier_ids(await plugins.for_store(await store_context(tc_database, store.id)))

    await enable_plugin(tc_database, store.id, "shipping-rates")
    ctx = await store_context(tc_database, store.id)
    await hooks.tc_on_plugin_enabled(ctx, ENABLED, plugin_context(tc_database, store.id, "shipping-rates"))
    (carrier,) = [bound for bound in (await plugins.for_store(ctx)).shipping_carriers() if bound.id == "rate-table"]

    assert [(quote.name, quote.amount_minor) for quote in await carrier.quote(request)] == [("Standard shipping", 0)]


def carrier_ids(plugins: Any) -> list[str]:
    return [bound.id for bound in plugins.shipping_carriers()]
