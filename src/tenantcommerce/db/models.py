"""Import every core model so ``metadata`` is complete (migrations, drift checks)."""

from __future__ import annotations

from sqlalchemy import MetaData

from tenantcommerce.db.base import metadata


def load_models() -> MetaData:
    """Import the core's model modules and return the shared metadata."""
    import tenantcommerce.auth.audit
    import tenantcommerce.auth.models
    import tenantcommerce.cart.models
    import tenantcommerce.catalog.media_models
    import tenantcommerce.catalog.models
    import tenantcommerce.checkout.models
    import tenantcommerce.customers.models
    import tenantcommerce.discounts.models
    import tenantcommerce.inventory.models
    import tenantcommerce.jobs.models
    import tenantcommerce.orders.models
    import tenantcommerce.payments.models
    import tenantcommerce.plugins.models
    import tenantcommerce.storefront.models
    import tenantcommerce.tenancy.models  # noqa: F401

    return metadata


GLOBAL_TABLES_WITH_STORE_ID = frozenset({"store_domains", "store_members", "api_tokens", "store_invitations"})
"""Global tables that name a store but hold no store data; every other table with ``store_id`` is a tenant table."""
