"""The ``rate-table`` carrier passes the core's shipping-carrier contract."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from tenantcommerce.plugins import Address, PluginContext, ShippingLine, ShippingRequest
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.testing.contracts import ShippingCarrierContract

from tenantcommerce_shipping_rates import storage
from tenantcommerce_shipping_rates.carrier import RateTableCarrier
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.settings import ShippingRatesSettings


def request_to(country: str) -> ShippingRequest:
    return ShippingRequest(
        currency="EUR",
        destination=Address(country=country, postal_code="10115"),
        lines=[ShippingLine(sku="MUG", quantity=2, unit_price_minor=1_500, weight_grams=350)],
        subtotal_minor=3_000,
    )


class TestRateTableCarrierContract(ShippingCarrierContract):
    plugin_id = "shipping-rates"

    @pytest.fixture
    def provider(self) -> RateTableCarrier:
        return RateTableCarrier()

    def decode_config(self, config: dict[str, Any]) -> ShippingRatesSettings:
        return msgspec.convert(config, ShippingRatesSettings)

    async def prepare(self, ctx: StoreContext, plugin: PluginContext) -> None:
        async with plugin.transaction(readonly=False) as conn:
            for rate in (
                RateInput(name="Standard", amount_minor=495, countries=["DE", "AT"], estimated_days=3),
                RateInput(name="Express", amount_minor=1_295, countries=["DE"], estimated_days=1, position=1),
                RateInput(name="Heavy", kind="weight", band_min=2_000, amount_minor=2_500, countries=["DE"]),
            ):
                await storage.create_rate(conn, ctx.id, rate, ctx.currency)

    @pytest.fixture
    def shippable(self) -> ShippingRequest:
        return request_to("DE")

    @pytest.fixture
    def unshippable(self) -> ShippingRequest:
        return request_to("JP")
