"""Admin routes: ``/api/admin/{slug}/plugins/tax-rates/rates`` (mounted by the core under the plugin's admin prefix,
reachable only by members of the store, signed in or with an API token, while the plugin is enabled for it)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED
from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.errors import problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

from tenantcommerce_tax_rates import admin
from tenantcommerce_tax_rates.schemas import TaxRateInput, TaxRateOut, TaxRateUpdate

CountryFilter = Annotated[
    str | None, Parameter(pattern=r"^[A-Z]{2}$", description="Only rates of this country (ISO 3166-1 alpha-2).")
]


class TaxRatesController(Controller):
    """The store's tax rates (read: ``settings:read``; change: ``settings:write``)."""

    path = "/rates"
    tags = ["plugin: tax-rates"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("settings:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_rates(
        self,
        runtime: NamedDependency[Runtime],
        country: CountryFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[TaxRateOut]:
        """The store's rates: by country, whole-country rates first, then by region, tax code and name."""
        store = current_store()
        async with runtime.database.session() as session:
            items, total = await admin.list_rates(session, store.id, country=country, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @post(
        "/",
        guards=[requires("settings:write")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def create_rate(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[TaxRateInput]
    ) -> TaxRateOut:
        """Add a rate: the whole country (``region`` null) or one region, every line (``tax_code`` null) or one
        tax code, with or without shipping."""
        store = current_store()
        async with runtime.database.session() as session:
            return await admin.create_rate(
                session, store.id, data, principal_of(request), request_id=request_id(request)
            )

    @get("/{rate_id:uuid}", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def get_rate(self, runtime: NamedDependency[Runtime], rate_id: FromPath[UUID]) -> TaxRateOut:
        """One rate."""
        store = current_store()
        async with runtime.database.session() as session:
            return await admin.get_rate(session, store.id, rate_id)

    @patch(
        "/{rate_id:uuid}",
        guards=[requires("settings:write")],
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update_rate(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        rate_id: FromPath[UUID],
        data: JSONBody[TaxRateUpdate],
    ) -> TaxRateOut:
        """Change a rate; absent fields stay, ``null`` clears ``region`` or ``tax_code``."""
        store = current_store()
        async with runtime.database.session() as session:
            return await admin.update_rate(
                session, store.id, rate_id, data, principal_of(request), request_id=request_id(request)
            )

    @delete("/{rate_id:uuid}", guards=[requires("settings:write")], responses=problem_responses(401, 403, 404))
    async def delete_rate(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], rate_id: FromPath[UUID]
    ) -> None:
        """Delete a rate."""
        store = current_store()
        async with runtime.database.session() as session:
            await admin.delete_rate(session, store.id, rate_id, principal_of(request), request_id=request_id(request))
