"""Helpers of the order-lifecycle tests: a store selling with manual payments, signed-in members, placed orders.

Orders are placed by :func:`place` the way placement leaves them (status ``open``, payment ``pending`` or ``paid``,
``unfulfilled``, one payment row, stock already decremented with an ``order #<n>`` history line), written as the
runtime role in the store's transaction. Manual-payment orders get their payment from the real gateway first, so
refunds and confirmations go through the real plugin.

Test modules here are not a package (``--import-mode=importlib``), so helpers are offered as fixtures.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import uuid
from collections.abc import Awaitable, Callable
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
from tenantcommerce_manual_payments.gateways import BankTransferGateway, CashOnDeliveryGateway
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings
from uuid_utils.compat import uuid7

from tenantcommerce import hookimpl
from tenantcommerce.db.database import Database
from tenantcommerce.errors import BusinessRuleError
from tenantcommerce.plugins.providers import (
    LabelRequest,
    PaymentConfirmation,
    PaymentRequest,
    PaymentResult,
    RefundRequest,
    RefundResult,
    ShippingLabel,
)
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import TEST_PASSWORD, csrf_headers, sign_in
from tenantcommerce.testing.accounts import password_hash as kit_password_hash
from tenantcommerce.testing.plugins import enable_plugin, plugin_context, store_context
from tenantcommerce.testing.stores import make_store

MANUAL = "manual-payments"
MANUAL_CONFIG = {
    "bank_transfer": {"account_holder": "Alpha GmbH", "iban": "DE89370400440532013000"},
    "cash_on_delivery": True,
    "reference_prefix": "PAY",
}
ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}
CHOICE = {"carrier_id": "e2e-post", "rate_id": "standard", "name": "Standard", "amount_minor": 500}
TEST_PLUGIN = "e2e-orders"
"""The test plugin: a gateway whose behaviour a test sets, and a carrier that sells labels."""
PLUGIN_TIMEOUT = 1.0


@functools.cache
def password_hash() -> str:
    return kit_password_hash(TEST_PASSWORD)


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """JSON logs (fast tracebacks), and a short plugin timeout so a hanging gateway answers 504 quickly."""
    return msgspec.structs.replace(postgres.settings, log_format="json", plugin_timeout=PLUGIN_TIMEOUT)


# --- callers --------------------------------------------------------------------------------------------------------


@dataclass
class Actor:
    """A signed-in browser (session cookie + CSRF header)."""

    client: AsyncTestClient[Litestar]
    email: str
    headers: dict[str, str] = field(default_factory=dict)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, **kw)

    async def post(self, path: str, json: Any = None) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers)


@pytest.fixture
def new_client(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], AsyncTestClient[Litestar]]:
    """Another browser of the started app (its own cookie jar, on ``client``'s event loop)."""

    def make() -> AsyncTestClient[Litestar]:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


@pytest.fixture
def member(
    admin_conn: asyncpg.Connection, new_client: Callable[[], AsyncTestClient[Litestar]]
) -> Callable[..., Awaitable[Actor]]:
    """``await member(store_id, email, role)``: a user (made if new) who is a member with ``role``, signed in.
    ``role=None`` makes a signed-in user who is no member."""

    async def make(store_id: UUID, email: str, role: str | None = "owner") -> Actor:
        user_id = await admin_conn.fetchval("SELECT id FROM users WHERE email = $1", email)
        if user_id is None:
            user_id = uuid.uuid4()
            await admin_conn.execute(
                "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)", user_id, email, password_hash()
            )
        else:
            await admin_conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash())
        if role is not None:
            await admin_conn.execute(
                "INSERT INTO store_members (id, store_id, user_id, role) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (store_id, user_id) DO UPDATE SET role = EXCLUDED.role",
                uuid.uuid4(),
                store_id,
                user_id,
                role,
            )
        browser = new_client()
        response = await sign_in(browser, email)
        assert response.status_code == 200, response.text
        return Actor(browser, email, await csrf_headers(browser))

    return make


