"""What every dashboard page shares: the Jinja environment, the page context (user, stores, permissions, CSRF token),
form parsing, and turning a service's errors into messages next to the form's fields.

Pages never hold a business rule: they parse a form into the same input Struct the JSON API takes, call the same
service, and on a :class:`~tenantcommerce.errors.TenantCommerceError` re-render the form with its ``errors``.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import jinja2
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.utils.scope.state import ScopeState

from tenantcommerce.auth import services as auth_services
from tenantcommerce.auth.guards import permissions_in_store, principal_of
from tenantcommerce.errors import FieldError, InputError, TenantCommerceError, field_errors_of
from tenantcommerce.money import minor_digits
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.web.admin.static import asset_url
from tenantcommerce.web.rendering import Themes, environment, render

if TYPE_CHECKING:
    from tenantcommerce.auth.schemas import MeOut
    from tenantcommerce.runtime import Runtime

T = TypeVar("T")

HTML = "text/html; charset=utf-8"
NAV: tuple[tuple[str, str, str | None], ...] = (
    ("overview", "Overview", None),
    ("orders", "Orders", "orders:read"),
    ("products", "Products", "products:read"),
    ("customers", "Customers", "customers:read"),
    ("discounts", "Discounts", "discounts:read"),
    ("settings", "Settings", "settings:read"),
    ("members", "Members", "members:read"),
    ("tokens", "API tokens", "tokens:manage"),
    ("audit", "Audit log", "audit:read"),
)
"""The dashboard's sections: (path under the store, label, the permission that shows it; ``None``: every member)."""


def _datetime(value: datetime.datetime | None) -> str:
    """``2026-11-28 14:05 UTC`` (the dashboard shows UTC)."""
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def decimal_amount(amount_minor: int | None, currency: str) -> str:
    """``1234, "EUR"`` -> ``12.34`` (an amount as a form field shows it)."""
    digits = minor_digits(currency)
    return f"{Decimal(amount_minor or 0).scaleb(-digits):.{digits}f}"


@cache
def admin_environment() -> jinja2.Environment:
    """The shared environment (``rendering.environment``) with the dashboard's own filters added.

    The dashboard needs only the ``_admin/`` templates, so it builds its environment without themes: the storefront's
    environment (and its globals) stay the storefront's.
    """
    env = environment(Themes(registered={}))
    env.filters["datetime"] = _datetime
    env.filters["decimal"] = decimal_amount
    env.globals["status_variant"] = status_variant
    env.globals["asset_url"] = asset_url
    return env


