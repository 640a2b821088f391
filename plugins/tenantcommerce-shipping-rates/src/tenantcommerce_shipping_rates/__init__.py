"""Per-store shipping rate tables for tenantcommerce (plugin id ``shipping-rates``, carrier ``rate-table``).

The hooks live in :mod:`tenantcommerce_shipping_rates.plugin`; the carrier in
:mod:`tenantcommerce_shipping_rates.carrier`; the admin API in :mod:`tenantcommerce_shipping_rates.api`.
"""

__version__ = "0.1.0"

PLUGIN_ID = "shipping-rates"
"""The entry-point name: the plugin's id in ``store_plugins`` and in its admin URLs."""

__all__ = ["PLUGIN_ID", "__version__"]
