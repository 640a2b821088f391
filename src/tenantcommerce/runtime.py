"""What one running app holds: settings, connections, the store resolver, metrics, the migration set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from tenantcommerce.auth.mailer import LoggingMailer, Mailer
from tenantcommerce.auth.ratelimit import AccountThrottle
from tenantcommerce.catalog.media import MediaStorage
from tenantcommerce.db.database import Database, DatabaseUrls, resolve_urls
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.roles import Roles
from tenantcommerce.errors import SettingsError
from tenantcommerce.observability.metrics import Metrics
from tenantcommerce.plugins.facade import Plugins
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.resolver import StoreResolver


def make_cache(settings: Settings, namespace: str) -> Store:
    """A cache of its own for one purpose: Litestar's Redis store (namespaced) when ``TC_REDIS_URL`` is set, its
    memory store otherwise."""
    if settings.redis_url:
        try:
            from litestar.stores.redis import RedisStore
        except ImportError:
            raise SettingsError(
                "TC_REDIS_URL is set but the redis client is missing: pip install 'tenantcommerce[redis]'"
            ) from None

        return RedisStore.with_client(url=settings.redis_url, namespace=f"tenantcommerce:{namespace}")
    return MemoryStore()


@dataclass
class Runtime:
    """The live state of one app; built without I/O, connected in :meth:`start`."""

    settings: Settings
    mailer_override: Mailer | None = None
    """The mailer given to ``TenantCommerce(mailer=...)``; else a plugin's (``tc_register_mailers``); else logs."""
    extra_plugins: Mapping[str, object] | None = None
    """Plugin objects of the host project, by id (``TenantCommerce(plugins=...)``)."""
    media_storage: MediaStorage | None = None
    """Where product images go (``TenantCommerce(media_storage=...)``); ``None``: local files under ``TC_MEDIA_DIR``."""
    mailer: Mailer = field(init=False)
    plugin_host: PluginHost = field(init=False)
    metrics: Metrics = field(init=False)
    migrations: Migrations = field(init=False)
    store_cache: Store = field(init=False)
    rate_limits: Store = field(init=False)
    throttle: AccountThrottle = field(init=False)
    urls: DatabaseUrls | None = None
    _database: Database | None = None
    _resolver: StoreResolver | None = None
    _plugins: Plugins | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        self.plugin_host = PluginHost.from_settings(self.settings, self.extra_plugins)
        mailers = self.plugin_host.registrations.mailers
        self.mailer = self.mailer_override or (mailers[0].value if mailers else LoggingMailer())
        self.metrics = Metrics(self.settings.metrics_store_labels)
        self.migrations = Migrations(self.settings, extra_locations=self.plugin_host.migration_locations)
        self.store_cache = make_cache(self.settings, "stores")
        self.rate_limits = make_cache(self.settings, "rate_limits")
        self.throttle = AccountThrottle(self.rate_limits, self.settings.auth_account_limit)

    @property
    def roles(self) -> Roles:
        """Owner and runtime role names."""
        return self.migrations.roles

    @property
    def database(self) -> Database:
        """The runtime role's connections (after :meth:`start`)."""
        if self._database is None:
            raise RuntimeError("the app has not started")
        return self._database

    @property
    def plugins(self) -> Plugins:
        """The plugin facade (after :meth:`start`): ``await runtime.plugins.for_store(store)``."""
        if self._plugins is None:
            raise RuntimeError("the app has not started")
        return self._plugins

    @property
    def resolver(self) -> StoreResolver:
        """The store resolver (after :meth:`start`)."""
        if self._resolver is None:
            raise RuntimeError("the app has not started")
        return self._resolver

    async def start(self) -> None:
        """Connect as the runtime role, refuse an unsafe role or an old schema, listen for store changes."""
        self.urls = await resolve_urls(self.settings)
        database = Database(self.urls.runtime, pool_size=self.settings.db_pool_size)
        await database.connect()
        try:
            self.role = await database.check_runtime_role(self.roles)
            await database.check_schema_current(self.migrations.version_heads(), self.migrations.revisions())
            resolver = StoreResolver(database, self.store_cache, ttl=self.settings.store_cache_ttl)
            await resolver.start_listening()
        except BaseException:
            await database.close()
            raise
        self._database, self._resolver = database, resolver
        self._plugins = Plugins(self.plugin_host, database, self.settings.plugin_timeout, self.metrics)

    async def stop(self) -> None:
        """Close every connection."""
        if self._resolver is not None:
            await self._resolver.stop_listening()
            self._resolver = None
        if self._database is not None:
            await self._database.close()
            self._database = None
        self._plugins = None
