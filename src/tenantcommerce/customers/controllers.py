"""``/api/storefront/{slug}/customers/``: customers sign up, in and out on one store; their session is bound to it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.auth.ratelimit import client_rate_limit
from tenantcommerce.auth.schemas import Accepted, LoginInput, RegisterInput
from tenantcommerce.auth.sessions import rotate_session, session_payload
from tenantcommerce.cart.services import merge_guest_cart
from tenantcommerce.cart.tokens import cart_token_of
from tenantcommerce.customers import services
from tenantcommerce.errors import AuthenticationRequired, problem_responses
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store


class CustomersController(Controller):
    """Storefront accounts of one store."""

    path = "/api/storefront/{slug:str}/customers"
    tags = ["storefront: customers"]

    @post(
        "/register",
        status_code=HTTP_202_ACCEPTED,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 403, 404, 422, 429),
    )
    async def register(self, runtime: NamedDependency[Runtime], data: JSONBody[RegisterInput]) -> Accepted:
        """Sign up at this store. A known address gets a mail instead; the answer is the same."""
        await runtime.throttle.hit("register", data.email)
        await services.register_customer(
            runtime.database, runtime.mailer, email=data.email, password=data.password, name=data.name
        )
        return Accepted(detail="If the address can be used, the account is ready; check your mail.")

    @post(
        "/login",
        status_code=HTTP_200_OK,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    async def login(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[LoginInput]
    ) -> services.CustomerOut:
        """Sign in at this store; the session is valid at this store only. A guest cart the browser holds
        (``X-Cart-Token`` or the ``tc_cart`` cookie) is merged into the customer's cart."""
        await runtime.throttle.hit("login", data.email)
        user, customer = await services.sign_in_customer(runtime.database, email=data.email, password=data.password)
        token = cart_token_of(request)
        if token is not None:
            async with runtime.database.session() as session:
                await merge_guest_cart(session, customer.id, token)
                await session.commit()
        rotate_session(request)
        request.set_session(
            session_payload(str(user.id), user.session_epoch, kind="customer", store_id=str(current_store().id))
        )
        return customer

    @post("/logout", status_code=HTTP_204_NO_CONTENT, responses=problem_responses(403, 404))
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        """End this session."""
        request.clear_session()

    @get("/me", responses=problem_responses(401, 404))
    async def me(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> services.CustomerOut:
        """The signed-in customer of this store (a session from another store is not signed in here)."""
        principal = principal_of(request)
        if principal is None or principal.customer_store_id != current_store().id:
            raise AuthenticationRequired("sign in at this store first")
        return await services.describe_customer(runtime.database, principal.user_id)
