"""Helpers of the plugin HTTP tests: test plugins (inline, registered with ``register_plugin``), signed-in browsers,
stores, and calls on the app's own event loop.

Test modules here are not a package (``--import-mode=importlib``), so helpers are offered as fixtures. Plugin ids
start with ``e2e-`` so they never clash with an installed plugin.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from tenantcommerce import hookimpl
from tenantcommerce.app import runtime_of
from tenantcommerce.plugins.events import PluginToggled
from tenantcommerce.plugins.providers import ShippingQuote
from tenantcommerce.plugins.registrations import Routes
from tenantcommerce.plugins.types import CheckoutRejection, CheckoutSummary, StoreWarning
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, current_store
from tenantcommerce.testing.accounts import TEST_PASSWORD, csrf_headers, sign_in
from tenantcommerce.testing.accounts import password_hash as kit_password_hash

GREETER = "e2e-greeter"
WATCHER = "e2e-watcher"
CONSOLE = "e2e-console"


class GreeterSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The greeter's per-store config: ``greeting`` is required."""

    greeting: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    max_quantity: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3


class Carrier:
    """A shipping carrier, so the plugin shows a provider."""

    id = "e2e-post"
    name = "E2E Post"

    async def quote(self, ctx: StoreContext, request: Any, plugin: Any) -> list[ShippingQuote]:
        return []

    async def buy_label(self, ctx: StoreContext, request: Any, plugin: Any) -> None:
        return None


@dataclass
class Recorder:
    """Events a test plugin received: ``(event, store_id, plugin_id of the change)``."""

    events: list[tuple[str, UUID, str]] = field(default_factory=list)


class Greeter(Recorder):
    """Config (a settings Struct), a carrier, storefront and platform routes, a decide, a collect and two event
    hooks."""

    def __init__(self) -> None:
        super().__init__()

        @get("/hello")
        async def storefront_hello() -> dict[str, str]:
            return {"scope": "storefront", "store": current_store().slug}

        @get("/hello")
        async def platform_hello() -> dict[str, str]:
            return {"scope": "platform"}

        self.routes = [Routes("storefront", [storefront_hello]), Routes("platform", [platform_hello])]

    @hookimpl
    def tc_register_settings_schemas(self, register: Callable[[type[msgspec.Struct]], None]) -> None:
        register(GreeterSettings)

    @hookimpl
    def tc_register_shipping_carriers(self, register: Callable[[Any], None]) -> None:
        register(Carrier())

    @hookimpl
    def tc_register_routes(self, register: Callable[[Routes], None]) -> None:
        for routes in self.routes:
            register(routes)

    @hookimpl
    async def tc_check_checkout(self, ctx: StoreContext, checkout: CheckoutSummary, plugin: Any) -> Any:
        too_many = [line.sku for line in checkout.lines if line.quantity > plugin.config.max_quantity]
        if too_many:
            return CheckoutRejection(message=f"at most {plugin.config.max_quantity} of {too_many[0]}", field="lines")
        return None

    @hookimpl
    async def tc_collect_store_warnings(self, ctx: StoreContext, plugin: Any) -> list[StoreWarning]:
        if "account" not in await plugin.get_state():
            return [StoreWarning(message="connect a greeting account")]
        return []

    @hookimpl
    async def tc_on_plugin_enabled(self, ctx: StoreContext, change: PluginToggled, plugin: Any) -> None:
        self.events.append(("plugin.enabled", ctx.id, change.plugin_id))

    @hookimpl
    async def tc_on_plugin_disabled(self, ctx: StoreContext, change: PluginToggled, plugin: Any) -> None:
        self.events.append(("plugin.disabled", ctx.id, change.plugin_id))


class Console:
    """Admin routes only: ``GET /hello`` names the store, and guards nothing itself (the core's guard must)."""

    def __init__(self) -> None:
        @get("/hello")
        async def admin_hello() -> dict[str, str]:
            return {"scope": "admin", "store": current_store().slug}

        self.routes = Routes("admin", [admin_hello])

    @hookimpl
    def tc_register_routes(self, register: Callable[[Routes], None]) -> None:
        register(self.routes)


class Watcher(Recorder):
    """No config; records the enabling and disabling of plugins in its stores."""

    @hookimpl
    async def tc_on_plugin_enabled(self, ctx: StoreContext, change: PluginToggled, plugin: Any) -> None:
        self.events.append(("plugin.enabled", ctx.id, change.plugin_id))

    @hookimpl
    async def tc_on_plugin_disabled(self, ctx: StoreContext, change: PluginToggled, plugin: Any) -> None:
        self.events.append(("plugin.disabled", ctx.id, change.plugin_id))


@pytest.fixture
def greeter(register_plugin: Callable[..., Any]) -> Greeter:
    """The :class:`Greeter` plugin, registered in the app as ``e2e-greeter`` (enabled nowhere yet)."""
    plugin = Greeter()
    register_plugin(plugin, GREETER)
    return plugin


