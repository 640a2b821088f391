"""The ``rate-table`` tax calculator: the store's own rates, by destination country and region."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenantcommerce.plugins import TaxRequest, TaxResult

from tenantcommerce_tax_rates.arithmetic import calculate
from tenantcommerce_tax_rates.rates import rates_for_country
from tenantcommerce_tax_rates.settings import settings_of

if TYPE_CHECKING:
    from tenantcommerce.plugins import PluginContext
    from tenantcommerce.tenancy.context import StoreContext


class RateTableCalculator:
    """Taxes each line (and shipping) by every rate of the store that matches the destination.

    A rate matches when its country is the destination's, its region is null or the destination's, and its tax code
    is null or the line's; shipping takes the matching rates with ``applies_to_shipping`` and no tax code. The
    arithmetic is in :mod:`tenantcommerce_tax_rates.arithmetic`.
    """

    id = "rate-table"
    name = "Tax rate table"

    async def calculate(self, ctx: StoreContext, request: TaxRequest, plugin: PluginContext) -> TaxResult:
        """Tax per line (one :class:`~tenantcommerce.plugins.providers.TaxedLine` per request line, same order and
        keys) and for shipping, rounded per line with the store's rounding mode."""
        settings = settings_of(plugin.config)
        if not request.lines and not request.shipping_minor:
            return calculate(request, (), settings)
        async with plugin.transaction() as conn:
            rates = await rates_for_country(conn, ctx.id, request.destination.country)
        return calculate(request, rates, settings)
