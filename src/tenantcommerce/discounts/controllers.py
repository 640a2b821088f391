"""Admin discount endpoints: ``/api/admin/{slug}/discounts`` (read: ``discounts:read``; write: ``discounts:write``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tenantcommerce.auth.admin_controllers import ADMIN_PREFIX, request_id
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.discounts import services
from tenantcommerce.discounts.schemas import DiscountInput, DiscountOut, DiscountUpdate
from tenantcommerce.errors import problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime

CodeSearch = Annotated[str | None, Parameter(max_length=100, description="Part of the code, case-insensitive.")]


class DiscountsController(Controller):
    """Discount codes of a store."""

    path = f"{ADMIN_PREFIX}/discounts"
    tags = ["admin: discounts"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("discounts:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_discounts(
        self,
        runtime: NamedDependency[Runtime],
        active: FromQuery[bool | None] = None,
        q: CodeSearch = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[DiscountOut]:
        """Discounts, newest first, filtered by ``active`` and by a part of the code."""
        async with runtime.database.session() as session:
            items, total = await services.list_discounts(session, active=active, q=q, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @post(
        "/",
        guards=[requires("discounts:write")],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def create(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[DiscountInput]
    ) -> DiscountOut:
        """Create a code (normalised: trimmed, upper case); ``value`` must fit ``kind``."""
        async with runtime.database.session() as session:
            return await services.create_discount(session, data, principal_of(request), request_id=request_id(request))

    @get("/{discount_id:uuid}", guards=[requires("discounts:read")], responses=problem_responses(401, 403, 404))
    async def get_discount(self, runtime: NamedDependency[Runtime], discount_id: FromPath[UUID]) -> DiscountOut:
        """One discount with its uses so far."""
        async with runtime.database.session() as session:
            return await services.get_discount(session, discount_id)

    @patch(
        "/{discount_id:uuid}",
        guards=[requires("discounts:write")],
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        discount_id: FromPath[UUID],
        data: JSONBody[DiscountUpdate],
    ) -> DiscountOut:
        """Change code, value, minimum, dates, usage limit or ``active``; the kind cannot change."""
        async with runtime.database.session() as session:
            return await services.update_discount(
                session, discount_id, data, principal_of(request), request_id=request_id(request)
            )

    @delete(
        "/{discount_id:uuid}",
        guards=[requires("discounts:write")],
        status_code=HTTP_204_NO_CONTENT,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def remove(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], discount_id: FromPath[UUID]
    ) -> None:
        """Delete a discount never used; one that was used answers 409: deactivate it instead."""
        async with runtime.database.session() as session:
            await services.delete_discount(session, discount_id, principal_of(request), request_id=request_id(request))