# --- stores and orders ----------------------------------------------------------------------------------------------


@dataclass
class Placed:
    """An order as placed: its id, number, item ids (in line order) and payment."""

    id: UUID
    number: int
    items: list[UUID]
    payment_id: UUID
    payment_ref: str
    total_minor: int


@dataclass
class Shop:
    """A store selling with manual payments: its owner signed in, its variants by SKU."""

    store: StoreContext
    owner: Actor
    variants: dict[str, UUID]
    database: Database

    @property
    def id(self) -> UUID:
        return self.store.id

    @property
    def slug(self) -> str:
        return self.store.slug

    def url(self, path: str = "") -> str:
        """The admin URL of the store's orders (``url(f"{order.id}/refunds")``)."""
        return f"/api/admin/{self.slug}/orders" + (f"/{path}" if path else "")

    async def inventory(self, sku: str) -> int:
        async with self.database.store_transaction(self.id) as conn:
            value: int = await conn.fetchval("SELECT inventory FROM product_variants WHERE sku = $1", sku)
        return value

    async def place(
        self,
        lines: list[tuple[str, int]],
        *,
        paid: bool = False,
        method: str = "bank-transfer",
        email: str = "ada@example.com",
        customer_id: UUID | None = None,
        shipping_minor: int = 500,
        created_at: datetime.datetime | None = None,
        choice: dict[str, Any] | None = CHOICE,
    ) -> Placed:
        """An order of ``lines`` (SKU, quantity), as placement leaves it."""
        async with self.database.store_transaction(self.id) as conn:
            rows = {
                row["sku"]: row
                for row in await conn.fetch(
                    "SELECT v.id, v.sku, v.title, v.price_minor, v.product_id, p.name FROM product_variants v "
                    "JOIN products p ON p.store_id = v.store_id AND p.id = v.product_id WHERE v.sku = ANY($1)",
                    [sku for sku, _ in lines],
                )
            }
        subtotal = sum(rows[sku]["price_minor"] * qty for sku, qty in lines)
        total = subtotal + shipping_minor
        reference = await self._payment(method, total, paid)
        order_id, payment_id = uuid7(), uuid7()
        items: list[UUID] = []
        async with self.database.store_transaction(self.id, readonly=False) as conn:
            number = await conn.fetchval(
                "INSERT INTO order_counters (store_id, id, last_number) VALUES ($1, $2, 1001) ON CONFLICT (store_id) "
                "DO UPDATE SET last_number = order_counters.last_number + 1 RETURNING last_number",
                self.id,
                uuid.uuid4(),
            )
            await conn.execute(
                """
                INSERT INTO orders (store_id, id, order_number, email, customer_id, payment_status, currency,
                    subtotal_minor, shipping_minor, total_minor, shipping_address, billing_address, placed_at,
                    payment_method, shipping_choice, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $11::jsonb, now(), $12, $13::jsonb,
                        coalesce($14, now()))
                """,
                self.id, order_id, number, email, customer_id, "paid" if paid else "pending", self.store.currency,
                subtotal, shipping_minor, total, msgspec.json.encode(ADDRESS).decode(), method,
                None if choice is None else msgspec.json.encode(choice).decode(), created_at,
            )  # fmt: skip
            for sku, qty in lines:
                row, item_id = rows[sku], uuid7()
                await conn.execute(
                    "INSERT INTO order_items (store_id, id, order_id, product_id, variant_id, sku, product_name, "
                    "variant_title, qty, unit_price_minor, total_price_minor) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    self.id, item_id, order_id, row["product_id"], row["id"], sku, row["name"], row["title"], qty,
                    row["price_minor"], row["price_minor"] * qty,
                )  # fmt: skip
                items.append(item_id)
                left = await conn.fetchval(
                    "UPDATE product_variants SET inventory = inventory - $2 WHERE id = $1 RETURNING inventory",
                    row["id"],
                    qty,
                )
                await conn.execute(
                    "INSERT INTO inventory_adjustments (store_id, id, variant_id, delta, inventory_after, reason) "
                    "VALUES ($1, $2, $3, $4, $5, $6)",
                    self.id, uuid.uuid4(), row["id"], -qty, left, f"order #{number}",
                )  # fmt: skip
            await conn.execute(
                "INSERT INTO payments (store_id, id, order_id, amount_minor, currency, method, status, transaction_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                self.id, payment_id, order_id, total, self.store.currency, method,
                "succeeded" if paid else "pending", reference,
            )  # fmt: skip
        return Placed(order_id, number, items, payment_id, reference, total)

    async def _payment(self, method: str, total: int, paid: bool) -> str:
        """The payment reference: from the real manual gateway for its methods, made up for test gateways."""
        if method not in ("bank-transfer", "cash-on-delivery"):
            return f"{method}-{uuid.uuid4().hex[:12]}"
        gateway = BankTransferGateway() if method == "bank-transfer" else CashOnDeliveryGateway()
        ctx = await store_context(self.database, self.id)
        settings = msgspec.convert(MANUAL_CONFIG, ManualPaymentsSettings)
        plugin = plugin_context(self.database, self.id, MANUAL, settings)
        key = uuid.uuid4().hex
        request = PaymentRequest(checkout_id=uuid.uuid4(), amount_minor=total, currency=ctx.currency,
                                 reference=f"C-{key[:6]}", idempotency_key=key)  # fmt: skip
        result = await gateway.create_payment(ctx, request, plugin)
        if paid:
            confirmation = PaymentConfirmation(
                payment_ref=result.payment_ref, amount_minor=total, currency=ctx.currency
            )
            await gateway.confirm(ctx, confirmation, plugin)
        return result.payment_ref


