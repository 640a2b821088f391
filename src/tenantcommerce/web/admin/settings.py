"""``/admin/{slug}/settings``: the store's settings (name, contact, currency, theme) and its plugins, each with a
config form generated from the plugin's settings JSON Schema. The same code and guards as
``/api/admin/{slug}/settings`` and ``/api/admin/{slug}/plugins``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Response

from tenantcommerce.auth.guards import requires
from tenantcommerce.errors import FieldError, InputError, TenantCommerceError
from tenantcommerce.plugins.admin_controllers import StorePluginUpdate, read_store_plugin, update_store_plugin
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.admin_controllers import (
    StoreSettings,
    StoreSettingsUpdate,
    read_settings,
    update_settings,
)
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.web.admin.pages import convert, field_messages, form_data, html, see_other, store_page
from tenantcommerce.web.admin.schema_forms import config_from_form, form_fields, names_of, with_values
from tenantcommerce.web.rendering import DEFAULT_THEME

STORE_FIELDS = ("name", "contact_email", "currency", "theme")
PLUGIN_FIELDS = ("enabled", "priority")
NOTICES = {"saved": "Settings saved.", "plugin-saved": "Plugin saved."}

Notice = Annotated[str | None, QueryParameter(max_length=40)]


def _themes(runtime: Runtime) -> list[str]:
    """The ids of the installed themes (the default first)."""
    ids = set(runtime.plugin_host.registrations.themes) | {DEFAULT_THEME}
    return sorted(ids, key=lambda theme: (theme != DEFAULT_THEME, theme))


class SettingsPagesController(Controller):
    """Store settings and plugins, as pages (read: ``settings:read``; change: ``settings:write``,
    ``plugins:manage``)."""

    path = "/admin/{slug:str}/settings"
    include_in_schema = False

    async def _settings_page(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "settings")
        settings: StoreSettings = await read_settings(runtime)
        plugins = [await read_store_plugin(runtime, info.id) for info in runtime.plugin_host.infos()]
        if values is None:
            values = {
                "name": settings.name,
                "contact_email": settings.contact_email or "",
                "currency": settings.currency,
                "theme": settings.theme,
            }
        return html(
            request,
            "settings.html",
            {
                **context,
                "settings": settings,
                "plugins": plugins,
                "themes": _themes(runtime),
                "values": values,
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @get("/", guards=[requires("settings:read")])
    async def show(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], notice: Notice = None
    ) -> Response[str]:
        """The store's settings and plugins."""
        return await self._settings_page(request, runtime, notice=notice)

    @post("/", guards=[requires("settings:write")])
    async def save(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Save name, contact e-mail, currency and theme."""
        form = await form_data(request)
        try:
            data: dict[str, Any] = {name: form[name].strip() for name in ("name", "currency", "theme") if name in form}
            if "contact_email" in form:
                data["contact_email"] = form["contact_email"].strip() or None
            await update_settings(request, runtime, convert(data, StoreSettingsUpdate))
        except TenantCommerceError as exc:
            errors = field_messages(exc, STORE_FIELDS)
            return await self._settings_page(request, runtime, values=form, errors=errors, status=exc.status_code)
        # The store's name or currency may have changed: forget this process's cached copy.
        await runtime.resolver.invalidate(current_store().id)
        return see_other(f"/admin/{current_store().slug}/settings?notice=saved")

    async def _plugin_page(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        plugin_id: str,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "settings")
        view = await read_store_plugin(runtime, plugin_id)
        fields = form_fields(view.settings_schema, view.config) if view.settings_schema else []
        if form is not None:
            with_values(fields, form)
        values = {
            "enabled": "on" if view.enabled else "",
            "priority": str(view.priority),
        }
        if form is not None:
            values = {"enabled": form.get("enabled", ""), "priority": form.get("priority", "")}
        return html(
            request,
            "plugin.html",
            {
                **context,
                "view": view,
                "fields": fields,
                "values": values,
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @get("/plugins/{plugin_id:str}", guards=[requires("settings:read")])
    async def plugin(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        plugin_id: FromPath[str],
        notice: Notice = None,
    ) -> Response[str]:
        """One plugin: on or off, its priority, and its config form."""
        return await self._plugin_page(request, runtime, plugin_id, notice=notice)

    @post("/plugins/{plugin_id:str}", guards=[requires("plugins:manage")])
    async def save_plugin(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], plugin_id: FromPath[str]
    ) -> Response[Any]:
        """Enable or disable, reorder and configure the plugin (the config is checked against its schema)."""
        form = await form_data(request)
        names: list[str] = []
        try:
            view = await read_store_plugin(runtime, plugin_id)
            data: dict[str, Any] = {"enabled": form.get("enabled") == "on"}
            try:
                data["priority"] = int(form.get("priority", "0").strip() or "0")
            except ValueError:
                raise InputError(
                    "priority: enter a whole number", errors=[FieldError("priority", "enter a whole number")]
                ) from None
            if view.settings_schema:
                names = names_of(form_fields(view.settings_schema, {}))
                data["config"] = config_from_form(view.settings_schema, form)
            await update_store_plugin(request, runtime, plugin_id, convert(data, StorePluginUpdate))
        except TenantCommerceError as exc:
            errors = field_messages(exc, [*PLUGIN_FIELDS, *names])
            return await self._plugin_page(
                request, runtime, plugin_id, form=form, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{current_store().slug}/settings/plugins/{plugin_id}?notice=plugin-saved")
