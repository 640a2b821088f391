"""Helpers of the checkout tests: a store set up to sell (the three plugin packages enabled, a shipping rate, a tax
rate), shoppers (guests by cart token, signed-in customers by session) calling the app's HTTP API, row counts for
"nothing was written" checks, discounts, and requests sent truly concurrently.

Test modules here are not a package (``--import-mode=importlib``), so helpers are offered as fixtures.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate as create_shipping_rate
from tenantcommerce_tax_rates.admin import create_rate as create_tax_rate
from tenantcommerce_tax_rates.schemas import TaxRateInput

from tenantcommerce import hookimpl
from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.plugins import (
    PaymentConfirmation,
    PaymentEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentResult,
    PluginContext,
    RefundRequest,
    RefundResult,
    WebhookRequest,
)
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import TEST_PASSWORD, csrf_headers, customer_register
from tenantcommerce.testing.accounts import password_hash as kit_password_hash
from tenantcommerce.testing.accounts import sign_in as platform_sign_in
from tenantcommerce.testing.plugins import enable_plugin
from tenantcommerce.testing.stores import StoreFixture, TwoStores

SHIPPING_MINOR = 500
TAX_BP = 2000
CARRIER = "rate-table"
EMAIL = "ada@example.com"

ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}

COMMERCE_TABLES = (
    "carts",
    "cart_items",
    "checkouts",
    "inventory_reservations",
    "orders",
    "order_items",
    "payments",
    "discount_redemptions",
    "idempotency_keys",
    "inventory_adjustments",
    "outbox_events",
    "manual_payments",
)


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """The kit's settings, logging JSON lines (the console renderer's tracebacks cost seconds each)."""
    return msgspec.structs.replace(postgres.settings, log_format="json")


async def make_shop(database: Database, store: StoreFixture, *, prices_include_tax: bool = False) -> str:
    """Enable manual payments (bank transfer only), rate-table shipping (one flat rate of :data:`SHIPPING_MINOR`)
    and rate-table tax (:data:`TAX_BP` in DE, not on shipping) in ``store``; the shipping rate's id."""
    await enable_plugin(
        database,
        store.id,
        "manual-payments",
        config={"bank_transfer": {"account_holder": store.store.name, "iban": "DE89370400440532013000"}},
    )
    await enable_plugin(database, store.id, "shipping-rates")
    await enable_plugin(database, store.id, "tax-rates", config={"prices_include_tax": prices_include_tax})
    async with database.store_transaction(store.id, readonly=False) as conn:
        rate = await create_shipping_rate(
            conn,
            store.id,
            RateInput(name="Standard", amount_minor=SHIPPING_MINOR, estimated_days=3),
            store.store.currency,
        )
    with use_store(store.store):
        async with database.session() as session:
            await create_tax_rate(session, store.id, TaxRateInput(name="VAT", country="DE", rate_bp=TAX_BP), None)
            await session.commit()
    return str(rate.id)


@pytest_asyncio.fixture
async def shop(tc_database: Database, two_stores: TwoStores) -> TwoStores:
    """``two_stores`` with both stores ready to sell (see :func:`make_shop`)."""
    await make_shop(tc_database, two_stores.a)
    await make_shop(tc_database, two_stores.b)
    return two_stores


@pytest.fixture
def make_shop_for(tc_database: Database) -> Callable[..., Awaitable[str]]:
    """``await make_shop_for(store, prices_include_tax=False)``: :func:`make_shop` (for stores the ``shop`` fixture
    does not set up); the shipping rate's id."""

    async def make(store: StoreFixture, *, prices_include_tax: bool = False) -> str:
        return await make_shop(tc_database, store, prices_include_tax=prices_include_tax)

    return make


