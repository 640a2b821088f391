"""The ``rate-table`` shipping carrier: quotes from the store's rate table, sells no labels."""

from __future__ import annotations

from collections.abc import Sequence

from tenantcommerce.plugins import LabelRequest, PluginContext, ShippingLabel, ShippingQuote, ShippingRequest
from tenantcommerce.tenancy.context import StoreContext

from tenantcommerce_shipping_rates import storage
from tenantcommerce_shipping_rates.quoting import quotes_for
from tenantcommerce_shipping_rates.settings import settings_of


class RateTableCarrier:
    """A :class:`~tenantcommerce.plugins.providers.ShippingCarrier` over the store's ``shipping_rates``."""

    id = "rate-table"
    name = "Rate table"

    async def quote(
        self, ctx: StoreContext, request: ShippingRequest, plugin: PluginContext
    ) -> Sequence[ShippingQuote]:
        """Every active rate of the store that applies to ``request`` (see :mod:`~.quoting`), in
        ``request.currency``; none when no rate covers the destination or the parcel."""
        async with plugin.transaction() as conn:
            rates = await storage.active_rates(conn, plugin.store_id, ctx.currency)
        settings = settings_of(plugin.config)
        return quotes_for(rates, request, default_estimated_days=settings.default_estimated_days)

    async def buy_label(self, ctx: StoreContext, request: LabelRequest, plugin: PluginContext) -> ShippingLabel | None:
        """``None``: the merchant ships by hand and enters tracking with the fulfilment."""
        return None
