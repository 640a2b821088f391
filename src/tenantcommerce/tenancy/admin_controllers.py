"""``/api/admin/{slug}/settings``: the store's name, currency, contact and theme (changes are audited)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy import exists, or_, select

from tenantcommerce.auth.admin_controllers import ADMIN_PREFIX, request_id
from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.catalog.models import ProductVariant
from tenantcommerce.discounts.models import Discount
from tenantcommerce.errors import BusinessRuleError, FieldError, problem_responses
from tenantcommerce.fields import Email, Text200
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.tenancy.models import Store

Colour = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$", description="A colour as #rrggbb.")]
LogoUrl = Annotated[
    str,
    msgspec.Meta(
        max_length=500,
        pattern=r"^(/([^/\s\"'<>\\][^\s\"'<>\\]*)?|https://[^\s\"'<>\\]+)$",
        description="Where the logo is: a path on this site (/...) or an https:// URL.",
    ),
]


class StoreSettings(msgspec.Struct, frozen=True, omit_defaults=True):
    """A store's settings. ``status`` is read-only here (operators suspend stores). The appearance (``logo``,
    ``primary_color``, ``accent_color``) is left out while unset."""

    slug: str
    name: str
    currency: str
    status: str
    contact_email: str | None
    theme: str
    logo: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None


class StoreSettingsUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Settings to change; absent ones stay."""

    name: Text200 | msgspec.UnsetType = msgspec.UNSET
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] | msgspec.UnsetType = msgspec.UNSET
    contact_email: Email | msgspec.UnsetType | None = msgspec.UNSET
    theme: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")] | msgspec.UnsetType = msgspec.UNSET
    logo: LogoUrl | msgspec.UnsetType | None = msgspec.UNSET
    primary_color: Colour | msgspec.UnsetType | None = msgspec.UNSET
    accent_color: Colour | msgspec.UnsetType | None = msgspec.UNSET


def _settings_of(store: Store) -> StoreSettings:
    return StoreSettings(
        slug=store.slug,
        name=store.name,
        currency=store.currency,
        status=store.status,
        contact_email=store.settings.get("contact_email"),
        theme=store.settings.get("theme", "default"),
        logo=store.settings.get("logo"),
        primary_color=store.settings.get("primary_color"),
        accent_color=store.settings.get("accent_color"),
    )


async def read_settings(runtime: Runtime) -> StoreSettings:
    """The settings of the store in context."""
    async with runtime.database.session() as session:
        store = await session.get(Store, current_store().id)
        assert store is not None
        return _settings_of(store)


async def update_settings(
    request: Request[Any, Any, Any], runtime: Runtime, data: StoreSettingsUpdate
) -> StoreSettings:
    """Change the settings of the store in context (audited); the one code path of the API and the dashboard.

    Raises:
        BusinessRuleError: the currency changes while products or discounts carry amounts in it.
    """
    async with runtime.database.session() as session:
        store = await session.get(Store, current_store().id)
        assert store is not None
        before = _settings_of(store)
        if data.currency is not msgspec.UNSET and data.currency != store.currency:
            if await session.scalar(select(exists().where(ProductVariant.store_id == store.id))):
                raise BusinessRuleError(
                    "the currency cannot change while products carry prices in it",
                    errors=[FieldError("currency", "products are priced in the current currency")],
                )
            amounts = exists().where(
                Discount.store_id == store.id, or_(Discount.kind == "fixed_amount", Discount.min_subtotal_minor > 0)
            )
            if await session.scalar(select(amounts)):
                raise BusinessRuleError(
                    "the currency cannot change while discounts carry amounts in it",
                    errors=[FieldError("currency", "discounts have amounts in the current currency")],
                )
            store.currency = data.currency
        if data.name is not msgspec.UNSET:
            store.name = data.name
        extra = dict(store.settings)
        for name in ("contact_email", "theme", "logo", "primary_color", "accent_color"):
            value = getattr(data, name)
            if value is not msgspec.UNSET:
                extra[name] = value
        store.settings = extra
        after = _settings_of(store)
        changes = {
            field: {"from": getattr(before, field), "to": getattr(after, field)}
            for field in before.__struct_fields__
            if getattr(before, field) != getattr(after, field)
        }
        if changes:
            audit(session, principal_of(request), "settings.updated", "store", store.id, changes,
                  request_id=request_id(request))  # fmt: skip
        await session.commit()
        return after


class StoreSettingsController(Controller):
    """Store settings (read: ``settings:read``; write: ``settings:write``)."""

    path = f"{ADMIN_PREFIX}/settings"
    tags = ["admin: settings"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def read(self, runtime: NamedDependency[Runtime]) -> StoreSettings:
        """The store's settings."""
        return await read_settings(runtime)

    @patch("/", guards=[requires("settings:write")], responses=problem_responses(400, 401, 403, 404, 422))
    async def update(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[StoreSettingsUpdate]
    ) -> StoreSettings:
        """Change settings. The currency can change only while nothing carries an amount in it: no variant and
        no fixed-amount or minimum-subtotal discount."""
        return await update_settings(request, runtime, data)
