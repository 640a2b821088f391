"""The storefront's HTML pages: the same services as the JSON API (DESIGN.md §9), rendered in the store's theme.

Forms post and redirect (POST-redirect-GET) and work without JavaScript; a service's error re-renders the form with
each message next to its field (422 for a business rule, 400 for bad input). Served at ``/s/{slug}/`` and, on a
store's own host, at ``/`` (see :func:`tenantcommerce.storefront.pages.page_routers`).
"""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

import msgspec
import structlog
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.auth.ratelimit import client_rate_limit
from tenantcommerce.auth.schemas import LoginInput
from tenantcommerce.auth.sessions import rotate_session, session_payload
from tenantcommerce.cart import services as carts
from tenantcommerce.cart.schemas import AddItem, SetQuantity
from tenantcommerce.cart.services import merge_guest_cart
from tenantcommerce.cart.tokens import cart_token_of
from tenantcommerce.catalog import storefront
from tenantcommerce.catalog.controllers import SEARCH_MAX_LENGTH
from tenantcommerce.catalog.schemas import PRODUCT_SLUG, StorefrontProduct
from tenantcommerce.catalog.storefront import ProductSort
from tenantcommerce.checkout import services as checkouts
from tenantcommerce.checkout.completion import complete_checkout
from tenantcommerce.checkout.schemas import CheckoutOut, CheckoutUpdate
from tenantcommerce.customers import services as customers
from tenantcommerce.errors import NotFound, TenantCommerceError, problem_of_http
from tenantcommerce.orders import queries
from tenantcommerce.orders.customer_controllers import LOOKUP_THROTTLE_ACTION
from tenantcommerce.orders.schemas import LookupInput
from tenantcommerce.runtime import Runtime
from tenantcommerce.storefront.pages.base import (
    PAGE_CACHE_CONTROL,
    PAGE_STATE_KEY,
    SHOPPER_FAILURE,
    FormErrors,
    Page,
    StoreLook,
    cart_cookie,
    customer_user_id,
    form_errors,
    open_page,
    page_context,
    url_base,
)
from tenantcommerce.tenancy.context import current_store, current_store_or_none
from tenantcommerce.web.rendering import DEFAULT_THEME, render, site_of

PRODUCT_SORT_LABELS = {
    ProductSort.NEWEST.value: "Newest",
    ProductSort.PRICE_ASC.value: "Price: low to high",
    ProductSort.PRICE_DESC.value: "Price: high to low",
    ProductSort.NAME.value: "Name",
}
BROWSER_PAYMENT_FAILED = frozenset({"failed", "requires_payment_method", "canceled"})
"""``redirect_status`` values (Stripe's, on the return address) that mean the browser's payment did not go through."""
FEATURED = 8
PER_PAGE = 12
HISTORY_PER_PAGE = 20
ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "region", "country")


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return min(max(number, low), high)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


_log = structlog.get_logger("tenantcommerce.storefront")


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A storefront error as an HTML page in the store's theme (its status and message)."""
    status_code = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "Something went wrong."
    if not isinstance(exc, (TenantCommerceError, HTTPException)):
        raise exc
    if status_code >= 500:  # a provider's or our own failure: its detail is for operators, not for shoppers
        _log.warning("storefront page failed", status=status_code, detail=str(detail))
        detail = SHOPPER_FAILURE
    page = request.state.get(PAGE_STATE_KEY)
    if isinstance(page, Page):
        return page.render("error.html", status_code=status_code, status=status_code, message=str(detail))
    store = current_store_or_none()
    if store is None:  # answered outside the store's scope (a middleware refused): the API's problem+json
        problem = exc.to_problem() if isinstance(exc, TenantCommerceError) else problem_of_http(exc)
        return problem.to_response(request)
    from tenantcommerce.app import runtime_of

    site = site_of(runtime_of(request.app).plugin_host)
    theme = site.themes.registered.get(DEFAULT_THEME)
    if theme is None:
        raise exc
    look = StoreLook(slug=store.slug, name=store.name, currency=store.currency)
    context = page_context(request, look, theme, cart_count=0, customer=False, csrf_token="")
    html = render(site.env, f"{DEFAULT_THEME}/error.html", {**context, "status": status_code, "message": str(detail)})
    return Response(
        html, media_type="text/html", status_code=status_code, headers={"Cache-Control": PAGE_CACHE_CONTROL}
    )