@pytest_asyncio.fixture
async def admin_conn(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: arranges and inspects data, never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def counts(admin_conn: asyncpg.Connection) -> Callable[[], Awaitable[dict[str, int]]]:
    """Row counts of the tables checkout writes (every store)."""

    async def count() -> dict[str, int]:
        return {table: await admin_conn.fetchval(f"SELECT count(*) FROM {table}") for table in COMMERCE_TABLES}

    return count


@pytest.fixture
def stock(admin_conn: asyncpg.Connection) -> Callable[[UUID | str], Awaitable[tuple[int, int]]]:
    """``await stock(variant_id)``: ``(inventory, reserved)`` of a variant, read as the superuser."""

    async def read(variant_id: UUID | str) -> tuple[int, int]:
        row = await admin_conn.fetchrow(
            "SELECT inventory, reserved FROM product_variants WHERE id = $1", UUID(str(variant_id))
        )
        return row["inventory"], row["reserved"]

    return read


@pytest.fixture
def variant_id(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[str]]:
    """``await variant_id(store, product=0, size="s", inventory=None)``: the id of a variant of the store's
    ``product``-th product (``s``: 5 in stock, price 1000 + product; ``l``: none in stock, 1500 + product);
    ``inventory`` sets its stock first."""

    async def find(store: StoreFixture, product: int = 0, size: str = "s", inventory: int | None = None) -> str:
        sku = f"{store.slug}-{product + 1}-{size}"
        found = await admin_conn.fetchval(
            "SELECT id FROM product_variants WHERE store_id = $1 AND sku = $2", store.id, sku
        )
        assert found is not None, sku
        if inventory is not None:
            await admin_conn.execute("UPDATE product_variants SET inventory = $2 WHERE id = $1", found, inventory)
        return str(found)

    return find


@pytest.fixture
def add_discount(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[UUID]]:
    """``await add_discount(store, code, kind="percentage", value=1000, **columns)``: a discount row (inserted as the
    superuser); its id."""

    async def add(store: StoreFixture, code: str, kind: str = "percentage", value: int = 1000, **columns: Any) -> UUID:
        discount_id = uuid.uuid4()
        names = ["store_id", "id", "code", "kind", "value", *columns]
        values = [store.id, discount_id, code, kind, value, *columns.values()]
        placeholders = ", ".join(f"${index}" for index in range(1, len(values) + 1))
        await admin_conn.execute(f"INSERT INTO discounts ({', '.join(names)}) VALUES ({placeholders})", *values)
        return discount_id

    return add


@dataclass
class Shopper:
    """A shopper at one store, through the app's HTTP API: a guest with a cart token (picked up from the first
    answer that carries one), or a signed-in customer (session cookie and CSRF header in ``headers``)."""

    client: AsyncTestClient[Litestar]
    slug: str
    token: str | None = None
    base_headers: dict[str, str] = field(default_factory=dict)
    send_token: bool = True

    @property
    def headers(self) -> dict[str, str]:
        sent = dict(self.base_headers)
        if self.token and self.send_token:
            sent["X-Cart-Token"] = self.token
        return sent

    def url(self, path: str) -> str:
        return f"/api/storefront/{self.slug}/{path}"

    async def call(
        self, method: str, path: str, json: Any = None, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        if json is not None:
            kwargs["json"] = json
        response = await self.client.request(method, self.url(path), headers={**self.headers, **(headers or {})},
                                             **kwargs)  # fmt: skip
        if response.status_code < 300 and response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and body.get("token"):
                self.token = body["token"]
        return response

    async def variant(self, product_slug: str, index: int = 0) -> dict[str, Any]:
        product = (await self.client.get(self.url(f"products/{product_slug}"))).json()
        variant: dict[str, Any] = product["variants"][index]
        return variant

    async def add(self, variant_id: UUID | str, qty: int = 1) -> dict[str, Any]:
        """Add to the cart (must succeed); the cart."""
        response = await self.call("POST", "cart/items", {"variant_id": str(variant_id), "qty": qty})
        assert response.status_code == 200, response.text
        cart: dict[str, Any] = response.json()
        return cart

    async def cart(self) -> dict[str, Any]:
        response = await self.call("GET", "cart")
        assert response.status_code == 200, response.text
        cart: dict[str, Any] = response.json()
        return cart

    async def checkout(self, email: str | None = EMAIL) -> dict[str, Any]:
        """Start a checkout of the cart (must succeed); the checkout."""
        response = await self.call("POST", "checkout", {"email": email} if email else None)
        assert response.status_code == 201, response.text
        checkout: dict[str, Any] = response.json()
        return checkout

    async def update(self, checkout_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        response = await self.call("PATCH", f"checkout/{checkout_id}", changes)
        assert response.status_code == 200, response.text
        checkout: dict[str, Any] = response.json()
        return checkout

    async def ready(
        self, lines: Sequence[tuple[UUID | str, int]], *, method: str = "bank-transfer", email: str | None = EMAIL
    ) -> str:
        """Cart -> checkout -> address, the first quote, the payment method: a checkout ready to complete."""
        for variant, qty in lines:
            await self.add(variant, qty)
        checkout_id = str((await self.checkout(email))["id"])
        quote = (await self.update(checkout_id, {"shipping_address": ADDRESS}))["shipping_quotes"][0]
        await self.update(
            checkout_id,
            {"shipping": {"carrier_id": quote["carrier_id"], "rate_id": quote["rate_id"]}, "payment_method": method},
        )
        return checkout_id

    async def complete(self, checkout_id: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.call("POST", f"checkout/{checkout_id}/complete", body, headers=headers)

    async def buy(self, variant_id: UUID | str, qty: int = 1, *, method: str = "bank-transfer") -> httpx.Response:
        """Cart -> checkout -> address, shipping, payment -> complete; the answer to completing."""
        return await self.complete(await self.ready([(variant_id, qty)], method=method))


@pytest.fixture
def new_client(client: AsyncTestClient[Litestar], app: Litestar) -> Callable[[], AsyncTestClient[Litestar]]:
    """Another browser (a cookie jar of its own) of the app ``client`` started, sharing its event-loop thread."""

    def make() -> AsyncTestClient[Litestar]:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


@pytest.fixture
def shopper(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[[str], Shopper]:
    """``shopper(slug)``: a new guest of store ``slug`` (each with a browser of its own)."""

    def make(slug: str) -> Shopper:
        return Shopper(new_client(), slug)

    return make


async def sign_in_as(who: Shopper, email: str) -> Shopper:
    """Sign ``who``'s browser in as customer ``email`` (sending its cart token, so a guest cart merges); from then
    on it calls as that customer (session cookie and CSRF header, no token)."""
    headers = await csrf_headers(who.client)
    signed_in = await who.client.post(
        who.url("customers/login"), json={"email": email, "password": TEST_PASSWORD}, headers={**headers, **who.headers}
    )
    assert signed_in.status_code == 200, signed_in.text
    who.base_headers.update(await csrf_headers(who.client))
    who.send_token = False
    return who


@pytest.fixture
def register_customer(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[..., Awaitable[None]]:
    """``await register_customer(slug, email)``: an account, customer of store ``slug`` (password
    :data:`TEST_PASSWORD`)."""

    async def register(slug: str, email: str) -> None:
        registered = await customer_register(new_client(), slug, email)
        assert registered.status_code == 202, registered.text

    return register


@pytest.fixture
def signed_in() -> Callable[[Shopper, str], Awaitable[Shopper]]:
    """:func:`sign_in_as`."""
    return sign_in_as


@pytest.fixture
def customer(
    new_client: Callable[[], AsyncTestClient[Litestar]], register_customer: Callable[..., Awaitable[None]]
) -> Callable[..., Awaitable[Shopper]]:
    """``await customer(slug, email)``: a new browser signed in as customer ``email`` of store ``slug`` (registered
    first if need be: registering a known address changes nothing)."""

    async def make(slug: str, email: str) -> Shopper:
        await register_customer(slug, email)
        return await sign_in_as(Shopper(new_client(), slug), email)

    return make


@functools.cache
def password_hash() -> str:
    """An argon2 hash of :data:`TEST_PASSWORD` (computed once per run)."""
    return kit_password_hash(TEST_PASSWORD)


@dataclass
class Merchant:
    """A signed-in member of a store, calling its admin API (session cookie and CSRF header)."""

    client: AsyncTestClient[Litestar]
    slug: str
    headers: dict[str, str]

    async def call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return await self.client.request(method, f"/api/admin/{self.slug}/{path}", json=json, headers=self.headers)


@pytest.fixture
def owner(
    admin_conn: asyncpg.Connection, new_client: Callable[[], AsyncTestClient[Litestar]]
) -> Callable[[StoreFixture], Awaitable[Merchant]]:
    """``await owner(store)``: the store's owner (``owner@<slug>.test``, given a password), signed in."""

    async def make(store: StoreFixture) -> Merchant:
        email = f"owner@{store.slug}.test"
        updated = await admin_conn.execute(
            "UPDATE users SET password_hash = $2 WHERE email = $1", email, password_hash()
        )
        assert updated == "UPDATE 1", email
        browser = new_client()
        signed_in = await platform_sign_in(browser, email)
        assert signed_in.status_code == 200, signed_in.text
        return Merchant(browser, store.slug, await csrf_headers(browser))

    return make


def cart_token_hash(token: str) -> bytes:
    """What the database keeps of a guest's cart token."""
    return hashlib.sha256(token.encode()).digest()


Request = tuple[str, str, dict[str, str], Any]
"""``(method, path, headers, json body or None)``."""


async def _send_all(app: Litestar, base_url: str, requests: Sequence[Request]) -> list[tuple[int, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=60) as http:

        async def one(request: Request) -> tuple[int, Any]:
            method, path, headers, body = request
            response = await http.request(method, path, headers=headers, json=body)
            try:
                return response.status_code, response.json()
            except json.JSONDecodeError:
                return response.status_code, response.text

        return list(await asyncio.gather(*(one(request) for request in requests)))


@pytest.fixture
def concurrently(client: AsyncTestClient[Litestar], app: Litestar) -> Callable[..., Awaitable[list[tuple[int, Any]]]]:
    """``await concurrently(requests)``: send every request at once, on the event loop the app runs on (the test
    client itself sends one request at a time); ``[(status, json body)]`` in order.

    Each request is ``(method, path, headers, json)``; they share no cookies.
    """

    async def send(requests: Sequence[Request]) -> list[tuple[int, Any]]:
        call = functools.partial(_send_all, app, str(client.base_url), list(requests))
        return await asyncio.to_thread(client.blocking_portal.call, call)

    return send


@pytest.fixture
def ready_checkouts(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[list[tuple[str, str]]]]:
    """``await ready_checkouts(store, lines, n, discount_code=None)``: ``n`` guests' carts frozen into checkouts with
    the address, shipping and bank transfer chosen, inserted as the superuser in one go (what ``Shopper.ready``
    makes through five calls); ``[(cart token, checkout id)]``. ``lines`` are ``(variant id, qty)``."""

    async def make(
        store: StoreFixture, lines: Sequence[tuple[str, int]], n: int, discount_code: str | None = None
    ) -> list[tuple[str, str]]:
        rate_id = str(await admin_conn.fetchval("SELECT id FROM shipping_rates WHERE store_id = $1", store.id))
        variants = {
            str(row["id"]): row
            for row in await admin_conn.fetch(
                "SELECT v.id, v.product_id, v.sku, v.title, v.price_minor, p.name FROM product_variants v "
                "JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id WHERE v.id = ANY($1::uuid[])",
                [UUID(variant) for variant, _ in lines],
            )
        }
        snapshot = json.dumps(
            [
                {
                    "variant_id": variant,
                    "product_id": str(variants[variant]["product_id"]),
                    "sku": variants[variant]["sku"],
                    "product_name": variants[variant]["name"],
                    "variant_title": variants[variant]["title"],
                    "qty": qty,
                    "unit_price_minor": variants[variant]["price_minor"],
                }
                for variant, qty in lines
            ]
        )
        choice = json.dumps({"carrier_id": CARRIER, "rate_id": rate_id, "name": "Standard", "amount_minor": 500})
        made = []
        carts, items, checkouts = [], [], []
        for _ in range(n):
            token, cart_id, checkout_id = secrets.token_urlsafe(32), uuid.uuid4(), uuid.uuid4()
            carts.append((store.id, cart_id, cart_token_hash(token)))
            items += [
                (store.id, uuid.uuid4(), cart_id, UUID(variant), qty, variants[variant]["price_minor"])
                for variant, qty in lines
            ]
            checkouts.append(
                (store.id, checkout_id, cart_id, cart_token_hash(token), store.store.currency, EMAIL, snapshot,
                 json.dumps(ADDRESS), choice, "bank-transfer", discount_code)
            )  # fmt: skip
            made.append((token, str(checkout_id)))
        await admin_conn.executemany("INSERT INTO carts (store_id, id, token_hash) VALUES ($1, $2, $3)", carts)
        await admin_conn.executemany(
            "INSERT INTO cart_items (store_id, id, cart_id, variant_id, qty, unit_price_minor) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            items,
        )
        await admin_conn.executemany(
            "INSERT INTO checkouts (store_id, id, cart_id, cart_token_hash, currency, email, lines, shipping_address,"
            " shipping_choice, payment_method, discount_code)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11)",
            checkouts,
        )
        return made

    return make


class ScriptedGateway:
    """A payment gateway that does, call by call, what its ``script`` says (then succeeds with a pending payment):
    ``"raise"`` (a crash), ``"refuse"`` (a 422 of its own), ``"fail"`` (a failed payment), ``"sleep:<s>"`` (then
    pending), ``"probe"`` (await ``probe()``, then pending), ``"pending"``."""

    id = "scripted"
    name = "Scripted test gateway"

    def __init__(self) -> None:
        self.script: list[str] = []
        self.calls: list[PaymentRequest] = []
        self.cancelled: list[str] = []
        self.probe: Callable[[], Awaitable[None]] | None = None

    async def is_available(self, ctx: Any, plugin: Any) -> bool:
        return True

    async def create_payment(self, ctx: StoreContext, request: PaymentRequest, plugin: PluginContext) -> PaymentResult:
        self.calls.append(request)
        step = self.script.pop(0) if self.script else "pending"
        if step == "raise":
            raise RuntimeError("the provider is down")
        if step == "refuse":
            raise BusinessRuleError(
                "this gateway refuses", errors=[FieldError("payment_method", "refused by the test gateway")]
            )
        if step.startswith("sleep:"):
            await asyncio.sleep(float(step.partition(":")[2]))
        if step == "probe" and self.probe is not None:
            await self.probe()
        return PaymentResult(
            status="failed" if step == "fail" else "pending",
            payment_ref=f"SCRIPTED-{len(self.calls)}",
            amount_minor=request.amount_minor,
            currency=request.currency,
            instructions="pay the test gateway",
            failure_reason="card declined" if step == "fail" else None,
        )

    async def confirm(
        self, ctx: StoreContext, confirmation: PaymentConfirmation, plugin: PluginContext
    ) -> PaymentResult:
        raise BusinessRuleError("the scripted gateway's payments never settle by confirmation")

    async def refund(self, ctx: StoreContext, request: RefundRequest, plugin: PluginContext) -> RefundResult:
        raise BusinessRuleError("the scripted gateway takes no money, so it refunds none")

    async def cancel(self, ctx: StoreContext, payment_ref: str, plugin: PluginContext) -> PaymentResult:
        self.cancelled.append(payment_ref)
        return PaymentResult(status="cancelled", payment_ref=payment_ref, amount_minor=0, currency=ctx.currency)

    async def parse_webhook(self, webhook: WebhookRequest) -> PaymentEvent | None:
        return None

    async def handle_event(self, ctx: StoreContext, event: PaymentEvent, plugin: PluginContext) -> None:
        return None


class ScriptedPayments:
    """The plugin that registers a :class:`ScriptedGateway`."""

    def __init__(self, gateway: ScriptedGateway) -> None:
        self.gateway = gateway

    @hookimpl
    def tc_register_payment_gateways(self, register: Callable[[PaymentGateway], None]) -> None:
        register(self.gateway)


@pytest_asyncio.fixture
async def scripted(shop: TwoStores, register_plugin: Callable[..., Any], tc_database: Database) -> ScriptedGateway:
    """A :class:`ScriptedGateway` (payment method ``scripted``), enabled in store A of ``shop``."""
    gateway = ScriptedGateway()
    register_plugin(ScriptedPayments(gateway), "scripted-payments")
    await enable_plugin(tc_database, shop.a.id, "scripted-payments")
    return gateway
