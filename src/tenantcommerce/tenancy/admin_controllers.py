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


class StoreSettings(msgspec.Struct, frozen=True):
    """A store's settings. ``status`` is read-only here (operators suspend stores)."""

    slug: str
    name: str
    currency: str
    status: str
    contact_email: str | None
    theme: str


class StoreSettingsUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Settings to change; absent ones stay."""

    name: Text200 | msgspec.UnsetType = msgspec.UNSET
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] | msgspec.UnsetType = msgspec.UNSET
    contact_email: Email | msgspec.UnsetType | None = msgspec.UNSET
    theme: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")] | msgspec.UnsetType = msgspec.UNSET


def _settings_of(store: Store) -> StoreSettings:
    return StoreSettings(
        slug=store.slug,
        name=store.name,
        currency=store.currency,
        status=store.status,
        contact_email=store.settings.get("contact_email"),
        theme=store.settings.get("theme", "default"),
    )


class StoreSettingsController(Controller):
    """Store settings (read: ``settings:read``; write: ``settings:write``)."""

    path = f"{ADMIN_PREFIX}/settings"
    tags = ["admin: settings"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def read(self, runtime: NamedDependency[Runtime]) -> StoreSettings:
        """The store's settings."""
        async with runtime.database.session() as session:
            store = await session.get(Store, current_store().id)
            assert store is not None
            return _settings_of(store)

    @patch("/", guards=[requires("settings:write")], responses=problem_responses(400, 401, 403, 404, 422))
    async def update(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[StoreSettingsUpdate]
    ) -> StoreSettings:
        """Change settings. The currency can change only while nothing carries an amount in it: no variant and
        no fixed-amount or minimum-subtotal discount."""
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
            if data.contact_email is not msgspec.UNSET:
                extra["contact_email"] = data.contact_email
            if data.theme is not msgspec.UNSET:
                extra["theme"] = data.theme
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
