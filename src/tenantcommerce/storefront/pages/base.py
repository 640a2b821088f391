"""What every storefront page shares: the store's look (name, logo, colours, currency), the theme, the URL base,
the cart count, the signed-in customer, the CSRF token; rendering a page and turning service errors into form errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
import structlog
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from sqlalchemy import func, select

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.auth.sessions import cookies_are_secure
from tenantcommerce.cart.controllers import CART_COOKIE_MAX_AGE
from tenantcommerce.cart.models import CartItem
from tenantcommerce.cart.services import find_cart, owner_of
from tenantcommerce.cart.tokens import CART_TOKEN_COOKIE, cart_token_of
from tenantcommerce.errors import NotFound, TenantCommerceError
from tenantcommerce.tenancy.context import current_store_or_none
from tenantcommerce.tenancy.models import Store
from tenantcommerce.web.rendering import Site, render, site_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.plugins.providers import Theme
    from tenantcommerce.runtime import Runtime

_log = structlog.get_logger("tenantcommerce.storefront")

SHOPPER_FAILURE = "Something went wrong on our side. Please try again in a moment."
"""What a shopper reads when a provider or the platform failed (the details go to the log)."""
PAGE_STATE_KEY = "tenantcommerce.page"
"""Where a page keeps its base context on the request (the error page reuses it)."""
PAGE_CACHE_CONTROL = "no-store"
"""Pages carry the shopper's cart, addresses, orders and a CSRF token: never stored, not even by the browser (a
shared computer's Back button or disk cache must not show them after sign-out)."""
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_AT_PATH = re.compile(r"at `\$\.([^`]+)`")


@dataclass(frozen=True)
class StoreLook:
    """The store as its pages show it (from ``stores`` and its settings)."""

    slug: str
    name: str
    currency: str
    logo: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None

    @property
    def css_variables(self) -> str:
        """``--primary: ...;`` declarations for the store's colours (with a readable foreground), or ``""``."""
        parts = []
        for name, colour in (("primary", self.primary_color), ("accent", self.accent_color)):
            if colour and COLOUR.fullmatch(colour):
                parts.append(f"--{name}: {colour}; --{name}-foreground: {foreground_for(colour)};")
        return " ".join(parts)


