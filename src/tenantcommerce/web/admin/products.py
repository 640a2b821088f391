"""``/admin/{slug}/products``: the list (search, status filter), create, and edit with variants and stock. The same
services and guards as ``/api/admin/{slug}/products`` and ``/api/admin/{slug}/inventory``."""

from __future__ import annotations

import math
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Response

from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.catalog import admin, media
from tenantcommerce.catalog.media_controllers import UPLOAD_BODY_CEILING, upload_within_limit
from tenantcommerce.catalog.schemas import MediaUpdate, MediaUpload
from tenantcommerce.catalog.services import ProductInput, VariantInput
from tenantcommerce.errors import FieldError, InputError, NotFound, TenantCommerceError
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.web.admin.pages import (
    choice,
    convert,
    field_messages,
    form_data,
    html,
    minor_units,
    see_other,
    store_page,
    whole_number,
)

PAGE_SIZE = 25
PRODUCT_STATUSES = ("draft", "active", "archived")
PRODUCT_FIELDS = ("name", "slug", "description", "status")
VARIANT_FIELDS = ("sku", "title", "price", "inventory", "weight_grams")
STOCK_FIELDS = ("delta", "reason")
IMAGE_FIELDS = ("file", "alt")
IMAGE_EDIT_FIELDS = ("alt", "position", "variant_id")
NEW_PRODUCT_FIELDS = PRODUCT_FIELDS + VARIANT_FIELDS
NOTICES = {
    "created": "Product created.",
    "saved": "Product saved.",
    "variant-added": "Variant added.",
    "variant-saved": "Variant saved.",
    "stock": "Stock adjusted.",
    "image-added": "Image added.",
    "image-removed": "Image removed.",
    "image-saved": "Image saved.",
}
VARIANT_RENAMES = (
    {"price_minor": "price"}
    | {f"variants[0].{name}": name for name in ("sku", "title", "inventory")}
    | {
        "variants[0].price_minor": "price",
        "variants[0].weight_grams": "weight_grams",
    }
)

Search = Annotated[str | None, QueryParameter(max_length=100)]
Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
Notice = Annotated[str | None, QueryParameter(max_length=40)]


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def _variant(form: dict[str, str], *, new: bool) -> dict[str, Any]:
    """The variant fields of a form as the API's variant input (``new``: creating, so stock may be given)."""
    currency = current_store().currency
    data: dict[str, Any] = {
        "sku": _text(form, "sku"),
        "price_minor": minor_units(form.get("price", ""), currency, "price"),
    }
    if _text(form, "title"):
        data["title"] = _text(form, "title")
    if new and _text(form, "inventory"):
        data["inventory"] = whole_number(form["inventory"], "inventory")
    if _text(form, "weight_grams"):
        data["weight_grams"] = whole_number(form["weight_grams"], "weight_grams")
    return data


async def _edit_page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    product_id: UUID,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response[str]:
    context = await store_page(request, runtime, "products")
    async with runtime.database.session() as session:
        product = await admin.get_product(session, product_id)
        images, _ = await media.list_media(session, product_id, limit=100, offset=0)
    return html(
        request,
        "product.html",
        {
            **context,
            "product": product,
            "images": images,
            "statuses": PRODUCT_STATUSES,
            "form": form,
            "values": values or {},
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
        },
        status=status,
    )


