"""Browser tests: the real app under uvicorn on a free port of 127.0.0.1, driven by Debian's Chromium through
Playwright (never ``playwright install``: the browser is the system's, ``/usr/bin/chromium`` or ``TC_CHROMIUM``).

One server and one database serve the whole run (starting them per test would cost the suite its time budget): the
database is cloned from the kit's template and seeded once with stores ``alpha`` (EUR, the default theme) and
``bravo`` (USD, the ``night`` test theme of ``tests/browser/night/``), both selling with manual payments, a flat
shipping rate and a tax rate, as ``tests/e2e/checkout/conftest.py``'s ``make_shop`` sets them up. Tests therefore
never rely on counts of things other tests may add: each buys its own product and reads stock before and after.

Fixtures: ``live_server`` (its URL and database helpers), ``chromium``, ``page`` (a context of its own per test,
JavaScript on), ``page_nojs`` (JavaScript off), ``new_page(javascript=True, width=1280)`` for more, ``shoot``
(screenshots under ``tests/browser/artifacts/``, gitignored), ``axe`` (fails on serious or critical violations),
``sign_in`` (the dashboard's sign-in form), ``buy`` (a guest's purchase through the storefront pages) and
``placed_order`` (one order that exists). The server and the browser are shared by all browser tests and stopped
after the last one (see :class:`Shared`).

Tests are sync (Playwright's sync API refuses to run inside an event loop); database work runs on a thread of its
own with :func:`run_async`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate as create_shipping_rate
from tenantcommerce_tax_rates.admin import create_rate as create_tax_rate
from tenantcommerce_tax_rates.schemas import TaxRateInput

from tenantcommerce import hookimpl
from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.plugins.providers import Theme
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.context import use_store
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import TEST_PASSWORD
from tenantcommerce.testing.accounts import password_hash as kit_password_hash
from tenantcommerce.testing.payments import TestCardGateway, TestCardPayments
from tenantcommerce.testing.plugin import settings_for_url
from tenantcommerce.testing.plugins import enable_plugin
from tenantcommerce.testing.postgres import TestServer, clone, drop
from tenantcommerce.testing.stores import StoreFixture, make_store

HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
AXE = HERE / "vendor" / "axe.min.js"
AXE_SOURCE = HERE.parents[1] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("TC_CHROMIUM", "/usr/bin/chromium")

SHIPPING_MINOR = 500
TAX_BP = 2000
IBAN = "DE89370400440532013000"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
}
NIGHT = "night"
BASE_DOMAIN = "shop.test"
"""``TC_BASE_DOMAIN`` of the kit's settings: the apex is the platform, ``<slug>.shop.test`` a store's own host."""
STAFF_EMAIL = "staff@alpha.test"
TEST_CARD_PLUGIN = "test-card"
TEST_CARD = TestCardGateway()
"""The kit's card gateway (payments finished in the browser, settled by webhook) of the live server's ``alpha``."""
TIMEOUT_MS = 10_000

T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make()`` to its end on a thread and loop of its own (sync tests, Playwright's loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()


# --- the second theme --------------------------------------------------------------------------------------------


@dataclass
class NightTheme:
    """``night``: the default layout with a dark stylesheet (``tests/browser/night/``); every other template is the
    default theme's."""

    id: str = NIGHT
    name: str = "Night (test theme)"
    templates: Path = field(default=HERE / "night" / "templates")
    static: Path | None = field(default=HERE / "night" / "static")


class NightThemePlugin:
    """Registers :class:`NightTheme`."""

    @hookimpl
    def tc_register_themes(self, register: Callable[[Theme], None]) -> None:
        register(NightTheme())


