"""Admin API of the rate table, mounted by the core under ``/api/admin/{slug}/plugins/shipping-rates``:

* ``GET /rates`` (``settings:read``): a page of the store's rates (``?active=true|false`` to filter).
* ``POST /rates`` (``settings:write``): create a rate, 201.
* ``GET|PATCH|DELETE /rates/{rate_id}`` (read: ``settings:read``; change: ``settings:write``).

The core answers 404 while the plugin is not enabled for the store, and to callers who are not its members.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from tenantcommerce.auth.guards import requires
from tenantcommerce.errors import problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

from tenantcommerce_shipping_rates import storage
from tenantcommerce_shipping_rates.rates import Rate, RateInput, RateUpdate


class RatesController(Controller):
    """The store's shipping rates. Amounts are minor units of the store's currency."""

    path = "/rates"
    tags = ["admin: shipping rates"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("settings:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_rates(
        self,
        runtime: NamedDependency[Runtime],
        active: FromQuery[bool | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[Rate]:
        """The store's rates in quoting order (position, amount, name)."""
        store = current_store()
        async with runtime.database.store_transaction(store.id) as conn:
            items, total = await storage.list_rates(
                conn, store.id, store.currency, active=active, limit=limit, offset=offset
            )
        return Page(items=items, limit=limit, offset=offset, total=total)

    @post(
        "/",
        guards=[requires("settings:write")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def create_rate(self, runtime: NamedDependency[Runtime], data: JSONBody[RateInput]) -> Rate:
        """Add a rate (422 names each rule it breaks; 409 when the name is taken)."""
        store = current_store()
        async with runtime.database.store_transaction(store.id, readonly=False) as conn:
            return await storage.create_rate(conn, store.id, data, store.currency)

    @get("/{rate_id:uuid}", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def get_rate(self, runtime: NamedDependency[Runtime], rate_id: FromPath[UUID]) -> Rate:
        """One rate."""
        store = current_store()
        async with runtime.database.store_transaction(store.id) as conn:
            return await storage.get_rate(conn, store.id, rate_id, store.currency)

    @patch(
        "/{rate_id:uuid}",
        guards=[requires("settings:write")],
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update_rate(
        self, runtime: NamedDependency[Runtime], rate_id: FromPath[UUID], data: JSONBody[RateUpdate]
    ) -> Rate:
        """Change a rate; the changed rate must follow the rules of a new one."""
        store = current_store()
        async with runtime.database.store_transaction(store.id, readonly=False) as conn:
            return await storage.update_rate(conn, store.id, rate_id, data, store.currency)

    @delete(
        "/{rate_id:uuid}",
        guards=[requires("settings:write")],
        status_code=HTTP_204_NO_CONTENT,
        responses=problem_responses(401, 403, 404),
    )
    async def delete_rate(self, runtime: NamedDependency[Runtime], rate_id: FromPath[UUID]) -> None:
        """Remove a rate; it is quoted no more."""
        store = current_store()
        async with runtime.database.store_transaction(store.id, readonly=False) as conn:
            await storage.delete_rate(conn, store.id, rate_id)
