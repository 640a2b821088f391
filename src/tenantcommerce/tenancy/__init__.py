"""Tenancy: which store a piece of work belongs to, and how a request finds it."""

from tenantcommerce.tenancy.context import (
    StoreContext,
    current_store,
    current_store_or_none,
    in_platform_scope,
    platform_scope,
    use_store,
)

__all__ = [
    "StoreContext",
    "current_store",
    "current_store_or_none",
    "in_platform_scope",
    "platform_scope",
    "use_store",
]
