"""``/api/storefront/{slug}/cart``: the shopper's cart (a guest's by token, a signed-in customer's by account)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.auth.sessions import cookies_are_secure
from tenantcommerce.cart import services
from tenantcommerce.cart.schemas import AddItem, CartOut, SetQuantity
from tenantcommerce.cart.tokens import CART_TOKEN_COOKIE, cart_token_of
from tenantcommerce.errors import problem_responses
from tenantcommerce.runtime import Runtime
from tenantcommerce.storefront.idempotency import idempotent

CART_COOKIE_MAX_AGE = 30 * 24 * 3600


def _answer(runtime: Runtime, cart: CartOut, status_code: int = HTTP_200_OK) -> Response[CartOut]:
    cookies = []
    if cart.token is not None:
        cookies.append(
            Cookie(
                key=CART_TOKEN_COOKIE,
                value=cart.token,
                max_age=CART_COOKIE_MAX_AGE,
                httponly=True,
                samesite="lax",
                secure=cookies_are_secure(runtime.settings),
                path="/",
            )
        )
    return Response(cart, status_code=status_code, cookies=cookies)


class CartController(Controller):
    """The shopper's cart in one store. Guests send the token (``X-Cart-Token`` or the ``tc_cart`` cookie)."""

    path = "/api/storefront/{slug:str}/cart"
    tags = ["storefront: cart"]
    middleware = [idempotent()]

    @post("/", status_code=HTTP_201_CREATED, responses=problem_responses(400, 403, 404, 409))
    async def create(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[CartOut]:
        """The caller's open cart, created when there is none (201 either way; a new guest cart's token is in the
        answer and in the ``tc_cart`` cookie)."""
        async with runtime.database.session() as session:
            owner = await services.owner_of(session, principal_of(request), cart_token_of(request))
            cart, token = await services.open_cart(session, owner)
            out = await services.read_cart(session, cart, token=token)
            await session.commit()
        return _answer(runtime, out, HTTP_201_CREATED)

    @get("/", responses=problem_responses(403, 404))
    async def read(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> CartOut:
        """The cart priced now, with what changed since it was last read (prices, availability)."""
        async with runtime.database.session() as session:
            owner = await services.owner_of(session, principal_of(request), cart_token_of(request))
            cart = await services.require_cart(session, owner)
            out = await services.read_cart(session, cart)
            await session.commit()
        return out

    @post("/items", status_code=HTTP_200_OK, responses=problem_responses(400, 403, 404, 409, 422))
    async def add(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[AddItem]
    ) -> Response[CartOut]:
        """Add a variant (creating the cart when there is none). The quantity must be available."""
        async with runtime.database.session() as session:
            owner = await services.owner_of(session, principal_of(request), cart_token_of(request))
            cart, token = await services.open_cart(session, owner)
            await services.add_item(session, cart, data.variant_id, data.qty)
            out = await services.read_cart(session, cart, token=token)
            await session.commit()
        return _answer(runtime, out)

    @patch("/items/{variant_id:uuid}", responses=problem_responses(400, 403, 404, 409, 422))
    async def set_quantity(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        variant_id: FromPath[UUID],
        data: JSONBody[SetQuantity],
    ) -> CartOut:
        """Change a line's quantity."""
        async with runtime.database.session() as session:
            owner = await services.owner_of(session, principal_of(request), cart_token_of(request))
            cart = await services.require_cart(session, owner, lock=True)
            await services.set_quantity(session, cart, variant_id, data.qty)
            out = await services.read_cart(session, cart)
            await session.commit()
        return out

    @delete("/items/{variant_id:uuid}", status_code=HTTP_200_OK, responses=problem_responses(403, 404, 409))
    async def remove(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], variant_id: FromPath[UUID]
    ) -> CartOut:
        """Take a line out of the cart."""
        async with runtime.database.session() as session:
            owner = await services.owner_of(session, principal_of(request), cart_token_of(request))
            cart = await services.require_cart(session, owner, lock=True)
            await services.remove_item(session, cart, variant_id)
            out = await services.read_cart(session, cart)
            await session.commit()
        return out
