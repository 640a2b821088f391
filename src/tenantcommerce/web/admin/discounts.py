"""``/admin/{slug}/discounts``: the codes (search, active filter), create, activate or deactivate, delete. The same
services and guards as ``/api/admin/{slug}/discounts``."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Response

from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.discounts import services
from tenantcommerce.discounts.schemas import DiscountInput, DiscountOut, DiscountUpdate
from tenantcommerce.errors import FieldError, InputError, TenantCommerceError
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.web.admin.pages import (
    MAX_AMOUNT_DIGITS,
    choice,
    convert,
    decimal_amount,
    field_messages,
    form_data,
    html,
    minor_units,
    see_other,
    store_page,
)

PAGE_SIZE = 25
KINDS = ("percentage", "fixed_amount", "free_shipping")
FIELDS = ("code", "kind", "value", "min_subtotal", "starts_at", "ends_at", "usage_limit", "active")
RENAMES = {"min_subtotal_minor": "min_subtotal"}
NOTICES = {
    "created": "Discount created.",
    "activated": "Discount activated.",
    "deactivated": "Discount deactivated.",
    "deleted": "Discount deleted.",
    "saved": "Discount saved.",
}

Search = Annotated[str | None, QueryParameter(max_length=100)]
Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
Notice = Annotated[str | None, QueryParameter(max_length=40)]


def _basis_points(value: str) -> int:
    """``12.5`` (per cent) -> 1250 basis points."""
    try:
        typed = Decimal(value.strip().replace(",", "."))
        points = typed * 100 if typed.is_finite() and typed.adjusted() <= MAX_AMOUNT_DIGITS else Decimal("NaN")
    except (InvalidOperation, ArithmeticError):
        points = Decimal("NaN")
    if not points.is_finite() or points != points.to_integral_value():
        raise InputError(
            "value: enter a percentage such as 10", errors=[FieldError("value", "enter a percentage such as 10")]
        )
    return int(points)


def _moment(value: str, field: str) -> datetime.datetime | None:
    """A ``datetime-local`` input (read as UTC)."""
    if not value.strip():
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"{field}: enter a date and time", errors=[FieldError(field, "enter a date and time")]
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _input(form: dict[str, str]) -> dict[str, Any]:
    """The create form as the API's discount input."""
    currency = current_store().currency
    kind = form.get("kind", "")
    data: dict[str, Any] = {"code": form.get("code", "").strip(), "kind": kind, "active": form.get("active") == "on"}
    value = form.get("value", "").strip()
    if kind == "percentage" and value:
        data["value"] = _basis_points(value)
    elif kind == "fixed_amount" and value:
        data["value"] = minor_units(value, currency, "value")
    if form.get("min_subtotal", "").strip():
        data["min_subtotal_minor"] = minor_units(form["min_subtotal"], currency, "min_subtotal")
    for name in ("starts_at", "ends_at"):
        moment = _moment(form.get(name, ""), name)
        if moment is not None:
            data[name] = moment.isoformat()
    if form.get("usage_limit", "").strip():
        try:
            data["usage_limit"] = int(form["usage_limit"])
        except ValueError:
            raise InputError(
                "usage_limit: enter a whole number", errors=[FieldError("usage_limit", "enter a whole number")]
            ) from None
    return data


def discount_values(discount: DiscountOut) -> dict[str, str]:
    """A discount as its edit form shows it."""
    currency = discount.min_subtotal.currency
    if discount.kind == "percentage":
        value = f"{Decimal(discount.value) / 100:f}"
    elif discount.kind == "fixed_amount":
        value = decimal_amount(discount.value, currency)
    else:
        value = ""
    moments = {
        name: moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""
        for name, moment in (("starts_at", discount.starts_at), ("ends_at", discount.ends_at))
    }
    return {
        "code": discount.code,
        "value": value,
        "min_subtotal": decimal_amount(discount.min_subtotal.amount_minor, currency),
        "usage_limit": "" if discount.usage_limit is None else str(discount.usage_limit),
        "active": "on" if discount.active else "",
        **moments,
    }


