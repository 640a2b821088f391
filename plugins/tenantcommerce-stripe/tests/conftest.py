"""Fixtures of the tenantcommerce-stripe tests: the offline Stripe server, the plugin's settings pointed at it, stores
with the plugin enabled, and signed-in HTTP clients. Names start with ``st_`` (or ``fake_stripe``, ``stripe_client``)
so they never shadow the core kit's fixtures.

Settings are read when the app is built: tests of the HTTP API use ``st_env`` (through ``pytestmark =
pytest.mark.usefixtures("st_env")``, so the variables are set before ``app``) or clear the variables themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
import pytest
import pytest_asyncio
import stripe
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.auth.services import make_operator
from tenantcommerce.db.database import Database
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.providers import PaymentRequest
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing.accounts import TEST_PASSWORD, csrf_headers, sign_in, sign_up_and_in
from tenantcommerce.testing.plugins import enable_plugin, plugin_context, store_context
from uuid_utils.compat import uuid7

from tenantcommerce_stripe.client import StripeApi
from tenantcommerce_stripe.fees import FeePolicy
from tenantcommerce_stripe.gateway import StripeGateway
from tenantcommerce_stripe.settings import StripeSettings
from tenantcommerce_stripe.state import AccountState, with_account
from tenantcommerce_stripe.testing import DEFAULT_SECRET_KEY, FakeStripe

PLUGIN_ID = "stripe"
PLATFORM_SECRET = "whsec_platform_offline_test"
CONNECT_SECRET = "whsec_connect_offline_test"
PUBLISHABLE_KEY = "pk_test_offline"
DEFAULT_FEE = FeePolicy(percent_bp=250, fixed_minor=30)
"""The tests' deployment default: 2.5 % + 0.30 (4250 pays 106 + 30 = 136)."""
STRIPE_VARIABLES = (
    "TC_STRIPE_SECRET_KEY",
    "TC_STRIPE_WEBHOOK_SECRET",
    "TC_STRIPE_CONNECT_WEBHOOK_SECRET",
    "TC_STRIPE_API_BASE",
    "TC_STRIPE_FEE_BP",
    "TC_STRIPE_FEE_FIXED",
    "TC_STRIPE_PUBLISHABLE_KEY",
)

Client = AsyncTestClient[Litestar]


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A running :class:`FakeStripe` on a free port of 127.0.0.1."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    """The real ``stripe.StripeClient``, its API base set to the fake server."""
    return fake_stripe.client()


@pytest.fixture
def st_settings(fake_stripe: FakeStripe) -> StripeSettings:
    """Complete settings pointed at the fake server, with :data:`DEFAULT_FEE`."""
    return StripeSettings(
        secret_key=DEFAULT_SECRET_KEY,
        webhook_secret=PLATFORM_SECRET,
        connect_webhook_secret=CONNECT_SECRET,
        api_base=fake_stripe.api_base,
        default_fee=DEFAULT_FEE,
    )


@pytest.fixture
def st_env(monkeypatch: pytest.MonkeyPatch, fake_stripe: FakeStripe) -> StripeSettings:
    """The ``TC_STRIPE_*`` variables of :func:`st_settings`, set for apps built after it."""
    values = {
        "TC_STRIPE_SECRET_KEY": DEFAULT_SECRET_KEY,
        "TC_STRIPE_WEBHOOK_SECRET": PLATFORM_SECRET,
        "TC_STRIPE_CONNECT_WEBHOOK_SECRET": CONNECT_SECRET,
        "TC_STRIPE_API_BASE": fake_stripe.api_base,
        "TC_STRIPE_FEE_BP": str(DEFAULT_FEE.percent_bp),
        "TC_STRIPE_FEE_FIXED": str(DEFAULT_FEE.fixed_minor),
        "TC_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return StripeSettings.from_env()


@pytest.fixture
def st_no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``TC_STRIPE_*`` variable is set."""
    for name in STRIPE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def st_api(st_settings: StripeSettings) -> StripeApi:
    """A :class:`StripeApi` of :func:`st_settings`."""
    return StripeApi(st_settings)


@pytest.fixture
def st_gateway(st_api: StripeApi) -> StripeGateway:
    """The gateway, talking to the fake server."""
    return StripeGateway(st_api)


def connected_account(
    fake: FakeStripe, *, charges: bool = True, payouts: bool = True, store_id: UUID | None = None
) -> str:
    """An Express account made in the fake (capabilities requested as onboarding asks), its onboarding finished
    with the given flags; its id."""
    params: dict[str, Any] = {
        "type": "express",
        "country": "DE",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
    }
    if store_id is not None:
        params["metadata"] = {"store_id": str(store_id)}
    account = fake.client().v1.accounts.create(params=params)
    fake.enable_account(account.id, charges_enabled=charges, payouts_enabled=payouts, details_submitted=charges)
    return str(account.id)


async def record_account(plugin: PluginContext, account_id: str, *, charges: bool = True, payouts: bool = True) -> None:
    """Write the store's account into the plugin state, as onboarding and a sync would."""
    state = await plugin.get_state()
    account = AccountState(
        id=account_id, charges_enabled=charges, payouts_enabled=payouts, details_submitted=charges, synced_at=1
    )
    await plugin.set_state(with_account(state, account))


@dataclass(frozen=True)
class StripeStore:
    """A store with the plugin enabled, the ``plugin`` context its gateway calls get, and its account (if any)."""

    ctx: StoreContext
    plugin: PluginContext
    account: str | None