@pytest.fixture
def open_shop(
    tc_database: Database, member: Callable[..., Awaitable[Actor]], test_plugin: OrdersPlugin
) -> Callable[..., Awaitable[Shop]]:
    """``await open_shop("alpha", "EUR")``: a store with products (5 of each small variant in stock), manual
    payments and the test plugin enabled, and its owner signed in."""

    async def open_(slug: str, currency: str = "EUR") -> Shop:
        made = await make_store(tc_database, slug, currency)
        await enable_plugin(tc_database, made.id, MANUAL, config=MANUAL_CONFIG)
        await enable_plugin(tc_database, made.id, TEST_PLUGIN)
        owner = await member(made.id, f"owner@{slug}.test", "owner")
        async with tc_database.store_transaction(made.id) as conn:
            variants = {row["sku"]: row["id"] for row in await conn.fetch("SELECT sku, id FROM product_variants")}
        return Shop(made.store, owner, variants, tc_database)

    return open_


@pytest_asyncio.fixture
async def shop(open_shop: Callable[..., Awaitable[Shop]]) -> Shop:
    """Store ``alpha`` (EUR), ready to sell."""
    return await open_shop("alpha")


# --- the test plugin ------------------------------------------------------------------------------------------------


class OrdersGateway:
    """A gateway whose refunds and confirmations do what ``mode`` says: ``ok``, ``crash`` (502), ``hang`` (504),
    ``refuse`` (a 422 of the plugin's), ``fail`` (answers failed), ``later`` (refunds answer pending). It records
    every refund request."""

    id = "e2e-pay"
    name = "E2E Pay"

    def __init__(self) -> None:
        self.mode = "ok"
        self.refunds: list[RefundRequest] = []
        self.paid_back: dict[str, RefundResult] = {}
        self.cancelled: list[str] = []

    async def _behave(self) -> None:
        if self.mode == "crash":
            raise RuntimeError("the provider is down")
        if self.mode == "hang":
            await asyncio.sleep(PLUGIN_TIMEOUT * 5)
        if self.mode == "refuse":
            raise BusinessRuleError("the provider refuses refunds of this payment")

    async def is_available(self, ctx: Any, plugin: Any) -> bool:
        return True

    async def create_payment(self, ctx: Any, request: PaymentRequest, plugin: Any) -> PaymentResult:
        # Orders here are planted already placed; a checkout paying with this gateway gets a pending payment.
        return PaymentResult(status="pending", payment_ref=f"e2e-{request.idempotency_key}",
                             amount_minor=request.amount_minor, currency=request.currency)  # fmt: skip

    async def confirm(self, ctx: Any, confirmation: PaymentConfirmation, plugin: Any) -> PaymentResult:
        await self._behave()
        status = "failed" if self.mode == "fail" else "succeeded"
        return PaymentResult(status=status, payment_ref=confirmation.payment_ref, failure_reason="card declined",
                             amount_minor=confirmation.amount_minor, currency=confirmation.currency)  # fmt: skip

    async def refund(self, ctx: Any, request: RefundRequest, plugin: Any) -> RefundResult:
        self.refunds.append(request)
        await self._behave()
        if self.mode == "later":
            return RefundResult(
                status="pending", refund_ref="re_later", amount_minor=request.amount_minor, currency=request.currency
            )
        if self.mode == "fail":
            return RefundResult(status="failed", refund_ref="", amount_minor=request.amount_minor,
                                currency=request.currency, failure_reason="insufficient balance")  # fmt: skip
        # Idempotent like a real provider: the same key gives the same refund.
        if request.idempotency_key not in self.paid_back:
            self.paid_back[request.idempotency_key] = RefundResult(
                status="succeeded", refund_ref=f"re_{len(self.paid_back) + 1}", amount_minor=request.amount_minor,
                currency=request.currency,
            )  # fmt: skip
        return self.paid_back[request.idempotency_key]

    async def cancel(self, ctx: Any, payment_ref: str, plugin: Any) -> PaymentResult:
        self.cancelled.append(payment_ref)
        await self._behave()
        return PaymentResult(status="cancelled", payment_ref=payment_ref, amount_minor=0, currency=ctx.currency)

    async def parse_webhook(self, webhook: Any) -> None:
        return None

    async def handle_event(self, ctx: Any, event: Any, plugin: Any) -> None:
        return None


