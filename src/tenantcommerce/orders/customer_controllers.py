"""Storefront order endpoints: a signed-in customer's order history, and a guest's lookup by number and e-mail.

``/api/storefront/{slug}/customers/me/orders`` answers only the customer signed in at this store (a session of another
store is not signed in here) and only that customer's orders of this store. ``/api/storefront/{slug}/orders/lookup``
answers the same 404 for an unknown number and a wrong address, and is rate limited per client address and per order
number (the budgets of sign-in).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.auth.ratelimit import client_rate_limit
from tenantcommerce.errors import AuthenticationRequired, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.orders import queries
from tenantcommerce.orders.schemas import CustomerOrder, CustomerOrderSummary, LookupInput
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

OrderNumberPath = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The order number (e.g. 1001).")]
LOOKUP_THROTTLE_ACTION = "login"
"""The per-account budget guest lookups count against (``TC_AUTH_ACCOUNT_LIMIT`` per 15 minutes), keyed by store and
order number, so guessing the e-mail address of one order is slow however many addresses the guesser has."""


def _customer(request: Request[Any, Any, Any]) -> UUID:
    principal = principal_of(request)
    if principal is None or principal.customer_store_id != current_store().id:
        raise AuthenticationRequired("sign in at this store first")
    return principal.user_id


class CustomerOrdersController(Controller):
    """Orders as customers see them: no internal ids, an order is named by its number."""

    path = "/api/storefront/{slug:str}"
    tags = ["storefront: orders"]

    @get("/customers/me/orders", responses=problem_responses(400, 401, 404))
    async def my_orders(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[CustomerOrderSummary]:
        """The signed-in customer's orders at this store, newest first."""
        user_id = _customer(request)
        async with runtime.database.session() as session:
            items, total = await queries.customer_orders(session, user_id, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @get("/customers/me/orders/{order_number:int}", responses=problem_responses(401, 404))
    async def my_order(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], order_number: OrderNumberPath
    ) -> CustomerOrder:
        """One of the signed-in customer's orders by number (anyone else's answers 404)."""
        user_id = _customer(request)
        async with runtime.database.session() as session:
            return await queries.customer_order(session, user_id, order_number)

    @post(
        "/orders/lookup",
        status_code=HTTP_200_OK,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 403, 404, 429),
    )
    async def lookup(self, runtime: NamedDependency[Runtime], data: JSONBody[LookupInput]) -> CustomerOrder:
        """A guest's order, by its number and the e-mail address it was placed with; any mismatch answers 404."""
        await runtime.throttle.hit(LOOKUP_THROTTLE_ACTION, f"order-lookup:{current_store().id}:{data.order_number}")
        async with runtime.database.session() as session:
            return await queries.lookup_order(session, data.order_number, data.email)
