"""``/api/storefront/{slug}/checkout``: create a checkout from the cart, read it, change it, complete it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.cart.services import CartOwner, owner_of
from tenantcommerce.cart.tokens import cart_token_of
from tenantcommerce.checkout import services
from tenantcommerce.checkout.completion import complete_checkout
from tenantcommerce.checkout.schemas import CheckoutCreate, CheckoutOut, CheckoutUpdate, CompleteInput
from tenantcommerce.errors import problem_responses
from tenantcommerce.runtime import Runtime
from tenantcommerce.storefront.idempotency import idempotent
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def _owner(session: AsyncSession, request: Request[Any, Any, Any]) -> CartOwner:
    return await owner_of(session, principal_of(request), cart_token_of(request))


class CheckoutController(Controller):
    """Checkouts of the caller's carts in one store."""

    path = "/api/storefront/{slug:str}/checkout"
    tags = ["storefront: checkout"]
    middleware = [idempotent()]

    @post("/", status_code=HTTP_201_CREATED, responses=problem_responses(400, 403, 404, 409, 422))
    async def create(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        data: JSONBody[CheckoutCreate | None] = None,
    ) -> CheckoutOut:
        """Freeze the caller's cart into a checkout (every line must be purchasable as it stands)."""
        plugins = await runtime.plugins.for_store(current_store())
        async with runtime.database.session() as session:
            owner = await _owner(session, request)
            checkout = await services.create_checkout(
                session, owner, data.email.lower() if data and data.email else None
            )
            out = await services.describe(session, plugins, checkout)
            await session.commit()
        return out

    @get("/{checkout_id:uuid}", responses=problem_responses(403, 404, 502, 504))
    async def read(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], checkout_id: FromPath[UUID]
    ) -> CheckoutOut:
        """The checkout with shipping quotes (from every enabled carrier, once an address is set), the payment
        methods and the totals."""
        plugins = await runtime.plugins.for_store(current_store())
        async with runtime.database.session() as session:
            checkout = await services.get_checkout(session, await _owner(session, request), checkout_id)
            out = await services.describe(session, plugins, checkout)
            await session.rollback()  # reading prices nothing into the row
        return out

    @patch("/{checkout_id:uuid}", responses=problem_responses(400, 403, 404, 409, 422, 502, 504))
    async def update(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        checkout_id: FromPath[UUID],
        data: JSONBody[CheckoutUpdate],
    ) -> CheckoutOut:
        """Set the e-mail, addresses, shipping choice, discount code or payment method."""
        plugins = await runtime.plugins.for_store(current_store())
        async with runtime.database.session() as session:
            checkout = await services.get_checkout(session, await _owner(session, request), checkout_id, lock=True)
            await services.update_checkout(session, plugins, checkout, data)
            out = await services.describe(session, plugins, checkout)
            await session.commit()
        return out

    @post(
        "/{checkout_id:uuid}/complete",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 403, 404, 409, 422, 502, 504),
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        checkout_id: FromPath[UUID],
        data: JSONBody[CompleteInput | None] = None,
    ) -> CheckoutOut:
        """Reserve the stock and create the payment. Payments that settle later (bank transfer, cash on delivery)
        place the order at once; payments finished in the browser return ``payment.client_secret``. Completing
        again answers the same."""
        await complete_checkout(runtime, request, checkout_id, data.payment_method if data else None)
        plugins = await runtime.plugins.for_store(current_store())
        async with runtime.database.session() as session:
            checkout = await services.get_checkout(session, await _owner(session, request), checkout_id)
            return await services.describe(session, plugins, checkout)
