"""tenantcommerce-tax-rates: per-store tax rates by country and region, for tax-inclusive or tax-exclusive prices,
rounded per line and broken down per rate.

The plugin (entry point ``tax-rates``) registers the ``rate-table`` tax calculator, its per-store settings
(:class:`~tenantcommerce_tax_rates.settings.TaxRatesSettings`), the ``tax_rates`` table (an Alembic branch) and admin
routes to manage the rates.
"""

__version__ = "0.1.0"
