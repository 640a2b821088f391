"""The storefront's HTML pages, in each store's theme: at ``/s/{slug}/`` and on a store's own host at ``/``."""

from __future__ import annotations

from litestar import Router

from tenantcommerce.storefront.pages.controllers import StorefrontPages


def page_routers() -> list[Router]:
    """The pages twice: under ``/s/{slug}`` (any host) and at the root (a store's own host or subdomain)."""
    return [
        Router(path="/s/{slug:str}", route_handlers=[StorefrontPages], include_in_schema=False),
        Router(path="/", route_handlers=[StorefrontPages], include_in_schema=False),
    ]