# --- the server --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    """The app under uvicorn: its URL, its database, and the seeded stores."""

    url: str
    database: TestDatabase
    alpha: StoreFixture
    bravo: StoreFixture

    def store_url(self, slug: str, path: str = "/") -> str:
        """A storefront page: ``<url>/s/<slug><path>``."""
        return f"{self.url}/s/{slug}{path}"

    def host_url(self, slug: str, path: str = "/") -> str:
        """A storefront page on the store's own host: ``http://<slug>.shop.test:<port><path>`` (Chromium maps the
        name to 127.0.0.1)."""
        return f"http://{slug}.{BASE_DOMAIN}:{self.port}{path}"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def admin_url(self, slug: str, path: str = "/") -> str:
        """A dashboard page: ``<url>/admin/<slug><path>``."""
        return f"{self.url}/admin/{slug}{path}"

    def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of ``query``, read as the superuser (inspects and arranges data; never asserts isolation)."""

        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(asyncpg_dsn(self.database.admin_url))
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return run_async(go)

    def value(self, query: str, *args: Any) -> Any:
        """The first column of the first row of ``query`` (``None`` without rows)."""
        rows = self.fetch(query, *args)
        return rows[0][0] if rows else None

    def order_id(self, slug: str, number: int) -> UUID:
        """The id of order ``number`` of store ``slug``."""
        found = self.value(
            "SELECT o.id FROM orders o JOIN stores s ON s.id = o.store_id WHERE s.slug = $1 AND o.order_number = $2",
            slug,
            number,
        )
        assert found is not None, (slug, number)
        return UUID(str(found))

    def stock(self, sku: str) -> tuple[int, int]:
        """``(inventory, reserved)`` of the variant ``sku``."""
        rows = self.fetch("SELECT inventory, reserved FROM product_variants WHERE sku = $1", sku)
        assert rows, sku
        return rows[0]["inventory"], rows[0]["reserved"]


@functools.cache
def password_hash() -> str:
    return kit_password_hash(TEST_PASSWORD)


async def make_shop(database: Database, store: StoreFixture) -> None:
    """Manual payments (bank transfer), rate-table shipping (one flat rate) and 20 % VAT in DE for ``store``."""
    config = {"bank_transfer": {"account_holder": store.store.name, "iban": IBAN}}
    await enable_plugin(database, store.id, "manual-payments", config=config)
    await enable_plugin(database, store.id, "shipping-rates")
    await enable_plugin(database, store.id, "tax-rates", config={"prices_include_tax": False})
    async with database.store_transaction(store.id, readonly=False) as conn:
        rate = RateInput(name="Standard", amount_minor=SHIPPING_MINOR, estimated_days=3)
        await create_shipping_rate(conn, store.id, rate, store.store.currency)
    with use_store(store.store):
        async with database.session() as session:
            await create_tax_rate(session, store.id, TaxRateInput(name="VAT", country="DE", rate_bp=TAX_BP), None)
            await session.commit()


async def seed(test_database: TestDatabase) -> tuple[StoreFixture, StoreFixture]:
    """Stores ``alpha`` (seven products; it also takes the kit's test card) and ``bravo`` (six, on the night theme)
    ready to sell; ``charlie``
    with one product, the night theme's plugin enabled but the default theme picked (a test switches it); the
    owners' passwords :data:`TEST_PASSWORD`, and a ``staff`` member of ``alpha``."""
    database = Database(test_database.runtime_url, pool_size=2)
    await database.connect()
    try:
        alpha = await make_store(database, "alpha", "EUR", products=7)
        bravo = await make_store(database, "bravo", "USD", products=6)
        for store in (alpha, bravo):
            await make_shop(database, store)
        await enable_plugin(database, alpha.id, TEST_CARD_PLUGIN)
        charlie = await make_store(database, "charlie", "EUR", products=1)
        for store in (bravo, charlie):
            await enable_plugin(database, store.id, "night-theme")
    finally:
        await database.close()
    conn = await asyncpg.connect(asyncpg_dsn(test_database.admin_url))
    try:
        await conn.execute("UPDATE users SET password_hash = $1", password_hash())
        await conn.execute(
            "UPDATE stores SET settings = settings || $2::jsonb WHERE id = $1", bravo.id, json.dumps({"theme": NIGHT})
        )
        staff_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)", staff_id, STAFF_EMAIL, password_hash()
        )
        await conn.execute(
            "INSERT INTO store_members (id, store_id, user_id, role, permissions) VALUES ($1, $2, $3, 'staff', '{}')",
            uuid.uuid4(),
            alpha.id,
            staff_id,
        )
    finally:
        await conn.close()
    return alpha, bravo