class DiscountsPagesController(Controller):
    """Discount codes of a store, as pages."""

    path = "/admin/{slug:str}/discounts"
    include_in_schema = False

    async def _list(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        *,
        active: bool | None = None,
        q: str | None = None,
        page: int = 1,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "discounts")
        async with runtime.database.session() as session:
            items, total = await services.list_discounts(
                session, active=active, q=q or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
        filters: dict[str, str] = {}
        if active is not None:
            filters["active"] = "true" if active else "false"
        if q:
            filters["q"] = q
        return html(
            request,
            "discounts.html",
            {
                **context,
                "discounts": items,
                "total": total,
                "page": page,
                "pages": max(1, math.ceil(total / PAGE_SIZE)),
                "filters": filters,
                "kinds": KINDS,
                "values": values if values is not None else {"kind": "percentage", "active": "on"},
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @get("/", guards=[requires("discounts:read")])
    async def list_discounts(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        active: Annotated[str | None, QueryParameter(max_length=10)] = None,
        q: Search = None,
        page: Page = 1,
        notice: Notice = None,
    ) -> Response[str]:
        """The codes, newest first, and the form of a new one."""
        chosen = choice(active, ("true", "false"), "active")
        flag = None if chosen is None else chosen == "true"
        return await self._list(request, runtime, active=flag, q=q, page=page, notice=notice)

    @post("/", guards=[requires("discounts:write")])
    async def create(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Create a code."""
        form = await form_data(request)
        try:
            data = convert(_input(form), DiscountInput)
            async with runtime.database.session() as session:
                await services.create_discount(session, data, principal_of(request), request_id=request_id(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, FIELDS, RENAMES)
            return await self._list(request, runtime, values=form, errors=errors, status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/discounts?notice=created")

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        discount_id: UUID,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "discounts")
        async with runtime.database.session() as session:
            discount = await services.get_discount(session, discount_id)
        if values is None:
            values = discount_values(discount)
        return html(
            request,
            "discount.html",
            {
                **context,
                "discount": discount,
                "values": values,
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @get("/{discount_id:uuid}", guards=[requires("discounts:read")])
    async def show(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        discount_id: FromPath[UUID],
        notice: Notice = None,
    ) -> Response[str]:
        """One code, its uses, and the form to change it."""
        return await self._detail(request, runtime, discount_id, notice=notice)

    @post("/{discount_id:uuid}", guards=[requires("discounts:write")])
    async def update(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], discount_id: FromPath[UUID]
    ) -> Response[Any]:
        """Change code, value, minimum, dates, usage limit or ``active`` (the kind stays)."""
        form = await form_data(request)
        try:
            async with runtime.database.session() as session:
                current = await services.get_discount(session, discount_id)
            data = _input({**form, "kind": current.kind})
            del data["kind"]
            for name in ("starts_at", "ends_at", "usage_limit"):
                data.setdefault(name, None)  # emptied: no start, no end, no limit
            if current.kind == "free_shipping":
                data.pop("value", None)
            async with runtime.database.session() as session:
                await services.update_discount(
                    session, discount_id, convert(data, DiscountUpdate), principal_of(request),
                    request_id=request_id(request),
                )  # fmt: skip
        except TenantCommerceError as exc:
            errors = field_messages(exc, FIELDS, RENAMES)
            return await self._detail(request, runtime, discount_id, values=form, errors=errors, status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/discounts/{discount_id}?notice=saved")

    @post("/{discount_id:uuid}/active", guards=[requires("discounts:write")])
    async def set_active(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], discount_id: FromPath[UUID]
    ) -> Response[Any]:
        """Turn a code on or off (``active=on`` turns it on)."""
        form = await form_data(request)
        active = form.get("active") == "on"
        try:
            async with runtime.database.session() as session:
                await services.update_discount(
                    session, discount_id, DiscountUpdate(active=active), principal_of(request),
                    request_id=request_id(request),
                )  # fmt: skip
        except TenantCommerceError as exc:
            return await self._list(request, runtime, errors=field_messages(exc, ()), status=exc.status_code)
        notice = "activated" if active else "deactivated"
        return see_other(f"/admin/{current_store().slug}/discounts?notice={notice}")

    @post("/{discount_id:uuid}/delete", guards=[requires("discounts:write")])
    async def remove(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], discount_id: FromPath[UUID]
    ) -> Response[Any]:
        """Delete a code never used (a used one: deactivate it instead)."""
        await form_data(request)
        try:
            async with runtime.database.session() as session:
                await services.delete_discount(
                    session, discount_id, principal_of(request), request_id=request_id(request)
                )
        except TenantCommerceError as exc:
            return await self._list(request, runtime, errors=field_messages(exc, ()), status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/discounts?notice=deleted")
