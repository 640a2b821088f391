"""An agency's host app: tenantcommerce plus two routes of the agency's own.

* ``GET /api/storefront/{slug}/hello``: a store-scoped route. The tenancy middleware has already resolved the store
  from the path (or the host), so ``current_store()`` answers, and ORM queries on tenant models see that store only.
* ``GET /api/agency/stores-count``: a platform route. It reads the global ``stores`` table inside
  ``platform_scope()``; tenant rows stay out of reach there.

Run it (after ``tenantcommerce db upgrade`` and ``tenantcommerce stores create``)::

    TC_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/agency \
        uvicorn app:app --app-dir examples/agency_platform --port 8000
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.openapi import OpenAPIConfig
from sqlalchemy import func, select

from tenantcommerce import Settings, TenantCommerce
from tenantcommerce.catalog.models import Product
from tenantcommerce.errors import problem_responses
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy import current_store, platform_scope
from tenantcommerce.tenancy.models import Store


class Hello(msgspec.Struct, frozen=True):
    """A greeting from one store."""

    store: str
    name: str
    currency: str
    active_products: int
    message: str


class StoresCount(msgspec.Struct, frozen=True):
    """How many stores the platform runs."""

    stores: int
    active: int
    suspended: int


@get(
    "/api/storefront/{slug:str}/hello",
    summary="Say hello from a store",
    tags=["agency"],
    responses=problem_responses(403, 404),  # suspended store, unknown store: documented as problem+json
)
async def hello(runtime: NamedDependency[Runtime]) -> Hello:
    """Greet the shopper in the store's name, with the number of products it sells."""
    store = current_store()  # resolved by the tenancy middleware; never None on a store path
    async with runtime.database.session() as session:
        # No store_id filter here: the session adds `store_id = <current store>` and Postgres RLS enforces it again.
        active = await session.scalar(select(func.count(Product.id)).where(Product.status == "active"))
    return Hello(
        store=store.slug,
        name=store.name,
        currency=store.currency,
        active_products=active or 0,
        message=f"Welcome to {store.name}!",
    )


@get("/api/agency/stores-count", summary="Count the platform's stores", tags=["agency"])
async def stores_count(runtime: NamedDependency[Runtime]) -> StoresCount:
    """Stores by status (a global table, read in platform scope)."""
    with platform_scope():
        async with runtime.database.session() as session:
            result = await session.execute(select(Store.status, func.count()).group_by(Store.status))
            by_status: dict[str, int] = {row[0]: row[1] for row in result}
    return StoresCount(
        stores=sum(by_status.values()),
        active=by_status.get("active", 0),
        suspended=by_status.get("suspended", 0),
    )


def create_agency_app(settings: Settings) -> Litestar:
    """The agency's app for ``settings`` (the tests build it with the test kit's settings)."""
    return Litestar(
        route_handlers=[hello, stores_count],
        plugins=[TenantCommerce(settings)],
        openapi_config=OpenAPIConfig(title="Agency platform", version="1.0.0", path="/schema"),
    )


app = create_agency_app(Settings.from_env())
"""The ASGI app uvicorn serves: settings from ``TC_*`` variables."""