def status_variant(status: str) -> str:
    """The badge look of an order, payment or fulfilment status."""
    if status in {"paid", "fulfilled", "completed", "succeeded", "active"}:
        return "primary"
    if status in {"cancelled", "failed", "voided", "refunded", "archived"}:
        return "destructive"
    if status in {"pending", "unfulfilled", "draft", "open"}:
        return "outline"
    return "secondary"


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """The CSRF token forms send back as ``_csrf_token`` (the middleware set it for this request)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def html(
    request: Request[Any, Any, Any], template: str, context: Mapping[str, Any], *, status: int = 200
) -> Response[str]:
    """Render ``_admin/<template>`` as an HTML answer (never cached: it shows one member's view)."""
    body = render(admin_environment(), f"_admin/{template}", {"csrf_token": csrf_token(request), **context})
    return Response(body, status_code=status, media_type=HTML, headers={"Cache-Control": "no-store"})


def see_other(path: str) -> Redirect:
    """POST-redirect-GET."""
    return Redirect(path, status_code=HTTP_303_SEE_OTHER)


def sign_in_url(request: Request[Any, Any, Any]) -> str:
    """The sign-in page, coming back to this page afterwards."""
    return "/admin/login?next=" + quote(request.url.path, safe="/")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path of this site, never another site."""
    if value and value.startswith("/admin/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/"


async def me(request: Request[Any, Any, Any], runtime: Runtime) -> MeOut | None:
    """The signed-in staff user and their stores; ``None`` when nobody (or only a customer) is signed in."""
    principal = principal_of(request)
    if principal is None or not principal.is_staff_session:
        return None
    try:
        return await auth_services.describe_user(runtime.database, principal.user_id)
    except TenantCommerceError:
        return None


async def store_page(request: Request[Any, Any, Any], runtime: Runtime, section: str) -> dict[str, Any]:
    """The context every page of a store has: the user, their stores (the switcher), the store, the sections the
    member may see, and the member's permissions (templates show a form only to who may send it)."""
    permissions = await permissions_in_store(request)
    user = await me(request, runtime)
    store = current_store()
    nav = [
        {"path": path, "label": label, "current": path == section}
        for path, label, needed in NAV
        if needed is None or needed in permissions
    ]
    return {
        "user": user.user if user else None,
        "stores": user.stores if user else [],
        "store": store,
        "base": f"/admin/{store.slug}",
        "nav": nav,
        "section": section,
        "can": permissions,
    }


async def form_data(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form, one string per field (the CSRF token left out)."""
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key != "_csrf_token" and isinstance(value, str)}


def convert(data: Mapping[str, Any], kind: type[T]) -> T:
    """``data`` as the input Struct ``kind`` the API takes, validated the same way.

    Raises:
        InputError: the form does not match the schema (its ``errors`` name the field).
    """
    try:
        return msgspec.convert(dict(data), kind)
    except msgspec.ValidationError as exc:
        errors = field_errors_of(str(exc))
        raise InputError("the form has errors: " + "; ".join(e.message for e in errors), errors=errors) from None


def choice(value: str | None, allowed: Collection[str], field: str) -> str | None:
    """A filter's value from a query string: empty (a form's "any") is no filter.

    Raises:
        InputError: a value that is not one of ``allowed``.
    """
    if not value:
        return None
    if value not in allowed:
        message = "must be one of " + ", ".join(allowed)
        raise InputError(f"{field}: {message}", errors=[FieldError(field, message)])
    return value


MAX_AMOUNT_DIGITS = 15
"""Amounts typed in forms have at most this many digits before the decimal point (the database's bigint holds 18)."""


def minor_units(value: str, currency: str, field: str) -> int:
    """A decimal amount typed in a form (``12.50``) as minor units of ``currency``.

    Raises:
        InputError: not an amount, or more decimals than the currency has.
    """
    digits = minor_digits(currency)
    text = value.strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ArithmeticError):
        amount = Decimal("NaN")
    # A bounded size first: "1e999999" would take the worker tens of seconds to turn into an int.
    exponent = amount.as_tuple().exponent  # an int for finite amounts ("n", "N" or "F" otherwise)
    too_precise = not isinstance(exponent, int) or exponent < -digits
    too_large = amount.is_finite() and amount.adjusted() > MAX_AMOUNT_DIGITS
    if not amount.is_finite() or too_large or too_precise:
        message = f"enter an amount such as {decimal_amount(1250, currency)}"
        raise InputError(f"{field}: {message}", errors=[FieldError(field, message)])
    return int(amount.scaleb(digits))


def whole_number(value: str, field: str) -> int:
    """An integer typed in a form.

    Raises:
        InputError: not an integer.
    """
    try:
        return int(value.strip())
    except ValueError:
        raise InputError(f"{field}: enter a whole number", errors=[FieldError(field, "enter a whole number")]) from None


def field_messages(
    error: TenantCommerceError, fields: Collection[str], renames: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A service's ``errors`` by form field (``renames`` maps the API's field names to the form's); what names no
    field of the form (and the detail of an error naming no field) goes under ``""``, shown above the form."""
    messages: dict[str, str] = {}
    for item in error.errors:
        name = (renames or {}).get(item.field, item.field)
        if name not in fields:  # ``lines[0].qty`` belongs to the form's ``lines``
            name = name.split("[", 1)[0].split(".", 1)[0]
        if name not in fields:
            name, text = "", f"{item.field}: {item.message}" if item.field not in ("", "body") else item.message
        else:
            text = item.message
        messages[name] = f"{messages[name]}; {text}" if name in messages else text
    if not error.errors:
        messages[""] = error.detail
    return messages


def form_status(error: TenantCommerceError) -> int:
    """The status of a re-rendered form: 400 for bad input, the service's own status otherwise (422, 409, ...)."""
    return error.status_code


def error_status(exc: Exception) -> tuple[int, str]:
    """Status and message of an error page."""
    if isinstance(exc, TenantCommerceError):
        return exc.status_code, exc.detail
    if isinstance(exc, HTTPException):
        return exc.status_code, exc.detail
    return 500, "something went wrong"