@pytest.fixture
def watcher(register_plugin: Callable[..., Any]) -> Watcher:
    """The :class:`Watcher` plugin, registered in the app as ``e2e-watcher`` (enabled nowhere yet)."""
    plugin = Watcher()
    register_plugin(plugin, WATCHER)
    return plugin


@pytest.fixture
def console(register_plugin: Callable[..., Any]) -> Console:
    """The :class:`Console` plugin, registered in the app as ``e2e-console`` (enabled nowhere yet)."""
    plugin = Console()
    register_plugin(plugin, CONSOLE)
    return plugin


# --- browsers and stores -------------------------------------------------------------------------------------------


@pytest.fixture
def browser(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], AsyncTestClient[Litestar]]:
    """``browser()``: another client of the started app, with a cookie jar of its own."""

    def make() -> AsyncTestClient[Litestar]:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


@functools.cache
def password_hash() -> str:
    """An argon2 hash of the test password, computed once per run (what registration would store)."""
    return kit_password_hash(TEST_PASSWORD)


@pytest.fixture
def person(
    browser: Callable[[], AsyncTestClient[Litestar]], admin_conn: asyncpg.Connection
) -> Callable[[str], Awaitable[AsyncTestClient[Litestar]]]:
    """``await person(email)``: a new account (inserted as the superuser), signed in over HTTP in a browser of its
    own that sends the CSRF header."""

    async def make(email: str) -> AsyncTestClient[Litestar]:
        await admin_conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)", uuid.uuid4(), email, password_hash()
        )
        signed_in = browser()
        response = await sign_in(signed_in, email)
        assert response.status_code == 200, response.text
        signed_in.headers.update(await csrf_headers(signed_in))
        return signed_in

    return make


@dataclass
class Shop:
    """A store opened over HTTP by its owner."""

    slug: str
    id: UUID
    owner: AsyncTestClient[Litestar]

    @property
    def admin(self) -> str:
        """``/api/admin/<slug>``."""
        return f"/api/admin/{self.slug}"


@pytest.fixture
def open_shop(
    person: Callable[[str], Awaitable[AsyncTestClient[Litestar]]], admin_conn: asyncpg.Connection
) -> Callable[[str], Awaitable[Shop]]:
    """``await open_shop(slug)``: ``owner@<slug>.test`` signs up and opens the store ``slug`` (EUR)."""

    async def open_(slug: str) -> Shop:
        owner = await person(f"owner@{slug}.test")
        response = await owner.post("/api/stores", json={"slug": slug, "name": slug.title(), "currency": "EUR"})
        assert response.status_code == 201, response.text
        store_id = await admin_conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)
        return Shop(slug=slug, id=store_id, owner=owner)

    return open_


@pytest.fixture
def member(
    person: Callable[[str], Awaitable[AsyncTestClient[Litestar]]], admin_conn: asyncpg.Connection
) -> Callable[..., Awaitable[AsyncTestClient[Litestar]]]:
    """``await member(shop, email, role, overrides)``: a signed-in member of ``shop`` (the row inserted as the
    superuser, as the admin tests do)."""

    async def make(
        shop: Shop, email: str, role: str, overrides: dict[str, bool] | None = None
    ) -> AsyncTestClient[Litestar]:
        signed_in = await person(email)
        user_id = await admin_conn.fetchval("SELECT id FROM users WHERE email = $1", email)
        await admin_conn.execute(
            "INSERT INTO store_members (id, store_id, user_id, role, permissions) VALUES ($1, $2, $3, $4, $5::jsonb)",
            uuid.uuid4(),
            shop.id,
            user_id,
            role,
            msgspec.json.encode(overrides or {}).decode(),
        )
        return signed_in

    return make


@pytest.fixture
def plugin_rows(admin_conn: asyncpg.Connection) -> Callable[[UUID], Awaitable[dict[str, str]]]:
    """``await plugin_rows(store_id)``: the store's plugin config, state, outbox, audit log and store row as text
    (as the superuser): equal snapshots mean nothing was written."""
    tables = ("store_plugins", "store_plugin_state", "outbox_events", "audit_log")
    parts = [
        f"(SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '') FROM {table} t WHERE t.store_id = $1)"
        f" AS {table}"
        for table in tables
    ]
    sql = "SELECT " + ", ".join(parts) + ", (SELECT s::text FROM stores s WHERE s.id = $1) AS stores"

    async def snapshot(store_id: UUID) -> dict[str, str]:
        row = await admin_conn.fetchrow(sql, store_id)
        assert row is not None
        return dict(row)

    return snapshot


@pytest.fixture
def on_app(client: AsyncTestClient[Litestar]) -> Callable[..., Awaitable[Any]]:
    """``await on_app(lambda runtime: coroutine)``: run a coroutine on the app's event loop (its connection pools
    live there) with the app's :class:`~tenantcommerce.runtime.Runtime`."""
    runtime: Runtime = runtime_of(client.app)

    async def run(action: Callable[[Runtime], Awaitable[Any]]) -> Any:
        async def call() -> Any:
            return await action(runtime)

        return await asyncio.to_thread(client.blocking_portal.call, call)

    return run
