"""Helpers of the dashboard tests: a store selling with manual payments, browsers that sign in through the sign-in
form (session cookie + the CSRF token of the page's hidden input), placed orders, and the rendering of a template
alone.

Orders are planted the way placement leaves them (copied from ``tests/e2e/orders/conftest.py``: test modules are not
a package). Helpers are offered as fixtures.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce_manual_payments.gateways import BankTransferGateway
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings
from uuid_utils.compat import uuid7

from tenantcommerce.db.database import Database
from tenantcommerce.plugins.providers import PaymentConfirmation, PaymentRequest
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import TEST_PASSWORD
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
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]*)"')


@functools.cache
def password_hash() -> str:
    return kit_password_hash(TEST_PASSWORD)


@pytest.fixture
def tc_settings(postgres: TestDatabase, tmp_path: Path) -> Settings:
    """JSON logs (fast tracebacks), product images under the test's own directory."""
    return msgspec.structs.replace(postgres.settings, log_format="json", media_dir=str(tmp_path / "media"))


def csrf_of(page: str) -> str:
    """The CSRF token of a page's forms."""
    match = CSRF_INPUT.search(page)
    assert match, "the page has no form with a CSRF token"
    return html_lib.unescape(match.group(1))


@dataclass
class Browser:
    """A browser without JavaScript: GETs pages, submits their forms (with the CSRF token of the page)."""

    client: AsyncTestClient[Litestar]
    token: str = ""

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        response = await self.client.get(path, follow_redirects=False, **kw)
        if CSRF_INPUT.search(response.text):
            self.token = csrf_of(response.text)
        return response

    async def submit(self, path: str, fields: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        """POST a form (``application/x-www-form-urlencoded``) with the CSRF token; redirects are not followed."""
        if not self.token:
            await self.get("/admin/login")
        data = {"_csrf_token": self.token, **{k: str(v) for k, v in (fields or {}).items()}}
        response = await self.client.post(path, data=data, follow_redirects=False, **kw)
        if CSRF_INPUT.search(response.text):
            self.token = csrf_of(response.text)
        return response

    async def sign_in(self, email: str, password: str = TEST_PASSWORD) -> httpx.Response:
        await self.get("/admin/login")
        return await self.submit("/admin/login", {"email": email, "password": password, "next": "/admin/"})


@pytest.fixture
def browser(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], Browser]:
    """``browser()``: a new browser of the started app (its own cookie jar)."""

    def make() -> Browser:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return Browser(other)

    return make


@pytest.fixture
def member(admin_conn: asyncpg.Connection, browser: Callable[[], Browser]) -> Callable[..., Awaitable[Browser]]:
    """``await member(store_id, email, role, overrides)``: a user (made if new) with ``role`` in the store (``None``:
    no member), signed in through the dashboard's form."""

    async def make(
        store_id: UUID, email: str, role: str | None = "owner", overrides: dict[str, bool] | None = None
    ) -> Browser:
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
                "INSERT INTO store_members (id, store_id, user_id, role, permissions) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (store_id, user_id) "
                "DO UPDATE SET role = EXCLUDED.role, permissions = EXCLUDED.permissions",
                uuid.uuid4(),
                store_id,
                user_id,
                role,
                msgspec.json.encode(overrides or {}).decode(),
            )
        user = browser()
        response = await user.sign_in(email)
        assert response.status_code == 303, response.text
        return user

    return make


@dataclass
class Placed:
    id: UUID
    number: int
    total_minor: int


@dataclass
class Shop:
    """A store selling with manual payments, its owner signed in to the dashboard."""

    store: StoreContext
    owner: Browser
    variants: dict[str, UUID]
    products: list[UUID]
    database: Database

    @property
    def id(self) -> UUID:
        return self.store.id

    @property
    def slug(self) -> str:
        return self.store.slug

    def url(self, path: str = "") -> str:
        return f"/admin/{self.slug}/{path}"

    async def inventory(self, sku: str) -> int:
        async with self.database.store_transaction(self.id) as conn:
            value: int = await conn.fetchval("SELECT inventory FROM product_variants WHERE sku = $1", sku)
        return value

    async def place(
        self,
        lines: list[tuple[str, int]],
        *,
        paid: bool = False,
        email: str = "ada@example.com",
        customer_id: UUID | None = None,
    ) -> Placed:
        """An order of ``lines`` (SKU, quantity) paid by bank transfer, as placement leaves it."""
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
        total = subtotal + 500
        reference = await self._payment(total, paid)
        order_id = uuid7()
        async with self.database.store_transaction(self.id, readonly=False) as conn:
            number = await conn.fetchval(
                "INSERT INTO order_counters (store_id, id, last_number) VALUES ($1, $2, 1001) ON CONFLICT (store_id) "
                "DO UPDATE SET last_number = order_counters.last_number + 1 RETURNING last_number",
                self.id,
                uuid.uuid4(),
            )
            await conn.execute(
                """
                INSERT INTO orders (store_id, id, order_number, email, payment_status, currency, subtotal_minor,
                    shipping_minor, total_minor, shipping_address, billing_address, placed_at, payment_method,
                    customer_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 500, $8, $9::jsonb, $9::jsonb, now(), 'bank-transfer', $10)
                """,
                self.id, order_id, number, email, "paid" if paid else "pending", self.store.currency, subtotal, total,
                msgspec.json.encode(ADDRESS).decode(), customer_id,
            )  # fmt: skip
            for sku, qty in lines:
                row = rows[sku]
                await conn.execute(
                    "INSERT INTO order_items (store_id, id, order_id, product_id, variant_id, sku, product_name, "
                    "variant_title, qty, unit_price_minor, total_price_minor) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    self.id, uuid7(), order_id, row["product_id"], row["id"], sku, row["name"], row["title"], qty,
                    row["price_minor"], row["price_minor"] * qty,
                )  # fmt: skip
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
                " VALUES ($1, $2, $3, $4, $5, 'bank-transfer', $6, $7)",
                self.id, uuid7(), order_id, total, self.store.currency, "succeeded" if paid else "pending", reference,
            )  # fmt: skip
        return Placed(order_id, number, total)

    async def _payment(self, total: int, paid: bool) -> str:
        gateway = BankTransferGateway()
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
def open_shop(tc_database: Database, member: Callable[..., Awaitable[Browser]]) -> Callable[..., Awaitable[Shop]]:
    """``await open_shop("alpha", "EUR")``: a store with three active products (5 of each small variant in stock)
    and a draft, manual payments enabled, its owner signed in to the dashboard."""

    async def open_(slug: str, currency: str = "EUR") -> Shop:
        made = await make_store(tc_database, slug, currency)
        await enable_plugin(tc_database, made.id, MANUAL, config=MANUAL_CONFIG)
        owner = await member(made.id, f"owner@{slug}.test", "owner")
        async with tc_database.store_transaction(made.id) as conn:
            variants = {row["sku"]: row["id"] for row in await conn.fetch("SELECT sku, id FROM product_variants")}
        return Shop(made.store, owner, variants, list(made.product_ids), tc_database)

    return open_


@pytest_asyncio.fixture
async def shop(open_shop: Callable[..., Awaitable[Shop]]) -> Shop:
    """Store ``alpha`` (EUR), ready to sell, its owner signed in."""
    return await open_shop("alpha")


@pytest.fixture
def db(admin_conn: asyncpg.Connection) -> asyncpg.Connection:
    """The superuser connection: for arranging and inspecting, never for asserting isolation."""
    return admin_conn
