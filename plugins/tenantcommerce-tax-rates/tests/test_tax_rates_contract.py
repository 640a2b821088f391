"""The core's tax calculator contract, run against the ``rate-table`` calculator with tax on top and tax included."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from tenantcommerce.plugins import Address, PluginContext, TaxLine, TaxRequest
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.testing.contracts import TaxCalculatorContract
from uuid_utils.compat import uuid7

from tenantcommerce_tax_rates.calculator import RateTableCalculator
from tenantcommerce_tax_rates.settings import TaxRatesSettings


class TestRateTableCalculator(TaxCalculatorContract):
    plugin_id = "tax-rates"

    @pytest.fixture
    def provider(self) -> RateTableCalculator:
        return RateTableCalculator()

    @pytest.fixture
    def plugin_config(self) -> dict[str, Any]:
        return {}

    def decode_config(self, config: dict[str, Any]) -> TaxRatesSettings:
        return msgspec.convert(config, type=TaxRatesSettings)

    async def prepare(self, ctx: StoreContext, plugin: PluginContext) -> None:
        async with plugin.transaction(readonly=False) as conn:
            await conn.executemany(
                "INSERT INTO tax_rates (store_id, id, name, country, region, rate_bp, applies_to_shipping) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [
                    (ctx.id, uuid7(), "VAT", "DE", None, 1900, True),
                    (ctx.id, uuid7(), "Bavarian levy", "DE", "DE-BY", 100, False),
                ],
            )

    @pytest.fixture
    def taxable(self) -> TaxRequest:
        return TaxRequest(
            currency="EUR",
            destination=Address(country="DE", region="DE-BY"),
            lines=[
                TaxLine(key="a", sku="A", quantity=1, amount_minor=1999),
                TaxLine(key="b", sku="B", quantity=3, amount_minor=2997),
            ],
            shipping_minor=490,
        )


class TestRateTableCalculatorWithPricesIncludingTax(TestRateTableCalculator):
    @pytest.fixture
    def plugin_config(self) -> dict[str, Any]:
        return {"prices_include_tax": True, "rounding": "half_even"}
