"""``TenantCommerce``, the Litestar plugin a host app adds, and ``create_app`` for a ready-made app."""

from __future__ import annotations

import gc
import inspect
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Reference, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.stores.base import Store
from litestar.stores.registry import StoreRegistry
from litestar.types import BeforeRequestHookHandler, ControllerRouterHandler

from tenantcommerce.__about__ import __version__
from tenantcommerce.auth.admin_controllers import AuditController, MembersController, TokensController
from tenantcommerce.auth.controllers import AuthController
from tenantcommerce.auth.csrf import BearerExemptCSRFMiddleware, csrf_config
from tenantcommerce.auth.mailer import Mailer
from tenantcommerce.auth.middleware import AuthenticationMiddleware
from tenantcommerce.auth.ratelimit import RATE_LIMIT_STORE
from tenantcommerce.auth.sessions import cookies_are_secure, session_cookie_name, session_middleware
from tenantcommerce.cart.controllers import CartController
from tenantcommerce.catalog.admin_controllers import AdminProductsController, InventoryController
from tenantcommerce.catalog.controllers import StorefrontCatalogController
from tenantcommerce.catalog.media import MediaStorage
from tenantcommerce.catalog.media_controllers import AdminMediaController, StorefrontMediaController
from tenantcommerce.checkout.controllers import CheckoutController
from tenantcommerce.customers.controllers import CustomersController
from tenantcommerce.discounts.controllers import DiscountsController
from tenantcommerce.errors import exception_handlers, problem_details_plugin
from tenantcommerce.jobs.worker import in_process_worker
from tenantcommerce.observability.logging import AccessLog, configure_logging
from tenantcommerce.observability.middleware import RequestObserver
from tenantcommerce.orders.admin_controllers import AdminOrdersController
from tenantcommerce.orders.customer_controllers import CustomerOrdersController
from tenantcommerce.payments.controllers import PaymentWebhooksController
from tenantcommerce.platform import health, metrics, ready
from tenantcommerce.plugins.admin_controllers import PlatformPluginsController, StorePluginsController
from tenantcommerce.plugins.routes import plugin_routers
from tenantcommerce.runtime import Runtime
from tenantcommerce.settings import Settings
from tenantcommerce.storefront.pages import page_routers
from tenantcommerce.strict_bodies import check_json_body
from tenantcommerce.tenancy.admin_controllers import StoreSettingsController
from tenantcommerce.tenancy.controllers import StoresController
from tenantcommerce.tenancy.middleware import TenancyMiddleware
from tenantcommerce.tenancy.platform_controllers import OperatorStoresController
from tenantcommerce.web.admin import admin_static, dashboard_router
from tenantcommerce.web.static_files import theme_static

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    health,
    ready,
    metrics,
    AuthController,
    StoresController,
    OperatorStoresController,
    StorefrontCatalogController,
    StorefrontMediaController,
    CartController,
    CheckoutController,
    CustomersController,
    AdminProductsController,
    InventoryController,
    AdminMediaController,
    DiscountsController,
    AdminOrdersController,
    CustomerOrdersController,
    StoreSettingsController,
    TokensController,
    MembersController,
    AuditController,
    StorePluginsController,
    PlatformPluginsController,
    PaymentWebhooksController,
    dashboard_router,
    admin_static,
    theme_static,
    *page_routers(),
]


