"""tenantcommerce: many independent stores on one Litestar deployment, isolated by Postgres Row Level Security."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from tenantcommerce.__about__ import __version__
from tenantcommerce.settings import Settings

if TYPE_CHECKING:
    from tenantcommerce.app import TenantCommerce, create_app

hookimpl = pluggy.HookimplMarker("tenantcommerce")
"""Marker for plugin hook implementations (entry-point group ``tenantcommerce``)."""

__all__ = ["Settings", "TenantCommerce", "__version__", "create_app", "hookimpl"]


def __getattr__(name: str) -> Any:
    # The app pulls in Litestar and SQLAlchemy; import it only when asked for.
    if name in {"TenantCommerce", "create_app"}:
        from tenantcommerce import app

        return getattr(app, name)
    raise AttributeError(f"module 'tenantcommerce' has no attribute {name!r}")
