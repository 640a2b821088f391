"""How the ``rate-table`` carrier quotes, on real Postgres: each kind of rate, band edges, the country filter, the
free-over threshold, inactive rates, ordering, estimates, and no labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from tenantcommerce.db.database import Database
from tenantcommerce.plugins import Address, LabelRequest, PluginContext, ShippingLine, ShippingQuote, ShippingRequest
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing.plugins import enable_plugin, plugin_context

from tenantcommerce_shipping_rates import storage
from tenantcommerce_shipping_rates.carrier import RateTableCarrier
from tenantcommerce_shipping_rates.rates import Rate, RateInput
from tenantcommerce_shipping_rates.settings import ShippingRatesSettings

CARRIER = RateTableCarrier()


@dataclass
class RateTable:
    """A EUR store with the plugin enabled: add rates, then ask for quotes."""

    ctx: StoreContext
    plugin: PluginContext

    async def add(self, name: str, amount_minor: int, **fields: Any) -> Rate:
        async with self.plugin.transaction(readonly=False) as conn:
            return await storage.create_rate(
                conn, self.ctx.id, RateInput(name=name, amount_minor=amount_minor, **fields), self.ctx.currency
            )

    async def quote(
        self,
        country: str = "DE",
        *,
        subtotal: int = 2_000,
        lines: Sequence[ShippingLine] | None = None,
        currency: str = "EUR",
        settings: ShippingRatesSettings | None = None,
    ) -> list[ShippingQuote]:
        request = ShippingRequest(
            currency=currency,
            destination=Address(country=country),
            lines=lines if lines is not None else [ShippingLine(sku="A", quantity=1, unit_price_minor=subtotal)],
            subtotal_minor=subtotal,
        )
        plugin = self.plugin if settings is None else plugin_context(
            self.plugin.database, self.ctx.id, self.plugin.plugin_id, settings
        )  # fmt: skip
        return list(await CARRIER.quote(self.ctx, request, plugin))

    async def names(self, country: str = "DE", **kwargs: Any) -> list[str]:
        return [quote.name for quote in await self.quote(country, **kwargs)]


def parcel(*grams_and_quantities: tuple[int | None, int]) -> list[ShippingLine]:
    return [
        ShippingLine(sku=f"SKU-{index}", quantity=quantity, unit_price_minor=1_000, weight_grams=grams)
        for index, (grams, quantity) in enumerate(grams_and_quantities)
    ]


@pytest_asyncio.fixture
async def table(tc_database: Database) -> RateTable:
    store = await create_store(tc_database, slug="quotes", name="Quotes", currency="EUR", owner_email="o@quotes.test")
    await enable_plugin(tc_database, store.id, "shipping-rates")
    return RateTable(store, plugin_context(tc_database, store.id, "shipping-rates", ShippingRatesSettings()))


async def test_a_flat_rate_without_countries_is_quoted_everywhere_in_the_request_currency(table: RateTable) -> None:
    rate = await table.add("Standard", 495, estimated_days=3)

    for country in ("DE", "US", "JP"):
        assert await table.quote(country) == [
            ShippingQuote(rate_id=str(rate.id), name="Standard", amount_minor=495, currency="EUR", estimated_days=3)
        ]
    assert [quote.currency for quote in await table.quote(currency="USD")] == ["USD"]


async def test_a_rate_with_countries_is_quoted_only_for_those_countries(table: RateTable) -> None:
    await table.add("DACH", 495, countries=["DE", "AT", "CH"])
    await table.add("Everywhere", 2_500)

    assert await table.names("AT") == ["DACH", "Everywhere"]
    assert await table.names("FR") == ["Everywhere"]


async def test_weight_bands_include_their_minimum_and_exclude_their_maximum(table: RateTable) -> None:
    await table.add("Light", 400, kind="weight", band_min=0, band_max=1_000)
    await table.add("Medium", 700, kind="weight", band_min=1_000, band_max=5_000)
    await table.add("Heavy", 1_500, kind="weight", band_min=5_000)

    assert await table.names(lines=parcel((999, 1))) == ["Light"]
    assert await table.names(lines=parcel((1_000, 1))) == ["Medium"]
    assert await table.names(lines=parcel((4_999, 1))) == ["Medium"]
    assert await table.names(lines=parcel((5_000, 1))) == ["Heavy"]
    assert await table.names(lines=parcel((10**9, 3))) == ["Heavy"], "no upper bound"


async def test_the_parcel_weight_is_each_lines_weight_times_its_quantity_and_unknown_weights_count_zero(
    table: RateTable,
) -> None:
    await table.add("Up to 1 kg", 400, kind="weight", band_max=1_001)
    await table.add("Over 1 kg", 900, kind="weight", band_min=1_001)

    assert await table.names(lines=parcel((250, 4))) == ["Up to 1 kg"]
    assert await table.names(lines=parcel((250, 4), (1, 1))) == ["Over 1 kg"]
    assert await table.names(lines=parcel((250, 4), (None, 50))) == ["Up to 1 kg"]
    assert await table.names(lines=parcel((None, 1))) == ["Up to 1 kg"], "a parcel of unknown weight weighs 0"


async def test_order_value_bands_use_the_subtotal_with_the_same_edges(table: RateTable) -> None:
    await table.add("Small order", 695, kind="order_value", band_max=5_000)
    await table.add("Large order", 295, kind="order_value", band_min=5_000)

    assert await table.names(subtotal=0) == ["Small order"]
    assert await table.names(subtotal=4_999) == ["Small order"]
    assert await table.names(subtotal=5_000) == ["Large order"]


async def test_a_rate_is_free_once_the_subtotal_reaches_its_threshold(table: RateTable) -> None:
    await table.add("Standard", 495, free_over_minor=5_000)

    assert [quote.amount_minor for quote in await table.quote(subtotal=4_999)] == [495]
    assert [quote.amount_minor for quote in await table.quote(subtotal=5_000)] == [0]
    assert [quote.amount_minor for quote in await table.quote(subtotal=80_000)] == [0]


async def test_an_inactive_rate_is_never_quoted(table: RateTable) -> None:
    await table.add("Paused", 100, active=False)
    await table.add("Live", 900)

    assert await table.names() == ["Live"]


async def test_quotes_are_ordered_by_position_then_price_then_name(table: RateTable) -> None:
    await table.add("Express", 1_500, position=1)
    await table.add("Courier", 900, position=1)
    await table.add("Pickup", 900, position=1)
    await table.add("Economy", 2_000, position=0, free_over_minor=1_000)
    await table.add("Freight", 5_000, position=0)

    assert await table.names(subtotal=2_000) == ["Economy", "Freight", "Courier", "Pickup", "Express"]


async def test_nothing_applies_where_no_rate_covers_the_destination_and_parcel(table: RateTable) -> None:
    await table.add("Domestic", 495, countries=["DE"])
    await table.add("Heavy abroad", 4_000, kind="weight", band_min=10_000, countries=["FR"])

    assert await table.quote("FR", lines=parcel((500, 1))) == []
    assert await table.quote("US") == []


async def test_a_rate_without_an_estimate_takes_the_store_default_and_its_own_estimate_wins(table: RateTable) -> None:
    await table.add("Standard", 495)
    await table.add("Express", 995, estimated_days=1)
    settings = ShippingRatesSettings(default_estimated_days=4)

    assert [quote.estimated_days for quote in await table.quote()] == [None, 1]
    assert [quote.estimated_days for quote in await table.quote(settings=settings)] == [4, 1]


async def test_the_rate_table_sells_no_labels(table: RateTable) -> None:
    rate = await table.add("Standard", 495)
    label = LabelRequest(
        order_id=rate.id, order_number=1, rate_id=str(rate.id), destination=Address(country="DE"), lines=parcel()
    )

    assert await CARRIER.buy_label(table.ctx, label, table.plugin) is None