def free_socket() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1 (handed to uvicorn, so no other process can take the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test run's signals stay pytest's
        return None


def start_server(tc_postgres_server: TestServer, template: str) -> tuple[LiveServer, Callable[[], None]]:
    """The app on a database of its own, seeded (see :func:`seed`), served by uvicorn on a thread; and what stops
    it (and drops the database)."""
    from tenantcommerce.app import create_app

    name = run_async(lambda: clone(tc_postgres_server, template))
    settings: Settings = settings_for_url(tc_postgres_server.database_url(name), log_format="json")
    assert settings.base_domain == BASE_DOMAIN, "Chromium maps the stores' hosts of BASE_DOMAIN to the server"
    database = TestDatabase(server=tc_postgres_server, name=name, settings=settings)
    stops: list[Callable[[], None]] = [lambda: run_async(lambda: drop(tc_postgres_server, name))]

    def stop() -> None:
        while stops:
            stops.pop()()

    try:
        alpha, bravo = run_async(lambda: seed(database))
        plugins = {"night-theme": NightThemePlugin(), TEST_CARD_PLUGIN: TestCardPayments(TEST_CARD)}
        app = create_app(settings, plugins=plugins)
        sock = free_socket()
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
        server = _ThreadServer(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
        thread.start()

        def stop_serving() -> None:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()

        stops.append(stop_serving)
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app under uvicorn did not start (see the captured log)")
            time.sleep(0.05)
    except BaseException:
        stop()
        raise
    return LiveServer(url=f"http://127.0.0.1:{port}", database=database, alpha=alpha, bravo=bravo), stop


class Shared:
    """The server, Playwright and Chromium the browser tests share: started by the first test that needs them and
    stopped after the last browser test of a run of them (:func:`pytest_runtest_teardown`), not at the end of the
    whole session. Playwright's sync API keeps its event loop marked as running on the main thread while it is
    open, which would break every later test calling ``asyncio.run``."""

    server: LiveServer | None = None
    stop_server: Callable[[], None] | None = None
    driver: Any = None
    playwright: Playwright | None = None
    browser: Browser | None = None
    order: Purchase | None = None

    @classmethod
    def live_server(cls, tc_postgres_server: TestServer, template: str) -> LiveServer:
        if cls.server is None:
            cls.server, cls.stop_server = start_server(tc_postgres_server, template)
        return cls.server

    @classmethod
    def chromium(cls) -> Browser:
        if cls.browser is None:
            if not Path(CHROMIUM).is_file():
                if os.environ.get("CI"):
                    pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
                pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set TC_CHROMIUM)")
            cls.driver = sync_playwright()
            cls.playwright = cls.driver.start()
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                # Stores' own hosts (``<slug>.shop.test``, subdomains of TC_BASE_DOMAIN) reach the test server.
                args=[f"--host-resolver-rules=MAP {BASE_DOMAIN} 127.0.0.1, MAP *.{BASE_DOMAIN} 127.0.0.1"],
            )
        return cls.browser

    @classmethod
    def close(cls) -> None:
        """Stop everything started (the browser first: it may hold requests to the server)."""
        try:
            if cls.browser is not None:
                cls.browser.close()
            if cls.playwright is not None:
                cls.playwright.stop()
        finally:
            cls.browser = cls.playwright = cls.driver = None
            cls.order = None
            stop, cls.server, cls.stop_server = cls.stop_server, None, None
            if stop is not None:
                stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the last browser test in a row (the next test lives elsewhere, or none is left), stop the shared
    server and browser."""
    try:
        yield
    finally:
        if nextitem is None or not nextitem.path.is_relative_to(HERE):
            Shared.close()


@pytest.fixture(scope="session")
def shared(tc_postgres_server: TestServer, tc_template_database: str) -> Iterator[type[Shared]]:
    """:class:`Shared`, closed at the latest when the session ends (before the kit's template database is dropped,
    which needs ``asyncio.run``)."""
    try:
        yield Shared
    finally:
        Shared.close()


@pytest.fixture
def live_server(shared: type[Shared], tc_postgres_server: TestServer, tc_template_database: str) -> LiveServer:
    """The app under uvicorn, shared by the browser tests (see :class:`Shared`)."""
    return shared.live_server(tc_postgres_server, tc_template_database)


# --- the browser -------------------------------------------------------------------------------------------------


@pytest.fixture
def chromium(shared: type[Shared]) -> Browser:
    """Debian's Chromium, headless, shared by the browser tests (see :class:`Shared`)."""
    return shared.chromium()