class StorefrontPages(Controller):
    """Every storefront page of the store in context."""

    path = "/"
    include_in_schema = False
    exception_handlers = {TenantCommerceError: error_page, HTTPException: error_page}

    # --- catalog --------------------------------------------------------------------------------------------------

    @get("/")
    async def home(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """The store's home: its newest products."""
        page = await open_page(request, runtime)
        products = await storefront.list_products(runtime.database, current_store().id, limit=FEATURED, offset=0)
        return page.render("home.html", products=products.items)

    @get("/products")
    async def products(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        q: FromQuery[str] = "",
        in_stock: FromQuery[str] = "",
        sort: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Response[str]:
        """Active products, a page at a time: optionally those whose name contains ``q``, only those in stock
        (``in_stock=1``), in another ``sort`` order. A value the form never sends falls back to no filter."""
        view = await open_page(request, runtime)
        query = q.strip()[:SEARCH_MAX_LENGTH]
        only_in_stock = in_stock in {"1", "on", "true"}
        order = ProductSort(sort) if sort in ProductSort.__members__.values() else ProductSort.NEWEST
        number = _int(page, 1, 1, 10_000)
        listing = await storefront.find_products(
            runtime.database,
            current_store().id,
            limit=PER_PAGE,
            offset=(number - 1) * PER_PAGE,
            query=query,
            in_stock=only_in_stock,
            sort=order,
        )
        filters = {"q": query, "in_stock": "1" if only_in_stock else "", "sort": order.value}
        return view.render(
            "products.html",
            products=listing.items,
            total=listing.total,
            page=number,
            pages=max(math.ceil(listing.total / PER_PAGE), 1),
            q=query,
            in_stock=only_in_stock,
            sort=order.value,
            sorts=PRODUCT_SORT_LABELS,
            filters={name: value for name, value in filters.items() if value and value != ProductSort.NEWEST},
        )

    @get("/products/{product_slug:str}")
    async def product(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], product_slug: FromPath[str]
    ) -> Response[str]:
        """One product: images, variants, stock, the add-to-cart form."""
        page = await open_page(request, runtime)
        return page.render("product.html", product=await self._product(runtime, product_slug))

    @staticmethod
    async def _product(runtime: Runtime, product_slug: str) -> StorefrontProduct:
        product = None
        if PRODUCT_SLUG.fullmatch(product_slug):
            product = await storefront.get_product(runtime.database, current_store().id, product_slug)
        if product is None:
            raise NotFound("There is no such product in this store.")
        return product

    # --- cart -----------------------------------------------------------------------------------------------------

    @get("/cart")
    async def cart(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """The cart, priced now, with what changed since it was last shown."""
        page = await open_page(request, runtime)
        return page.render("cart.html", cart=await self._read_cart(request, runtime))

    @staticmethod
    async def _read_cart(request: Request[Any, Any, Any], runtime: Runtime) -> Any:
        async with runtime.database.session() as session:
            owner = await carts.owner_of(session, principal_of(request), cart_token_of(request))
            cart = await carts.find_cart(session, owner) if owner.customer_id or owner.token_hash else None
            out = await carts.read_cart(session, cart) if cart is not None else None
            await session.commit()
        return out

    @post("/cart/items")
    async def add_to_cart(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[str] | Redirect:
        """Add a variant (``variant_id``, ``qty``) and go to the cart; errors re-render the product page."""
        page = await open_page(request, runtime)
        form = await request.form()
        try:
            data = msgspec.convert(
                {"variant_id": _text(form, "variant_id"), "qty": _text(form, "qty") or 1},
                AddItem,
                strict=False,
            )
            async with runtime.database.session() as session:
                owner = await carts.owner_of(session, principal_of(request), cart_token_of(request))
                cart, token = await carts.open_cart(session, owner)
                await carts.add_item(session, cart, data.variant_id, data.qty)
                await session.commit()
        except (TenantCommerceError, msgspec.ValidationError) as exc:
            failed = form_errors(exc)
            slug = _text(form, "product_slug")
            if not slug:
                raise
            product = await self._product(runtime, slug)
            return page.render(
                "product.html", status_code=failed.status_code, product=product, values=dict(form), **failed.context()
            )
        return page.redirect("/cart", cookies=cart_cookie(runtime, token))

    @post("/cart/items/{variant_id:uuid}")
    async def update_line(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], variant_id: FromPath[UUID]
    ) -> Response[str] | Redirect:
        """Change a line's quantity (``qty``), or remove it (``action=remove`` or quantity 0)."""
        page = await open_page(request, runtime)
        form = await request.form()
        remove = _text(form, "action") == "remove" or _text(form, "qty") == "0"
        try:
            data = None if remove else msgspec.convert({"qty": _text(form, "qty")}, SetQuantity, strict=False)
            async with runtime.database.session() as session:
                owner = await carts.owner_of(session, principal_of(request), cart_token_of(request))
                cart = await carts.require_cart(session, owner, lock=True)
                if data is None:
                    await carts.remove_item(session, cart, variant_id)
                else:
                    await carts.set_quantity(session, cart, variant_id, data.qty)
                await session.commit()
        except (TenantCommerceError, msgspec.ValidationError) as exc:
            failed = form_errors(exc)
            errors = {f"qty-{variant_id}": failed.fields.get("qty", failed.detail)}
            return page.render(
                "cart.html",
                status_code=failed.status_code,
                cart=await self._read_cart(request, runtime),
                errors=errors,
                form_error=failed.detail,
            )
        return page.redirect("/cart")

    # --- checkout -------------------------------------------------------------------------------------------------

    @post("/checkout")
    async def start_checkout(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[str] | Redirect:
        """Freeze the cart into a checkout (with the discount code, if one was given) and go to it."""
        page = await open_page(request, runtime)
        form = await request.form()
        code = _text(form, "discount_code")
        plugins = await runtime.plugins.for_store(current_store())
        try:
            update = msgspec.convert({"discount_code": code}, CheckoutUpdate) if code else None
            async with runtime.database.session() as session:
                owner = await carts.owner_of(session, principal_of(request), cart_token_of(request))
                checkout = await checkouts.create_checkout(session, owner, None)
                if update is not None:
                    await checkouts.update_checkout(session, plugins, checkout, update)
                checkout_id = checkout.id
                await session.commit()
        except (TenantCommerceError, msgspec.ValidationError) as exc:
            failed = form_errors(exc)
            return page.render(
                "cart.html",
                status_code=failed.status_code,
                cart=await self._read_cart(request, runtime),
                values={"discount_code": code},
                **failed.context(),
            )
        return page.redirect(f"/checkout/{checkout_id}")

    @staticmethod
    async def _describe(request: Request[Any, Any, Any], runtime: Runtime, checkout_id: UUID) -> CheckoutOut:
        plugins = await runtime.plugins.for_store(current_store())
        async with runtime.database.session() as session:
            owner = await carts.owner_of(session, principal_of(request), cart_token_of(request))
            checkout = await checkouts.get_checkout(session, owner, checkout_id)
            out = await checkouts.describe(session, plugins, checkout)
            await session.rollback()
        return out

    @get("/checkout/{checkout_id:uuid}")
    async def checkout(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], checkout_id: FromPath[UUID]
    ) -> Response[str] | Redirect:
        """The checkout form: e-mail, address, shipping choice, payment method, discount code, totals."""
        page = await open_page(request, runtime)
        out = await self._describe(request, runtime, checkout_id)
        if out.status != "open":
            return page.redirect(f"/checkout/{checkout_id}/done")
        return page.render("checkout.html", checkout=out, values=_checkout_values(out))

    @post("/checkout/{checkout_id:uuid}")
    async def update_checkout(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], checkout_id: FromPath[UUID]
    ) -> Response[str] | Redirect:
        """Save the form; with ``action=complete`` also place the order (reserve, pay) and go to the confirmation
        (or, for a payment finished in the browser, to the payment page)."""
        page = await open_page(request, runtime)
        form = await request.form()
        values = {name: _text(form, name) for name in form}
        plugins = await runtime.plugins.for_store(current_store())
        try:
            async with runtime.database.session() as session:
                owner = await carts.owner_of(session, principal_of(request), cart_token_of(request))
                checkout = await checkouts.get_checkout(session, owner, checkout_id, lock=True)
                if checkout.status == "open":
                    update = msgspec.convert(_checkout_update(values, checkout.discount_code), CheckoutUpdate)
                    await checkouts.update_checkout(session, plugins, checkout, update)
                await session.commit()
            if values.get("action") == "complete":
                await complete_checkout(runtime, request, checkout_id)
        except (TenantCommerceError, msgspec.ValidationError) as exc:
            failed = form_errors(exc)
            out = await self._describe(request, runtime, checkout_id)
            if out.status != "open":
                return page.redirect(f"/checkout/{checkout_id}/done")
            return _render_checkout(page, out, values, failed)
        if values.get("action") == "complete":
            return page.redirect(f"/checkout/{checkout_id}/done")
        return page.redirect(f"/checkout/{checkout_id}")

    @get("/checkout/{checkout_id:uuid}/done")
    async def confirmation(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        checkout_id: FromPath[UUID],
        returned: FromQuery[str] = "",
        redirect_status: FromQuery[str] = "",
    ) -> Response[str] | Redirect:
        """The order confirmation with the payment instructions. While the browser must pay: the payment page; once
        it comes back from paying (``?returned=1``, the payment page's return address), the confirmation waits for
        the gateway's word and polls :meth:`payment_status`, unless the gateway says the payment failed."""
        page = await open_page(request, runtime)
        out = await self._describe(request, runtime, checkout_id)
        if out.status == "open":
            return page.redirect(f"/checkout/{checkout_id}")
        if out.status == "awaiting_payment" and out.payment is not None and out.payment.client_secret:
            failed = redirect_status in BROWSER_PAYMENT_FAILED
            if not returned or failed:
                return page.render(
                    "payment.html", checkout=out, publishable_key=_publishable_key(out), payment_failed=failed
                )
        return page.render("confirmation.html", checkout=out, waiting=out.status == "awaiting_payment")

    @get("/checkout/{checkout_id:uuid}/status")
    async def payment_status(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], checkout_id: FromPath[UUID]
    ) -> Response[str]:
        """What the waiting confirmation polls (htmx): 204 while the checkout awaits its payment; then 200 with
        ``HX-Redirect`` to the confirmation (and a link to it, for anything but htmx)."""
        out = await self._describe(request, runtime, checkout_id)  # polled every 2 s: no page context needed
        if out.status == "awaiting_payment":
            return Response("", status_code=204, headers={"Cache-Control": PAGE_CACHE_CONTROL})
        done = f"{url_base(request)}/checkout/{checkout_id}/done"
        return Response(
            f'<a href="{done}">Your order</a>',
            media_type="text/html",
            headers={"HX-Redirect": done, "Cache-Control": PAGE_CACHE_CONTROL},
        )

    # --- customers ------------------------------------------------------------------------------------------------

    @get("/account/sign-in")
    async def sign_in_form(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """The customer sign-in form."""
        page = await open_page(request, runtime)
        return page.render("sign_in.html")

    @post("/account/sign-in", middleware=[client_rate_limit()])
    async def sign_in(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[str] | Redirect:
        """Sign in at this store (the session is valid here only); a guest cart is merged into the customer's."""
        page = await open_page(request, runtime)
        form = await request.form()
        email = _text(form, "email")
        try:
            data = msgspec.convert({"email": email, "password": form.get("password") or ""}, LoginInput)
            await runtime.throttle.hit("login", data.email)
            user, customer = await customers.sign_in_customer(
                runtime.database, email=data.email, password=data.password
            )
        except (TenantCommerceError, msgspec.ValidationError, HTTPException) as exc:
            failed = form_errors(exc)
            if failed.status_code == 401:
                failed = FormErrors(401, {"password": "The e-mail or the password is wrong."}, failed.detail)
            return page.render(
                "sign_in.html", status_code=failed.status_code, values={"email": email}, **failed.context()
            )
        token = cart_token_of(request)
        if token is not None:
            async with runtime.database.session() as session:
                await merge_guest_cart(session, customer.id, token)
                await session.commit()
        rotate_session(request)
        request.set_session(
            session_payload(str(user.id), user.session_epoch, kind="customer", store_id=str(current_store().id))
        )
        return page.redirect("/account/orders")

    @post("/account/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Redirect:
        """End this session."""
        page = await open_page(request, runtime)
        request.clear_session()
        return page.redirect("/")

    @get("/account/orders")
    async def order_history(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], page: FromQuery[str] = "1"
    ) -> Response[str] | Redirect:
        """The signed-in customer's orders at this store, newest first."""
        view = await open_page(request, runtime)
        user_id = customer_user_id(request)
        if user_id is None:
            return view.redirect("/account/sign-in")
        number = _int(page, 1, 1, 10_000)
        async with runtime.database.session() as session:
            items, total = await queries.customer_orders(
                session, user_id, limit=HISTORY_PER_PAGE, offset=(number - 1) * HISTORY_PER_PAGE
            )
        pages = max(math.ceil(total / HISTORY_PER_PAGE), 1)
        return view.render("orders.html", orders=items, total=total, page=number, pages=pages)

    @get("/account/orders/{order_number:int}")
    async def my_order(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], order_number: FromPath[int]
    ) -> Response[str] | Redirect:
        """One of the signed-in customer's orders."""
        page = await open_page(request, runtime)
        user_id = customer_user_id(request)
        if user_id is None:
            return page.redirect("/account/sign-in")
        if not 1 <= order_number < 2**63:
            raise NotFound("There is no such order.")
        async with runtime.database.session() as session:
            order = await queries.customer_order(session, user_id, order_number)
        return page.render("order.html", order=order)

    @get("/orders/lookup")
    async def lookup_form(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """The guest order lookup form (order number and e-mail)."""
        page = await open_page(request, runtime)
        return page.render("lookup.html")

    @post("/orders/lookup", middleware=[client_rate_limit()])
    async def lookup(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """A guest's order by number and e-mail; any mismatch says the same."""
        page = await open_page(request, runtime)
        form = await request.form()
        values = {"order_number": _text(form, "order_number"), "email": _text(form, "email")}
        try:
            number = values["order_number"]
            data = msgspec.convert(
                {
                    "order_number": int(number)
                    if number.isascii() and number.isdigit() and len(number) <= 18
                    else number,
                    "email": values["email"],
                },
                LookupInput,
            )
            throttle_key = f"order-lookup:{current_store().id}:{data.order_number}"
            await runtime.throttle.hit(LOOKUP_THROTTLE_ACTION, throttle_key)
            async with runtime.database.session() as session:
                order = await queries.lookup_order(session, data.order_number, data.email)
        except (TenantCommerceError, msgspec.ValidationError, HTTPException) as exc:
            failed = form_errors(exc)
            if isinstance(exc, NotFound):
                failed = FormErrors(404, {}, "No order matches this number and e-mail address.")
            return page.render("lookup.html", status_code=failed.status_code, values=values, **failed.context())
        return page.render("order.html", order=order)


def _checkout_values(out: CheckoutOut) -> dict[str, str]:
    """The form's fields as the checkout holds them."""
    values = {
        "email": out.email or "",
        "discount_code": out.discount_code or "",
        "payment_method": out.payment_method or "",
    }
    address = msgspec.to_builtins(out.shipping_address) if out.shipping_address is not None else {}
    for name in ADDRESS_FIELDS:
        values[f"shipping_address.{name}"] = str(address.get(name) or "")
    if out.shipping is not None:
        values["shipping"] = f"{out.shipping.carrier_id}|{out.shipping.rate_id}"
    return values


def _checkout_update(values: dict[str, str], current_code: str | None) -> dict[str, Any]:
    """The form as a ``CheckoutUpdate`` body: blank fields are left alone (a cleared discount code removes it)."""
    body: dict[str, Any] = {}
    if values.get("email"):
        body["email"] = values["email"].lower()
    address = {name: values.get(f"shipping_address.{name}", "") for name in ADDRESS_FIELDS}
    if any(address.values()):
        address["country"] = address["country"].upper()
        address["region"] = address["region"].upper()
        body["shipping_address"] = {name: value for name, value in address.items() if value}
    if "discount_code" in values:
        code = values["discount_code"]
        if code:
            body["discount_code"] = code
        elif current_code is not None:
            body["discount_code"] = None
    shipping = values.get("shipping", "")
    if "|" in shipping:
        carrier_id, rate_id = shipping.split("|", 1)
        body["shipping"] = {"carrier_id": carrier_id, "rate_id": rate_id}
    if values.get("payment_method"):
        body["payment_method"] = values["payment_method"]
    return body


def _render_checkout(page: Page, out: CheckoutOut, values: dict[str, str], failed: FormErrors) -> Response[str]:
    shown = {**_checkout_values(out), **values}
    fields = dict(failed.fields)
    for name, message in failed.fields.items():
        # a message about a whole group goes next to the group's input that a customer fixes it with
        if name == "shipping_address":
            fields.setdefault("shipping_address.country", message)
        elif name.startswith("shipping."):
            fields.setdefault("shipping", message)
    return page.render("checkout.html", status_code=failed.status_code, checkout=out, values=shown, errors=fields,
                       form_error=failed.detail)  # fmt: skip


def _publishable_key(out: CheckoutOut) -> str:
    """The key the payment page hands Stripe.js, from the payment's ``client_options`` (empty: the gateway offers
    none, and the page says the payment cannot be finished here)."""
    if out.payment is None or not out.payment.client_options:
        return ""
    return out.payment.client_options.get("publishable_key", "")