class ProductsPagesController(Controller):
    """Products of a store, as pages."""

    path = "/admin/{slug:str}/products"
    include_in_schema = False

    @get("/", guards=[requires("products:read")])
    async def list_products(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        status: Annotated[str | None, QueryParameter(max_length=40)] = None,
        q: Search = None,
        page: Page = 1,
    ) -> Response[str]:
        """Products of any status, newest first, searched by name or slug."""
        context = await store_page(request, runtime, "products")
        status = choice(status, PRODUCT_STATUSES, "status")
        async with runtime.database.session() as session:
            items, total = await admin.list_products(
                session, status=status, q=q or None, sort="-created_at", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
        filters = {key: value for key, value in (("status", status), ("q", q)) if value}
        return html(
            request,
            "products.html",
            {
                **context,
                "products": items,
                "total": total,
                "page": page,
                "pages": max(1, math.ceil(total / PAGE_SIZE)),
                "filters": filters,
                "statuses": PRODUCT_STATUSES,
            },
        )

    @get("/new", guards=[requires("products:write")])
    async def new(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[str]:
        """The form of a new product and its first variant."""
        context = await store_page(request, runtime, "products")
        values = {"status": "draft", "title": "Default", "inventory": "0"}
        return html(
            request, "product_new.html", {**context, "values": values, "errors": {}, "statuses": PRODUCT_STATUSES}
        )

    @post("/", guards=[requires("products:write")])
    async def create(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Create the product with its first variant."""
        form = await form_data(request)
        try:
            data = {
                "name": _text(form, "name"),
                "slug": _text(form, "slug"),
                "description": form.get("description", ""),
                "status": form.get("status", "draft"),
                "variants": [_variant(form, new=True)],
            }
            async with runtime.database.session() as session:
                product = await admin.create(session, convert(data, ProductInput), principal_of(request))
        except TenantCommerceError as exc:
            context = await store_page(request, runtime, "products")
            errors = field_messages(exc, NEW_PRODUCT_FIELDS, VARIANT_RENAMES)
            return html(
                request,
                "product_new.html",
                {**context, "values": form, "errors": errors, "statuses": PRODUCT_STATUSES},
                status=exc.status_code,
            )
        return see_other(f"/admin/{context_slug(request)}/products/{product.id}?notice=created")

    @get("/{product_id:uuid}", guards=[requires("products:read")])
    async def show(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        notice: Notice = None,
    ) -> Response[str]:
        """The product, its variants and stock, with the forms the member may use."""
        return await _edit_page(request, runtime, product_id, notice=notice)

    @post("/{product_id:uuid}", guards=[requires("products:write")])
    async def update(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], product_id: FromPath[UUID]
    ) -> Response[Any]:
        """Change name, slug, description or status."""
        form = await form_data(request)
        try:
            data = {name: form[name] for name in PRODUCT_FIELDS if name in form}
            for name in ("name", "slug"):
                if name in data:
                    data[name] = data[name].strip()
            async with runtime.database.session() as session:
                await admin.update_product(session, product_id, convert(data, admin.ProductUpdate))
        except TenantCommerceError as exc:
            errors = field_messages(exc, PRODUCT_FIELDS)
            return await _edit_page(
                request, runtime, product_id, form="product", values=form, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=saved")

    @post("/{product_id:uuid}/variants", guards=[requires("products:write")])
    async def add_variant(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], product_id: FromPath[UUID]
    ) -> Response[Any]:
        """Add a variant (with its first stock)."""
        form = await form_data(request)
        try:
            data = convert(_variant(form, new=True), VariantInput)
            async with runtime.database.session() as session:
                await admin.add_variant(session, product_id, data, principal_of(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, VARIANT_FIELDS, VARIANT_RENAMES)
            return await _edit_page(
                request, runtime, product_id, form="add-variant", values=form, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=variant-added")

    @post("/{product_id:uuid}/variants/{variant_id:uuid}", guards=[requires("products:write")])
    async def update_variant(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        variant_id: FromPath[UUID],
    ) -> Response[Any]:
        """Change a variant's SKU, title, price or weight."""
        form = await form_data(request)
        try:
            data = _variant(form, new=False)
            if not _text(form, "weight_grams"):
                data["weight_grams"] = None
            async with runtime.database.session() as session:
                await admin.update_variant(session, product_id, variant_id, convert(data, admin.VariantUpdate))
        except TenantCommerceError as exc:
            errors = field_messages(exc, VARIANT_FIELDS, VARIANT_RENAMES)
            return await _edit_page(
                request,
                runtime,
                product_id,
                form=f"variant-{variant_id}",
                values=form,
                errors=errors,
                status=exc.status_code,
            )
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=variant-saved")

    @post("/{product_id:uuid}/variants/{variant_id:uuid}/stock", guards=[requires("inventory:write")])
    async def adjust_stock(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        variant_id: FromPath[UUID],
    ) -> Response[Any]:
        """Add or remove stock, with a reason kept in the history."""
        form = await form_data(request)
        try:
            data = {
                "variant_id": str(variant_id),
                "delta": whole_number(form.get("delta", ""), "delta"),
                "reason": _text(form, "reason"),
            }
            async with runtime.database.session() as session:
                product = await admin.get_product(session, product_id)
                if all(variant.id != variant_id for variant in product.variants):
                    raise NotFound("no such variant of this product in this store")
                await admin.adjust_stock(session, convert(data, admin.StockAdjustmentInput), principal_of(request))
        except TenantCommerceError as exc:
            errors = field_messages(exc, STOCK_FIELDS)
            return await _edit_page(
                request,
                runtime,
                product_id,
                form=f"stock-{variant_id}",
                values=form,
                errors=errors,
                status=exc.status_code,
            )
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=stock")


class ProductImagesPagesController(Controller):
    """Images of a product, as forms of the product's page (``products:write``)."""

    path = "/admin/{slug:str}/products/{product_id:uuid}/images"
    include_in_schema = False

    @post(
        "/",
        guards=[requires("products:write"), upload_within_limit],
        request_max_body_size=UPLOAD_BODY_CEILING,
    )
    async def upload(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], product_id: FromPath[UUID]
    ) -> Response[Any]:
        """Upload an image (JPEG, PNG, WebP or GIF) with its alt text."""
        form = await request.form()
        values = {"alt": str(form.get("alt", ""))}
        try:
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                raise InputError("choose an image to upload", errors=[FieldError("file", "choose an image")])
            data = convert({"file": file, "alt": values["alt"].strip()}, MediaUpload)
            async with runtime.database.session() as session:
                await media.upload(
                    session, media.storage_for(runtime), product_id, data, max_bytes=runtime.settings.media_max_bytes
                )
        except TenantCommerceError as exc:
            errors = field_messages(exc, IMAGE_FIELDS)
            return await _edit_page(
                request, runtime, product_id, form="image", values=values, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=image-added")

    @post("/{media_id:uuid}", guards=[requires("products:write")])
    async def edit(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        media_id: FromPath[UUID],
    ) -> Response[Any]:
        """Change an image's alt text, its place in the order (lowest first) and the variant it shows (none: the
        product as a whole)."""
        form = await form_data(request)
        values = {name: form.get(name, "").strip() for name in IMAGE_EDIT_FIELDS}
        try:
            data = convert(
                {
                    "alt": values["alt"],
                    "position": whole_number(values["position"], "position"),
                    "variant_id": values["variant_id"] or None,
                },
                MediaUpdate,
            )
            async with runtime.database.session() as session:
                await media.update(session, product_id, media_id, data)
        except TenantCommerceError as exc:
            if exc.status_code == 404:
                raise
            errors = field_messages(exc, IMAGE_EDIT_FIELDS)
            return await _edit_page(
                request, runtime, product_id, form=f"image-{media_id}", values=values, errors=errors,
                status=exc.status_code,
            )  # fmt: skip
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=image-saved")

    @post("/{media_id:uuid}/delete", guards=[requires("products:write")])
    async def remove(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        media_id: FromPath[UUID],
    ) -> Response[Any]:
        """Delete an image and its file."""
        await form_data(request)
        async with runtime.database.session() as session:
            await media.delete(session, media.storage_for(runtime), product_id, media_id)
        return see_other(f"/admin/{context_slug(request)}/products/{product_id}?notice=image-removed")


def context_slug(request: Request[Any, Any, Any]) -> str:
    """The slug of the request's store."""
    return current_store().slug