@pytest.fixture
def new_page(chromium: Browser) -> Iterator[Callable[..., Page]]:
    """``new_page(javascript=True, width=1280, height=900)``: a page in a new context (its own cookies), closed after
    the test."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True, width: int = 1280, height: int = 900) -> Page:
        context = chromium.new_context(
            java_script_enabled=javascript, viewport={"width": width, "height": height}, locale="en-GB"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.unroute_all(behavior="ignoreErrors")
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page with JavaScript on, in a context of this test's own."""
    return new_page()


@pytest.fixture
def page_nojs(new_page: Callable[..., Page]) -> Page:
    """A page with JavaScript off (plain forms, POST-redirect-GET)."""
    return new_page(javascript=False)


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``shoot(page, name)``: a full-page screenshot ``tests/browser/artifacts/<test>-<name>.png``."""

    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        path = ARTIFACTS / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- axe-core ----------------------------------------------------------------------------------------------------


@functools.cache
def axe_source() -> str:
    """axe-core (``frontend/build`` copies it to ``tests/browser/vendor/``; the npm package is the fallback)."""
    for path in (AXE, AXE_SOURCE):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"axe-core is missing: run frontend/build (it writes {AXE})")


def axe_violations(page: Page, impacts: frozenset[str] = frozenset({"serious", "critical"})) -> list[dict[str, Any]]:
    """axe-core's violations of the page's WCAG 2 A/AA rules with one of ``impacts``."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    return [violation for violation in result["violations"] if violation.get("impact") in impacts]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node: rule, impact, selector, axe's summary."""
    lines = []
    for violation in violations:
        for node in violation["nodes"][:5]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"{violation['id']} ({violation['impact']}) at {node['target']}: {summary}")
    return "\n".join(lines)


Known = frozenset[tuple[str, str]]
"""Violations a test accepts for now, as ``(rule id, CSS selector of the node)``: each one reported, to be fixed."""


def unknown_violations(violations: list[dict[str, Any]], known: Known) -> list[dict[str, Any]]:
    """``violations`` less the nodes listed in ``known`` (a violation with no node left is dropped)."""
    left = []
    for violation in violations:
        nodes = [node for node in violation["nodes"] if (violation["id"], " ".join(node["target"])) not in known]
        if nodes:
            left.append({**violation, "nodes": nodes})
    return left


@pytest.fixture
def axe() -> Callable[..., None]:
    """``axe(page, known=frozenset())``: fail on the page's serious or critical accessibility violations
    (axe-core, WCAG 2.1 AA), but those listed in ``known``."""

    def check(page: Page, known: Known = frozenset()) -> None:
        violations = unknown_violations(axe_violations(page), known)
        assert not violations, f"axe on {page.url}:\n{describe_violations(violations)}"

    return check


# --- flows -------------------------------------------------------------------------------------------------------