class TenantCommerce(InitPluginProtocol):
    """Adds tenantcommerce to a Litestar app: routes, store resolution, errors, logs, metrics, the database.

    Example::

        from litestar import Litestar, get
        from tenantcommerce import Settings, TenantCommerce

        @get("/hello")
        async def hello() -> str:
            return "hi"

        app = Litestar([hello], plugins=[TenantCommerce(Settings.from_env())])
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        mailer: Mailer | None = None,
        plugins: Mapping[str, object] | None = None,
        media_storage: MediaStorage | None = None,
        run_worker: bool = False,
    ) -> None:
        """
        Args:
            settings: deployment settings (``Settings.from_env()`` when omitted).
            mailer: sends the platform's mail; default: a plugin's (``tc_register_mailers``), else the log.
            plugins: the host project's own plugin objects, by id, registered after the installed ones.
            media_storage: where product images go (default: local files under ``TC_MEDIA_DIR``); see
                ``docs/media.md`` for writing another.
            run_worker: also run the background worker in this process (the demo does; deployments run
                ``tenantcommerce worker``).
        """
        self.settings = settings if settings is not None else Settings.from_env()
        self.runtime = Runtime(
            self.settings, mailer_override=mailer, extra_plugins=plugins, media_storage=media_storage
        )
        self.run_worker = run_worker

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Register everything tenantcommerce needs on the host app's config."""
        settings, runtime = self.settings, self.runtime
        configure_logging(settings.log_level, settings.effective_log_format, cache=settings.env == "production")
        app_config.route_handlers.extend(ROUTE_HANDLERS)
        app_config.route_handlers.extend(plugin_routers(runtime))
        app_config.dependencies["runtime"] = Provide(lambda: runtime, sync_to_thread=False, use_cache=True)
        app_config.signature_namespace["Runtime"] = Runtime
        # Outermost first: request id, logs and metrics see every answer, including tenancy's 404 and 403.
        observer = RequestObserver(runtime.metrics, AccessLog(settings.log_level, settings.effective_log_format))
        app_config.before_send = [*app_config.before_send, observer.before_send]
        app_config.after_exception = [*app_config.after_exception, observer.after_exception]
        app_config.middleware = [
            observer.middleware(),
            TenancyMiddleware(lambda: runtime.resolver, settings.base_domain),
            session_middleware(settings, lambda: runtime.database.session()),
            BearerExemptCSRFMiddleware(
                csrf_config(settings.resolved_secret_key(), secure=cookies_are_secure(settings))
            ),
            AuthenticationMiddleware(lambda: runtime.database),
            *app_config.middleware,
        ]
        app_config.before_request = _chain_before_request(app_config.before_request)
        app_config.stores = _with_store(app_config.stores, RATE_LIMIT_STORE, runtime.rate_limits)
        problem_details_plugin().on_app_init(app_config)
        for exc_type, handler in exception_handlers.items():
            app_config.exception_handlers.setdefault(exc_type, handler)

        run_worker = self.run_worker

        @asynccontextmanager
        async def lifespan(_: Litestar) -> AsyncIterator[None]:
            await runtime.start()
            # Everything loaded so far lives as long as the process: keep it out of the collector's generations,
            # so collections under load stay short (the benchmark saw long full collections without this).
            gc.collect()
            gc.freeze()
            try:
                if run_worker:
                    async with in_process_worker(runtime):
                        yield
                else:
                    yield
            finally:
                await runtime.stop()

        app_config.lifespan = [*app_config.lifespan, lifespan]
        return app_config


def _chain_before_request(host_hook: BeforeRequestHookHandler | None) -> BeforeRequestHookHandler:
    """The strict JSON check first, then the host app's own hook (if any)."""
    if host_hook is None:
        return check_json_body

    async def both(request: Request[Any, Any, Any]) -> Any:
        await check_json_body(request)
        result = host_hook(request)
        return await result if inspect.isawaitable(result) else result

    return both


def _with_store(
    stores: StoreRegistry | dict[str, Store] | None, name: str, store: Store
) -> StoreRegistry | dict[str, Store]:
    if isinstance(stores, StoreRegistry):
        stores.register(name, store, allow_override=True)
        return stores
    return {**(stores or {}), name: store}


def security_schemes(settings: Settings) -> dict[str, SecurityScheme | Reference]:
    """The two ways to authenticate, as OpenAPI documents them (``security`` on admin routes names them)."""
    return {
        "session": SecurityScheme(
            type="apiKey",
            name=session_cookie_name(settings),
            security_scheme_in="cookie",
            description="The session cookie set by POST /api/auth/login; unsafe requests also need X-CSRFToken.",
        ),
        "bearer": SecurityScheme(
            type="http",
            scheme="bearer",
            description="An API token made at /api/admin/{slug}/tokens (tc_...), scoped to one store.",
        ),
    }


def create_app(
    settings: Settings | None = None,
    *,
    mailer: Mailer | None = None,
    plugins: Mapping[str, object] | None = None,
    run_worker: bool = False,
    **litestar_options: Any,
) -> Litestar:
    """A Litestar app serving tenantcommerce alone (the CLI, the examples and the tests use it); the keyword
    arguments of :class:`TenantCommerce` pass through."""
    settings = settings if settings is not None else Settings.from_env()
    litestar_options.setdefault(
        "openapi_config",
        OpenAPIConfig(
            title="tenantcommerce",
            version=__version__,
            path="/schema",
            components=Components(security_schemes=security_schemes(settings)),
        ),
    )
    extensions = [
        TenantCommerce(settings, mailer=mailer, plugins=plugins, run_worker=run_worker),
        *litestar_options.pop("litestar_plugins", []),
    ]
    return Litestar(plugins=extensions, **litestar_options)


def create_app_from_env() -> Litestar:
    """``create_app`` with settings from ``TC_*`` variables (the ASGI factory of ``tenantcommerce serve``)."""
    return create_app(Settings.from_env())


def runtime_of(app: Litestar) -> Runtime:
    """The :class:`Runtime` of an app built with :class:`TenantCommerce`."""
    for plugin in app.plugins.init:
        if isinstance(plugin, TenantCommerce):
            return plugin.runtime
    raise LookupError("this app has no TenantCommerce plugin")