def foreground_for(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (``#rrggbb``), by WCAG relative luminance."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else float(((value + 0.055) / 1.055) ** 2.4)

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


@dataclass
class Page:
    """A request's page: the environment, the theme's template prefix and the shared context."""

    site: Site
    theme: Theme
    context: dict[str, Any] = field(default_factory=dict)

    def template(self, name: str) -> str:
        """``<theme id>/<name>`` (the default theme's file when the theme has none)."""
        return f"{self.theme.id}/{name}"

    def render(
        self, name: str, status_code: int = 200, cookies: list[Cookie] | None = None, **extra: Any
    ) -> Response[str]:
        """The page ``name`` as an HTML response."""
        html = render(self.site.env, self.template(name), {**self.context, **extra})
        return Response(
            html,
            media_type=MediaType.HTML,
            status_code=status_code,
            cookies=cookies or [],
            headers={"Cache-Control": PAGE_CACHE_CONTROL},
        )

    def redirect(self, path: str, cookies: list[Cookie] | None = None) -> Redirect:
        """303 to ``path`` under the page's URL base (POST-redirect-GET)."""
        return Redirect(f"{self.context['base']}{path}", status_code=303, cookies=cookies or [])


def url_base(request: Request[Any, Any, Any]) -> str:
    """``/s/<slug>`` when the request came that way, ``""`` on the store's own host."""
    slug = request.path_params.get("slug")
    path: str = request.scope["path"]
    if isinstance(slug, str) and path.startswith(f"/s/{slug}"):
        return f"/s/{slug}"
    return ""


def csrf_token_of(request: Request[Any, Any, Any]) -> str:
    """The CSRF token for this request's forms (empty when the CSRF middleware did not run)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def customer_user_id(request: Request[Any, Any, Any]) -> UUID | None:
    """The signed-in customer of the store in context (a session of another store is not signed in here)."""
    principal = principal_of(request)
    store = current_store_or_none()
    if principal is None or store is None or principal.customer_store_id != store.id:
        return None
    return principal.user_id


async def cart_count(session: AsyncSession, request: Request[Any, Any, Any]) -> int:
    """How many items the shopper's open cart holds (0 without one)."""
    owner = await owner_of(session, principal_of(request), cart_token_of(request))
    if owner.customer_id is None and owner.token_hash is None:
        return 0
    cart = await find_cart(session, owner)
    if cart is None:
        return 0
    total = await session.scalar(select(func.coalesce(func.sum(CartItem.qty), 0)).where(CartItem.cart_id == cart.id))
    return int(total or 0)


def page_context(
    request: Request[Any, Any, Any], look: StoreLook, theme: Theme, *, cart_count: int, customer: bool, csrf_token: str
) -> dict[str, Any]:
    """What every storefront template gets (docs/themes.md, "What every template gets"); a page adds its own."""
    return {
        "store": look,
        "theme": theme,
        "base": url_base(request),
        "path": request.scope["path"],
        "cart_count": cart_count,
        "customer": customer,
        "csrf_token": csrf_token,
        "lang": "en",
        "errors": {},
        "form_error": None,
        "values": {},
        "notice": None,
    }


async def open_page(request: Request[Any, Any, Any], runtime: Runtime) -> Page:
    """The shared context of a storefront page of the store in context (kept on the request for the error page)."""
    store = current_store_or_none()
    if store is None:
        raise NotFound("no store is served at this address")
    plugins = await runtime.plugins.for_store(store)
    async with runtime.database.session() as session:
        row = await session.get(Store, store.id)
        settings: dict[str, Any] = dict(row.settings) if row is not None else {}
        count = await cart_count(session, request)
        await session.rollback()
    site = site_of(runtime.plugin_host)
    theme = site.themes.pick(settings.get("theme"), {theme.id for theme in plugins.themes()})
    if theme is None:
        raise TenantCommerceError("no storefront theme is installed (install tenantcommerce-theme-default)")
    look = StoreLook(
        slug=store.slug,
        name=store.name,
        currency=store.currency,
        logo=settings.get("logo"),
        primary_color=settings.get("primary_color"),
        accent_color=settings.get("accent_color"),
    )
    context = page_context(
        request,
        look,
        theme,
        cart_count=count,
        customer=customer_user_id(request) is not None,
        csrf_token=csrf_token_of(request),
    )
    page = Page(site=site, theme=theme, context=context)
    request.state[PAGE_STATE_KEY] = page
    return page


def cart_cookie(runtime: Runtime, token: str | None) -> list[Cookie]:
    """The ``tc_cart`` cookie of a new guest cart (as the cart API sets it), or none."""
    if token is None:
        return []
    return [
        Cookie(
            key=CART_TOKEN_COOKIE,
            value=token,
            max_age=CART_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=cookies_are_secure(runtime.settings),
            path="/",
        )
    ]


@dataclass(frozen=True)
class FormErrors:
    """A failed form: the status to answer, messages by field name, and one for the whole form."""

    status_code: int
    fields: dict[str, str]
    detail: str

    def context(self) -> dict[str, Any]:
        """The ``errors`` and ``form_error`` of a re-rendered form."""
        return {"errors": self.fields, "form_error": self.detail}


def form_errors(exc: TenantCommerceError | msgspec.ValidationError | HTTPException) -> FormErrors:
    """A service's error (its ``errors`` list, DESIGN.md §10) or a bad input, as field messages: 422 for a business
    rule, 400 for bad input, the error's own status otherwise."""
    if isinstance(exc, msgspec.ValidationError):
        message = str(exc)
        found = _AT_PATH.search(message)
        name = found.group(1) if found else "form"
        return FormErrors(400, {name: _AT_PATH.sub("", message).strip(" -")}, "Check the highlighted field.")
    if isinstance(exc, HTTPException):
        return FormErrors(exc.status_code, {}, str(exc.detail))
    if exc.status_code >= 500:  # a provider's or our own failure: its detail is for operators, not for shoppers
        _log.warning("storefront form failed", status=exc.status_code, detail=exc.detail)
        return FormErrors(exc.status_code, {}, SHOPPER_FAILURE)
    fields: dict[str, str] = {}
    for error in exc.errors:
        fields.setdefault(error.field, error.message)
    return FormErrors(exc.status_code, fields, exc.detail)