def sign_in_staff(page: Page, server: LiveServer, email: str, slug: str = "alpha") -> None:
    """Sign in through the dashboard's form and land on the store's overview."""
    page.goto(f"{server.url}/admin/login?next=/admin/{slug}/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"/admin/{slug}/$"))


@pytest.fixture
def sign_in(live_server: LiveServer) -> Callable[..., None]:
    """``sign_in(page, email, slug="alpha")``: see :func:`sign_in_staff`."""

    def go(page: Page, email: str, slug: str = "alpha") -> None:
        sign_in_staff(page, live_server, email, slug)

    return go


@dataclass(frozen=True)
class Purchase:
    """What a guest bought: the order number shown on the confirmation page."""

    order_number: int


Step = Callable[[Page, str], None]
"""Called at each page of a purchase with the page and the step's name (``product``, ``cart``, ``checkout``,
``checkout-saved``, ``confirmation``): for screenshots, axe and layout checks along the way."""


def fill_checkout(
    page: Page, server: LiveServer, slug: str, product: int, *, qty: int = 1, step: Step | None = None
) -> None:
    """A guest's purchase up to placing the order: product ``product`` (1-based) of store ``slug``, its small variant
    (``qty``), checkout with the address and the flat shipping rate chosen (the payment method is left to pick)."""
    at = step or (lambda page, name: None)
    page.goto(server.store_url(slug, f"/products/{slug}-product-{product}"))
    at(page, "product")
    page.get_by_label("Quantity").fill(str(qty))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart$"))
    expect(page.get_by_role("heading", name=f"{slug} product {product}")).to_be_visible()
    at(page, "cart")
    page.get_by_role("button", name="Check out").click()
    page.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+$"))
    at(page, "checkout")
    page.get_by_label("E-mail").fill(f"guest-{product}@example.com")
    page.get_by_label("Full name").fill(ADDRESS["name"])
    page.get_by_label("Address", exact=True).fill(ADDRESS["line1"])
    page.get_by_label("Postal code").fill(ADDRESS["postal_code"])
    page.get_by_label("City").fill(ADDRESS["city"])
    page.get_by_label("Country code").fill(ADDRESS["country"])
    page.get_by_role("button", name="Save").click()
    shipping = page.get_by_role("radio", name=re.compile("Standard"))
    expect(shipping).to_be_visible()
    at(page, "checkout-saved")
    shipping.check()


def buy_as_guest(
    page: Page, server: LiveServer, slug: str, product: int, *, qty: int = 1, step: Step | None = None
) -> Purchase:
    """:func:`fill_checkout`, then bank transfer; the confirmation page shown."""
    fill_checkout(page, server, slug, product, qty=qty, step=step)
    page.get_by_role("radio", name=re.compile("Bank transfer", re.IGNORECASE)).check()
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+/done$"))
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    if step is not None:
        step(page, "confirmation")
    number = page.locator("main p strong").first.inner_text()
    return Purchase(order_number=int(number))


@pytest.fixture
def checkout_to_pay(live_server: LiveServer) -> Callable[..., None]:
    """``checkout_to_pay(page, slug, product, qty=1)``: see :func:`fill_checkout`."""

    def go(page: Page, slug: str, product: int, *, qty: int = 1) -> None:
        fill_checkout(page, live_server, slug, product, qty=qty)

    return go


@pytest.fixture
def test_card() -> tuple[TestCardGateway, str]:
    """The live server's test card gateway (store ``alpha``) and the plugin id its webhooks are posted to."""
    return TEST_CARD, TEST_CARD_PLUGIN


@pytest.fixture
def buy(live_server: LiveServer) -> Callable[..., Purchase]:
    """``buy(page, slug, product, qty=1, step=None)``: see :func:`buy_as_guest`."""

    def go(page: Page, slug: str, product: int, *, qty: int = 1, step: Step | None = None) -> Purchase:
        return buy_as_guest(page, live_server, slug, product, qty=qty, step=step)

    return go


@pytest.fixture
def placed_order(live_server: LiveServer, chromium: Browser) -> Purchase:
    """An order of ``alpha`` (product 6, bought by a guest through the pages) for tests that need one to exist;
    bought once for the shared server."""
    if Shared.order is None:
        context = chromium.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        try:
            Shared.order = buy_as_guest(context.new_page(), live_server, "alpha", 6)
        finally:
            context.close()
    return Shared.order