@pytest.fixture
def st_store(tc_database: Database, fake_stripe: FakeStripe) -> Callable[..., Awaitable[StripeStore]]:
    """``await st_store(slug, currency="EUR", account=True, charges=True, payouts=True)``: a store with the plugin
    enabled and (unless ``account=False``) a connected account in the fake, recorded in its state."""

    async def make(
        slug: str, *, currency: str = "EUR", account: bool = True, charges: bool = True, payouts: bool = True
    ) -> StripeStore:
        created = await create_store(
            tc_database, slug=slug, name=slug.title(), currency=currency, owner_email=f"owner@{slug}.test"
        )
        await enable_plugin(tc_database, created.id, PLUGIN_ID)
        ctx = await store_context(tc_database, created.id)
        plugin = plugin_context(tc_database, ctx.id, PLUGIN_ID)
        account_id = None
        if account:
            account_id = connected_account(fake_stripe, charges=charges, payouts=payouts, store_id=ctx.id)
            await record_account(plugin, account_id, charges=charges, payouts=payouts)
        return StripeStore(ctx, plugin, account_id)

    return make


def payment_request(
    key: str = "checkout-1:v1",
    *,
    amount: int = 4_250,
    currency: str = "EUR",
    checkout_id: UUID | None = None,
    email: str | None = None,
    metadata: dict[str, str] | None = None,
) -> PaymentRequest:
    """A payment request as checkout makes it."""
    return PaymentRequest(
        checkout_id=checkout_id or UUID(str(uuid7())),
        amount_minor=amount,
        currency=currency,
        reference="C-7K3Q",
        idempotency_key=key,
        customer_email=email,
        metadata=metadata or {},
    )


# --- HTTP -------------------------------------------------------------------------------------------------------------


@dataclass
class Browser:
    """A client of the app with a cookie jar of its own, sending the CSRF header."""

    client: Client
    headers: dict[str, str]

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.client.get(url, **kwargs)

    async def post(self, url: str, body: Any = None) -> Any:
        return await self.client.post(url, json=body, headers=self.headers)

    async def put(self, url: str, body: Any) -> Any:
        return await self.client.put(url, json=body, headers=self.headers)

    async def patch(self, url: str, body: Any) -> Any:
        return await self.client.patch(url, json=body, headers=self.headers)

    async def delete(self, url: str) -> Any:
        return await self.client.delete(url, headers=self.headers)


@pytest.fixture
def st_browser(app: Litestar, client: Client) -> Callable[[], Client]:
    """``st_browser()``: another client of the started app (sharing its event loop), with its own cookies."""

    def make() -> Client:
        other: Client = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


@pytest.fixture
def st_person(st_browser: Callable[[], Client]) -> Callable[[str], Awaitable[Browser]]:
    """``await st_person(email)``: a new account signed in, in a browser of its own."""

    async def make(email: str) -> Browser:
        browser = st_browser()
        await sign_up_and_in(browser, email)
        return Browser(browser, await csrf_headers(browser))

    return make


@pytest.fixture
def st_operator(st_browser: Callable[[], Client], tc_database: Database) -> Callable[[], Awaitable[Browser]]:
    """``await st_operator()``: a platform operator signed in, in a browser of its own."""

    async def make() -> Browser:
        await make_operator(tc_database, "ops@platform.test", TEST_PASSWORD)
        browser = st_browser()
        response = await sign_in(browser, "ops@platform.test")
        assert response.status_code == 200, response.text
        return Browser(browser, await csrf_headers(browser))

    return make


@dataclass
class Shop:
    """A store whose owner is signed in (``owner``), with the plugin enabled through the admin API."""

    slug: str
    id: UUID
    owner: Browser

    @property
    def plugin(self) -> str:
        """``/api/admin/{slug}/plugins/stripe``."""
        return f"/api/admin/{self.slug}/plugins/{PLUGIN_ID}"


@pytest_asyncio.fixture
async def st_open_shop(
    st_person: Callable[[str], Awaitable[Browser]], tc_database: Database
) -> Callable[..., Awaitable[Shop]]:
    """``await st_open_shop(slug, currency="EUR", enable=True)``: a store of a new owner, the plugin enabled."""

    async def make(slug: str, *, currency: str = "EUR", enable: bool = True) -> Shop:
        owner = await st_person(f"owner@{slug}.test")
        created = await owner.post("/api/stores", {"slug": slug, "name": slug.title(), "currency": currency})
        assert created.status_code == 201, created.text
        if enable:
            enabled = await owner.patch(f"/api/admin/{slug}/plugins/{PLUGIN_ID}", {"enabled": True})
            assert enabled.status_code == 200, enabled.text
        async with tc_database.pool.acquire() as conn:
            store_id: UUID = await conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)
        return Shop(slug=slug, id=store_id, owner=owner)

    return make


async def read_state(database: Database, store_id: UUID) -> dict[str, Any]:
    """The plugin's state for the store, as the runtime role reads it."""
    async with database.store_transaction(store_id) as conn:
        raw = await conn.fetchval("SELECT state::text FROM store_plugin_state WHERE plugin_id = $1", PLUGIN_ID)
    return {} if raw is None else dict(msgspec.json.decode(raw))


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of ``response``, checked to answer ``status`` with a detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["detail"]
    return body


def fields(body: dict[str, Any]) -> list[str]:
    """The fields a problem names."""
    return [error["field"] for error in body.get("errors", [])]