class OrdersCarrier:
    """A carrier that sells labels (``mode``: ``ok``, ``none`` (sells none), ``crash``); records the requests."""

    id = "e2e-post"
    name = "E2E Post"

    def __init__(self) -> None:
        self.mode = "ok"
        self.labels: list[LabelRequest] = []

    async def quote(self, ctx: Any, request: Any, plugin: Any) -> list[Any]:
        return []

    async def buy_label(self, ctx: Any, request: LabelRequest, plugin: Any) -> ShippingLabel | None:
        self.labels.append(request)
        if self.mode == "crash":
            raise RuntimeError("the label printer is on fire")
        if self.mode == "none":
            return None
        return ShippingLabel(tracking_number=f"EP{request.order_number}", label_url="https://labels.test/1.pdf",
                             tracking_url=f"https://track.test/EP{request.order_number}")  # fmt: skip


class OrdersPlugin:
    """Registers :class:`OrdersGateway` and :class:`OrdersCarrier`."""

    def __init__(self) -> None:
        self.gateway = OrdersGateway()
        self.carrier = OrdersCarrier()

    @hookimpl
    def tc_register_payment_gateways(self, register: Callable[[Any], None]) -> None:
        register(self.gateway)

    @hookimpl
    def tc_register_shipping_carriers(self, register: Callable[[Any], None]) -> None:
        register(self.carrier)


@pytest.fixture
def test_plugin(register_plugin: Callable[..., Any]) -> OrdersPlugin:
    """The test plugin, registered as ``e2e-orders`` (``open_shop`` enables it)."""
    plugin = OrdersPlugin()
    register_plugin(plugin, TEST_PLUGIN)
    return plugin


