"""``/api/stores``: signed-in users create stores (becoming their owner) and list the stores they work in."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from tenantcommerce.auth import services as auth_services
from tenantcommerce.auth.guards import principal_of, staff_signed_in
from tenantcommerce.auth.schemas import MembershipOut
from tenantcommerce.errors import problem_responses
from tenantcommerce.fields import Text200
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.services import create_store


class StoreInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new store. ``slug``: 3 to 63 lowercase letters, digits and hyphens, not a reserved word."""

    slug: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    name: Text200
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR")] = "USD"


class StoreOut(msgspec.Struct, frozen=True):
    """A store."""

    slug: str
    name: str
    currency: str
    status: str


class StoresController(Controller):
    """The caller's stores."""

    path = "/api/stores"
    tags = ["stores"]
    guards = [staff_signed_in]

    @post("/", responses=problem_responses(400, 401, 403, 409))
    async def create(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[StoreInput]
    ) -> StoreOut:
        """Create a store; the caller becomes its owner."""
        principal = principal_of(request)
        assert principal is not None  # the guard saw to it
        store = await create_store(
            runtime.database, slug=data.slug, name=data.name, currency=data.currency, owner_user_id=principal.user_id
        )
        return StoreOut(slug=store.slug, name=store.name, currency=store.currency, status=store.status)

    @get("/", responses=problem_responses(401))
    async def mine(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> list[MembershipOut]:
        """The stores the caller works in, with role and permissions."""
        principal = principal_of(request)
        assert principal is not None
        return (await auth_services.describe_user(runtime.database, principal.user_id)).stores
