"""Helpers of the storefront page tests: shops ready to sell (manual payments, a flat shipping rate, a tax rate; as
in tests/e2e/checkout), and a :class:`Browser` that reads pages and submits their forms like a browser without
JavaScript (the CSRF token from the page, cookies kept, redirects followed by hand).
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from collections.abc import AsyncIterator, Callable
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
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate as create_shipping_rate
from tenantcommerce_tax_rates.admin import create_rate as create_tax_rate
from tenantcommerce_tax_rates.schemas import TaxRateInput

from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.context import use_store
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.payments import TestCardGateway, TestCardPayments
from tenantcommerce.testing.plugins import enable_plugin
from tenantcommerce.testing.stores import StoreFixture, TwoStores

SHIPPING_MINOR = 500
TAX_BP = 2000
IBAN = "DE89370400440532013000"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]*)"')


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """The kit's settings, logging JSON lines (the console renderer's tracebacks cost seconds each)."""
    return msgspec.structs.replace(postgres.settings, log_format="json")


async def make_shop(database: Database, store: StoreFixture) -> None:
    """Manual payments (bank transfer), one flat shipping rate and 20 % VAT in DE for ``store``."""
    await enable_plugin(
        database,
        store.id,
        "manual-payments",
        config={"bank_transfer": {"account_holder": store.store.name, "iban": IBAN}},
    )
    await enable_plugin(database, store.id, "shipping-rates")
    await enable_plugin(database, store.id, "tax-rates", config={"prices_include_tax": False})
    async with database.store_transaction(store.id, readonly=False) as conn:
        await create_shipping_rate(
            conn,
            store.id,
            RateInput(name="Standard", amount_minor=SHIPPING_MINOR, estimated_days=3),
            store.store.currency,
        )
    with use_store(store.store):
        async with database.session() as session:
            await create_tax_rate(session, store.id, TaxRateInput(name="VAT", country="DE", rate_bp=TAX_BP), None)
            await session.commit()


@pytest_asyncio.fixture
async def shop(tc_database: Database, two_stores: TwoStores) -> TwoStores:
    """``two_stores``, store ``a`` ready to sell."""
    await make_shop(tc_database, two_stores.a)
    return two_stores


@pytest_asyncio.fixture
async def admin_conn(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: arranges and inspects data, never asserts isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@dataclass
class Browser:
    """A browser without JavaScript on one store's pages (``/s/<slug>`` or a store host's root)."""

    client: AsyncTestClient[Litestar]
    base: str
    last: httpx.Response | None = None

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        self.last = await self.client.get(self.base + path, **kwargs)
        return self.last

    async def submit(self, path: str, data: dict[str, Any], *, follow: bool = True) -> httpx.Response:
        """Post a form (with the CSRF token of the last page read) and follow the 303, as a browser does."""
        token = csrf_of(self.last) if self.last is not None else ""
        response = await self.client.post(self.base + path, data={"_csrf_token": token, **data}, follow_redirects=False)
        if follow and response.status_code == 303:
            response = await self.client.get(str(response.url.join(response.headers["location"])))
        self.last = response
        return response


def csrf_of(response: httpx.Response) -> str:
    """The CSRF token of a page's forms."""
    found = _CSRF.search(response.text)
    return html.unescape(found.group(1)) if found else ""


def text_of(response: httpx.Response) -> str:
    """A page's text, tags stripped and spaces collapsed (for ``in`` checks)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


@pytest.fixture
def browser(client: AsyncTestClient[Litestar], tc_settings: Settings) -> Callable[..., Browser]:
    """``browser(slug)``: a :class:`Browser` on ``/s/<slug>``; ``browser(slug, on_host=True)``: on the store's own
    host (``<slug>.<TC_BASE_DOMAIN>``), at the root."""

    def make(slug: str, *, on_host: bool = False) -> Browser:
        return Browser(client, f"http://{slug}.{tc_settings.base_domain}" if on_host else f"/s/{slug}")

    return make


@pytest.fixture
def variant_of(admin_conn: asyncpg.Connection) -> Callable[..., Any]:
    """``await variant_of(store, product=0, size="s")``: the variant id of the store's product (``s``: 5 in stock)."""

    async def find(store: StoreFixture, product: int = 0, size: str = "s") -> UUID:
        found: UUID = await admin_conn.fetchval(
            "SELECT id FROM product_variants WHERE store_id = $1 AND sku = $2",
            store.id,
            f"{store.slug}-{product + 1}-{size}",
        )
        return found

    return find


@pytest.fixture
def text() -> Callable[[httpx.Response], str]:
    """``text(response)``: the page's text (see :func:`text_of`)."""
    return text_of


@pytest.fixture
def midnight(
    register_plugin: Callable[..., Any], tc_database: Database, monkeypatch: pytest.MonkeyPatch
) -> Callable[[StoreFixture], Any]:
    """``await midnight(store)``: the test theme ``midnight`` (``midnight_theme/``) registered as plugin
    ``midnight-theme``, enabled for ``store`` and picked in its settings."""
    spec = importlib.util.spec_from_file_location(
        "midnight_theme", Path(__file__).parent / "midnight_theme" / "__init__.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    register_plugin(module.MidnightPlugin(), "midnight-theme")

    async def pick(store: StoreFixture) -> None:
        await enable_plugin(tc_database, store.id, "midnight-theme")
        async with tc_database.store_transaction(store.id, readonly=False) as conn:
            await conn.execute(
                'UPDATE stores SET settings = settings || \'{"theme": "midnight"}\'::jsonb WHERE id = $1', store.id
            )

    return pick


@pytest.fixture
def browser_payments(register_plugin: Callable[..., Any], tc_database: Database) -> Callable[..., Any]:
    """``await browser_payments(store, publishable_key=None, also=())``: the kit's test card gateway, id
    ``browser-pay``, in ``store`` (plugin ``browser-payments``), and one more per id in ``also`` (the gateways are
    returned in that order)."""

    async def enable(
        store: StoreFixture, publishable_key: str | None = None, also: tuple[str, ...] = ()
    ) -> TestCardGateway | list[TestCardGateway]:
        gateways = [TestCardGateway("browser-pay", publishable_key)] + [TestCardGateway(id_) for id_ in also]
        register_plugin(TestCardPayments(*gateways), "browser-payments")
        await enable_plugin(tc_database, store.id, "browser-payments")
        return gateways if also else gateways[0]

    return enable
