"""``/api/platform/stores``: platform operators list every store and suspend or reactivate one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.guards import principal_of
from tenantcommerce.errors import AuthenticationRequired, NotFound, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import use_store
from tenantcommerce.tenancy.services import StoreSummary, list_stores, set_store_status


async def operator_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a platform operator's session. Anyone else gets 404: the platform API does not reveal itself."""
    principal = principal_of(connection)
    if principal is None:
        raise AuthenticationRequired("sign in at /api/auth/login first")
    if not (principal.is_staff_session and principal.is_operator):
        raise NotFound("not found")


class OperatorStoresController(Controller):
    """Every store of the deployment, for operators (``tenantcommerce users create-operator`` makes one)."""

    path = "/api/platform/stores"
    tags = ["platform: operators"]
    guards = [operator_signed_in]
    security = [{"session": []}]

    @get("/", responses=problem_responses(400, 401, 404))
    async def list_all(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[StoreSummary]:
        """All stores, by slug."""
        stores = await list_stores(runtime.database)
        return Page(items=stores[offset : offset + limit], limit=limit, offset=offset, total=len(stores))

    @post("/{store_slug:str}/suspend", status_code=HTTP_200_OK, responses=problem_responses(401, 404))
    async def suspend(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], store_slug: FromPath[str]
    ) -> StoreSummary:
        """Suspend a store: its storefront and admin answer 403 until it is reactivated."""
        return await self._set(request, runtime, store_slug, "suspended")

    @post("/{store_slug:str}/activate", status_code=HTTP_200_OK, responses=problem_responses(401, 404))
    async def activate(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], store_slug: FromPath[str]
    ) -> StoreSummary:
        """Reactivate a suspended store."""
        return await self._set(request, runtime, store_slug, "active")

    async def _set(self, request: Request[Any, Any, Any], runtime: Runtime, slug: str, status: str) -> StoreSummary:
        store = await set_store_status(runtime.database, slug, status)
        await runtime.resolver.invalidate(store.id)
        with use_store(store):
            async with runtime.database.session() as session:
                audit(session, principal_of(request), f"store.{status}", "store", store.id, {"status": status},
                      request_id=request_id(request))  # fmt: skip
                await session.commit()
        for summary in await list_stores(runtime.database):
            if summary.slug == slug:
                return summary
        raise NotFound(f"no store is called {slug!r}")