# --- looking at the database ----------------------------------------------------------------------------------------


@pytest.fixture
def db(admin_conn: asyncpg.Connection) -> asyncpg.Connection:
    """The superuser connection (sees every store): for arranging and inspecting, never for asserting isolation."""
    return admin_conn


async def money_state(conn: asyncpg.Connection, order_id: UUID) -> dict[str, Any]:
    """Everything about an order that money, stock and statuses touch (as text), to compare before and after."""
    parts = {
        "order": "SELECT o::text FROM orders o WHERE o.id = $1",
        "items": "SELECT string_agg(i::text, E'\\n' ORDER BY i.id) FROM order_items i WHERE i.order_id = $1",
        "payments": "SELECT string_agg(p::text, E'\\n' ORDER BY p.id) FROM payments p WHERE p.order_id = $1",
        "fulfillments": "SELECT string_agg(f::text, E'\\n' ORDER BY f.id) FROM fulfillments f WHERE f.order_id = $1",
        "stock": "SELECT string_agg(v.inventory::text, ',' ORDER BY v.id) FROM product_variants v "
        "WHERE v.store_id = (SELECT store_id FROM orders WHERE id = $1)",
        "adjustments": "SELECT count(*)::text FROM inventory_adjustments a "
        "WHERE a.store_id = (SELECT store_id FROM orders WHERE id = $1)",
        "events": "SELECT count(*)::text FROM outbox_events e "
        "WHERE e.store_id = (SELECT store_id FROM orders WHERE id = $1)",
    }
    return {name: await conn.fetchval(sql, order_id) for name, sql in parts.items()}


@pytest.fixture
def state(admin_conn: asyncpg.Connection) -> Callable[[UUID], Awaitable[dict[str, Any]]]:
    """``await state(order_id)``: :func:`money_state`."""
    return functools.partial(money_state, admin_conn)


@pytest.fixture
def audit_actions(admin_conn: asyncpg.Connection) -> Callable[[UUID], Awaitable[list[str]]]:
    """``await audit_actions(order_id)``: the audit actions about an order, oldest first."""

    async def actions(order_id: UUID) -> list[str]:
        rows = await admin_conn.fetch(
            "SELECT action FROM audit_log WHERE target_type = 'order' AND target_id = $1 ORDER BY created_at, id",
            str(order_id),
        )
        return [row["action"] for row in rows]

    return actions


# --- requests at once -----------------------------------------------------------------------------------------------


async def _send_all(app: Litestar, base_url: str, requests: list[tuple[str, str, dict[str, str], Any]]) -> list[Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=60) as http:

        async def one(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
            response = await http.request(method, path, headers=headers, json=body)
            return response.status_code, response.json()

        return list(await asyncio.gather(*(one(*request) for request in requests)))


@pytest.fixture
def concurrently(client: AsyncTestClient[Litestar], app: Litestar) -> Callable[..., Awaitable[list[Any]]]:
    """``await concurrently([(method, path, headers, body), ...])``: every request at once, on the app's own event
    loop (the test client sends one at a time); ``[(status, json body)]`` in order."""

    async def send(requests: list[tuple[str, str, dict[str, str], Any]]) -> list[Any]:
        call = functools.partial(_send_all, app, str(client.base_url), requests)
        return await asyncio.to_thread(client.blocking_portal.call, call)

    return send


@pytest.fixture
def bearer() -> Callable[..., Awaitable[dict[str, str]]]:
    """``await bearer(shop, permissions)``: an API token of the shop made by its owner, as request headers."""

    async def make(shop: Shop, permissions: list[str]) -> dict[str, str]:
        response = await shop.owner.post(f"/api/admin/{shop.slug}/tokens", {"name": "ops", "permissions": permissions})
        assert response.status_code in (200, 201), response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return make
