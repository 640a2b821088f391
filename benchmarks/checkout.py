"""Checkout completion: tenantcommerce as deployed vs a bare asyncpg reservation + order insert, in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/checkout.py

``TC_BENCH_DATABASE_URL`` names a Postgres server (a superuser that may create databases and roles), e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``; unset, the embedded server is started in a temporary directory. A
scratch database is created, migrated (core and the plugin packages' branches), seeded and dropped at the end.

What is measured is ``POST /api/storefront/{slug}/checkout/{id}/complete`` of checkouts that are ready (e-mail,
address, shipping, bank transfer chosen; inserted by COPY beforehand, as ``tests/e2e/checkout``'s ``ready_checkouts``
does), sent by wrk (pinned to core 1) to one uvicorn worker of ``create_app`` (pinned to core 0) with the three plugin
packages enabled: reserve, quote, tax, create the manual payment, place the order, mail the confirmation. Only
completed checkouts count, taken from the database afterwards (orders of the phase's checkouts):

* ``hot``: every checkout buys one unit of one variant. Its stock is set to ~75% of what the warm-up rate would sell in
  the phase, so it runs out and the rest must be refused; the rate is successes / time to the last success, and
  ``oversold`` = units sold of it minus its stock, floored at 0.
* ``spread``: each checkout buys one unit of a random one of 1,000 variants (plenty of stock).
* ``baseline`` (same run, a process pinned to core 0, no framework): asyncpg as the superuser (no RLS), per checkout
  one transaction of the conditional update ``inventory = inventory - 1 WHERE inventory - reserved >= 1`` on the hot
  (resp. a random) variant plus one ``orders`` insert; as many concurrent workers as wrk has connections, a pool of
  the app's size. ``ratio`` = hot / baseline hot.

Knobs (environment): ``BENCH_DURATION`` (s per phase, 15), ``BENCH_WARMUP`` (s, 3), ``BENCH_CONNECTIONS`` (32),
``BENCH_THREADS`` (2), ``BENCH_POOL_SIZE`` (10), ``BENCH_IDEMPOTENCY`` (1: each complete sends an ``Idempotency-Key``,
as a careful storefront does; 0: none), ``BENCH_KEEP_LOGS`` (1: keep the temporary directory).

The last line of output is ``checkout hot_per_s=<x> spread_per_s=<y> baseline_per_s=<b> ratio=<r> oversold=<n>``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import importlib.util
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.engine import URL

sys.path.insert(0, str(Path(__file__).resolve().parent))
from storefront_read import (
    PYTHON,
    SECRET_KEY,
    SERVER_CORE,
    CpuSnapshot,
    Server,
    log,
    machine,
    server_url,
    start_server,
    stop_server,
    wait_ready,
)

from tenantcommerce.db import admin
from tenantcommerce.db.base import new_id
from tenantcommerce.db.urls import asyncpg_dsn, describe
from tenantcommerce.testing.postgres import unique_name

DURATION = int(os.environ.get("BENCH_DURATION", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))
IDEMPOTENCY = os.environ.get("BENCH_IDEMPOTENCY", "1") == "1"

CLIENT_CORE = "1"
SLUG = "bench"
CURRENCY = "EUR"
SPREAD_VARIANTS = 1_000
PLENTY = 1_000_000_000
ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}
IBAN = "DE89370400440532013000"
BASELINE_ORDER_NUMBERS = 100_000_000  # each baseline run numbers from its own multiple: far above the app's counter


# --------------------------------------------------------------------------------------------------------------------
# Database: scratch database, migrations (core and plugins), the store, the catalog, ready checkouts


@dataclass
class Shop:
    """What the phases need to know about the seeded store."""

    store_id: UUID
    rate_id: str
    hot: UUID
    baseline_hot: UUID
    spread: list[UUID]
    prices: dict[UUID, int] = field(default_factory=dict)
    names: dict[UUID, tuple[UUID, str, str]] = field(default_factory=dict)  # variant -> (product, sku, name)
    server_version: str = "?"


def _settings(url: URL, workdir: Path) -> Any:
    from tenantcommerce.settings import Settings

    return Settings.from_env(
        {},
        database_url=url.render_as_string(hide_password=False),
        database_runtime_password=os.environ.get("TC_DATABASE_RUNTIME_PASSWORD") or None,
        data_dir=workdir / "tc-data",
    )


async def migrate(url: URL, workdir: Path) -> None:
    """Core migrations and every installed plugin's branch, as ``tenantcommerce db upgrade`` runs them."""
    from tenantcommerce.db.migrate import Migrations
    from tenantcommerce.plugins.host import PluginHost

    settings = _settings(url, workdir)
    host = PluginHost.from_settings(settings)
    missing = {"manual-payments", "shipping-rates", "tax-rates"} - set(host.plugin_ids())
    if missing:
        raise RuntimeError(f"install the plugin packages first (missing: {', '.join(sorted(missing))})")
    await Migrations(settings, extra_locations=host.migration_locations).upgrade()


async def seed(url: URL, workdir: Path) -> Shop:
    """One store selling with the three plugin packages; 1,000 spread variants, the hot one, the baseline's own."""
    from tenantcommerce_shipping_rates.rates import RateInput
    from tenantcommerce_shipping_rates.storage import create_rate as create_shipping_rate
    from tenantcommerce_tax_rates.admin import create_rate as create_tax_rate
    from tenantcommerce_tax_rates.schemas import TaxRateInput

    from tenantcommerce.db.database import Database, resolve_urls
    from tenantcommerce.tenancy.context import use_store
    from tenantcommerce.tenancy.services import create_store
    from tenantcommerce.testing.plugins import enable_plugin

    urls = await resolve_urls(_settings(url, workdir))
    database = Database(urls.runtime, pool_size=2)
    await database.connect()
    try:
        store = await create_store(database, slug=SLUG, name="Bench", currency=CURRENCY, owner_email="o@bench.test")
        bank = {"bank_transfer": {"account_holder": "Bench", "iban": IBAN}}
        await enable_plugin(database, store.id, "manual-payments", config=bank)
        await enable_plugin(database, store.id, "shipping-rates")
        await enable_plugin(database, store.id, "tax-rates")
        async with database.store_transaction(store.id, readonly=False) as conn:
            rate = await create_shipping_rate(conn, store.id, RateInput(name="Standard", amount_minor=500), CURRENCY)
        with use_store(store):
            async with database.session() as session:
                await create_tax_rate(session, store.id, TaxRateInput(name="VAT", country="DE", rate_bp=1900), None)
                await session.commit()
    finally:
        await database.close()

    rng = random.Random(20_261_127)
    products, variants = [], []
    shop = Shop(store_id=store.id, rate_id=str(rate.id), hot=new_id(), baseline_hot=new_id(), spread=[])
    for n in range(SPREAD_VARIANTS // 10 + 1):
        product_id = new_id()
        name = "Hot seller" if n == 0 else f"Product {n}"
        products.append((store.id, product_id, name, f"product-{n}", "", "active"))
        ids = [shop.hot, shop.baseline_hot] if n == 0 else [new_id() for _ in range(10)]
        for position, variant_id in enumerate(ids):
            sku, price = f"P{n:03d}-{position}", rng.randrange(500, 20_000, 100)
            variants.append((store.id, variant_id, product_id, sku, f"Size {position}", price, CURRENCY, PLENTY,
                             "{}", position))  # fmt: skip
            shop.prices[variant_id] = price
            shop.names[variant_id] = (product_id, sku, name)
            if n:
                shop.spread.append(variant_id)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        shop.server_version = await conn.fetchval("SHOW server_version")
        async with conn.transaction():
            await conn.copy_records_to_table(
                "products", records=products, columns=["store_id", "id", "name", "slug", "description", "status"]
            )
            await conn.copy_records_to_table(
                "product_variants",
                records=variants,
                columns=["store_id", "id", "product_id", "sku", "title", "price_minor", "currency", "inventory",
                         "attributes", "position"],
            )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return shop


async def ready_checkouts(dsn: str, shop: Shop, variants: list[UUID]) -> list[tuple[str, UUID]]:
    """One guest cart frozen into a ready checkout per entry of ``variants`` (one unit of it); ``[(token, id)]``."""
    choice = json.dumps({"carrier_id": "rate-table", "rate_id": shop.rate_id, "name": "Standard", "amount_minor": 500})
    address = json.dumps(ADDRESS)
    carts, items, checkouts, made = [], [], [], []
    for variant in variants:
        token, cart_id, checkout_id = secrets.token_urlsafe(32), new_id(), new_id()
        token_hash = hashlib.sha256(token.encode()).digest()
        product_id, sku, name = shop.names[variant]
        line = {"variant_id": str(variant), "product_id": str(product_id), "sku": sku, "product_name": name,
                "variant_title": "Size", "qty": 1, "unit_price_minor": shop.prices[variant]}  # fmt: skip
        carts.append((shop.store_id, cart_id, token_hash))
        items.append((shop.store_id, new_id(), cart_id, variant, 1, shop.prices[variant]))
        checkouts.append((shop.store_id, checkout_id, cart_id, token_hash, CURRENCY, "ada@example.com",
                          json.dumps([line]), address, choice, "bank-transfer"))  # fmt: skip
        made.append((token, checkout_id))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("carts", records=carts, columns=["store_id", "id", "token_hash"])
            await conn.copy_records_to_table(
                "cart_items",
                records=items,
                columns=["store_id", "id", "cart_id", "variant_id", "qty", "unit_price_minor"],
            )
            await conn.copy_records_to_table(
                "checkouts",
                records=checkouts,
                columns=["store_id", "id", "cart_id", "cart_token_hash", "currency", "email", "lines",
                         "shipping_address", "shipping_choice", "payment_method"],
            )  # fmt: skip
        await conn.execute("ANALYZE carts, cart_items, checkouts")
    finally:
        await conn.close()
    return made


# --------------------------------------------------------------------------------------------------------------------
# Load: wrk, each checkout completed once (each thread has its own slice; a thread that runs out asks /health)


LUA_TEMPLATE = """
-- generated by benchmarks/checkout.py
local items = {
%(items)s
}
local threads_total = %(threads)d
local idempotency = %(idempotency)s
local counter = 0
local threads = {}

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local tid = tonumber(tid) or 0
    idx = math.floor(#items * tid / threads_total)
    last = math.floor(#items * (tid + 1) / threads_total)
    statuses = {}
    spare = 0
    sent_spare = false
end

function request()
    idx = idx + 1
    if idx > last then
        spare = spare + 1
        sent_spare = true
        return wrk.format("GET", "/health")
    end
    sent_spare = false
    local item = items[idx]
    local headers = {["X-Cart-Token"] = item[2]}
    if idempotency then headers["Idempotency-Key"] = "bench-" .. item[3] end
    return wrk.format("POST", "/api/storefront/%(slug)s/checkout/" .. item[3] .. "/complete", headers)
end

function response(status, headers, body)
    if not sent_spare then
        statuses[status] = (statuses[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local total, spares = {}, 0
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
        spares = spares + thread:get("spare")
    end
    for status, n in pairs(total) do io.write(string.format("status %%d %%d\\n", status, n)) end
    io.write(string.format("spare %%d\\n", spares))
end
"""


def write_lua(path: Path, made: list[tuple[str, UUID]]) -> Path:
    body = ",\n".join(f'  {{"", "{token}", "{checkout_id}"}}' for token, checkout_id in made)
    path.write_text(
        LUA_TEMPLATE
        % {"items": body, "threads": THREADS, "idempotency": "true" if IDEMPOTENCY else "false", "slug": SLUG}
    )
    return path


@dataclass
class Load:
    started: float
    seconds: float
    statuses: dict[int, int]
    spare: int
    p50_ms: float
    p99_ms: float
    server_cpu: float = 0.0  # seconds of CPU the uvicorn process used
    pg_cpu: float = 0.0  # seconds of CPU the scratch database's backends used
    other_pct: float = 0.0  # CPU other processes used meanwhile, % of the machine

    def per_checkout(self, completed: int) -> str:
        if not completed:
            return "no checkout completed"
        return (
            f"cpu per checkout: server {self.server_cpu / completed * 1000:.1f} ms, "
            f"postgres {self.pg_cpu / completed * 1000:.1f} ms | other load {self.other_pct:.0f}%"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(server: Server, script: Path, seconds: int, database: str) -> Load:
    command = [
        "taskset", "-c", CLIENT_CORE, "wrk",
        "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "30s", "--latency",
        "-s", str(script), server.base,
    ]  # fmt: skip
    started = time.time()
    before = CpuSnapshot.take(server.process.pid, database)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    after = CpuSnapshot.take(server.process.pid, database)
    server_cpu = after.server - before.server
    pg_cpu = sum(cpu - before.backends.get(pid, 0.0) for pid, cpu in after.backends.items())
    other = (after.busy - before.busy) - server_cpu - pg_cpu - (after.children - before.children)
    statuses = {int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", out, re.MULTILINE)}
    spare = re.search(r"^spare (\d+)$", out, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and sum(int(n) for n in errors.groups()):
        raise RuntimeError(f"wrk reported socket errors:\n{out}")
    return Load(
        started=started,
        seconds=float(seconds),
        statuses=statuses,
        spare=int(spare.group(1)) if spare else 0,
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        server_cpu=server_cpu,
        pg_cpu=pg_cpu,
        other_pct=max(other, 0.0) / ((after.at - before.at) * (os.cpu_count() or 1)) * 100,
    )


@dataclass
class Outcome:
    """What the database says a phase achieved."""

    completed: int
    units_of_hot: int
    last_placed: float | None


async def outcome(dsn: str, shop: Shop, made: list[tuple[str, UUID]]) -> Outcome:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM max(o.placed_at)) AS last, "
            "coalesce(sum(i.qty) FILTER (WHERE i.variant_id = $2), 0) AS hot "
            "FROM orders o JOIN order_items i ON i.store_id = o.store_id AND i.order_id = o.id "
            "WHERE o.checkout_id = ANY($1::uuid[])",
            [checkout_id for _, checkout_id in made],
            shop.hot,
        )
    finally:
        await conn.close()
    last = float(row["last"]) if row["last"] is not None else None
    return Outcome(completed=int(row["n"]), units_of_hot=int(row["hot"]), last_placed=last)


def check_statuses(name: str, load: Load, expected: set[int]) -> None:
    unexpected = {status: n for status, n in load.statuses.items() if status not in expected}
    if unexpected:
        raise RuntimeError(f"{name}: unexpected answers {unexpected} (see app.log)")


# --------------------------------------------------------------------------------------------------------------------
# Baseline: a process of its own (pinned like the server), asyncpg and nothing else


async def _baseline(
    dsn: str, store_id: UUID, variants: list[UUID], seconds: float, workers: int, first_number: int
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE, command_timeout=60)
    numbers = iter(range(first_number, first_number + 10**8))
    counts = {"ok": 0, "short": 0}
    stop = time.perf_counter() + seconds
    rng = random.Random(5)

    async def worker() -> None:
        while time.perf_counter() < stop:
            variant = variants[0] if len(variants) == 1 else rng.choice(variants)
            async with pool.acquire() as conn, conn.transaction():
                price = await conn.fetchval(
                    "UPDATE product_variants SET inventory = inventory - 1 "
                    "WHERE store_id = $1 AND id = $2 AND inventory - reserved >= 1 RETURNING price_minor",
                    store_id,
                    variant,
                )
                if price is None:
                    counts["short"] += 1
                    continue
                await conn.execute(
                    "INSERT INTO orders (store_id, id, order_number, email, currency, subtotal_minor, total_minor, "
                    "placed_at) VALUES ($1, $2, $3, 'ada@example.com', $4, $5, $5, now())",
                    store_id, new_id(), next(numbers), CURRENCY, price,
                )  # fmt: skip
            counts["ok"] += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        await pool.close()
    return {**counts, "seconds": time.perf_counter() - started}


def baseline_main(argv: list[str]) -> int:
    """``checkout.py --baseline <dsn> <store_id> <seconds> <workers> <first order number> <variant>...``: print the
    counts as JSON."""
    dsn, store_id, seconds, workers, first_number, *variants = argv
    if importlib.util.find_spec("uvloop"):
        import uvloop

        uvloop.install()
    result = asyncio.run(
        _baseline(dsn, UUID(store_id), [UUID(v) for v in variants], float(seconds), int(workers), int(first_number))
    )
    print(json.dumps(result), flush=True)
    return 0


_baseline_runs = iter(range(100))


def run_baseline(dsn: str, shop: Shop, variants: list[UUID], seconds: float) -> dict[str, Any]:
    command = ["taskset", "-c", SERVER_CORE, PYTHON, __file__, "--baseline", dsn, str(shop.store_id), str(seconds),
               str(CONNECTIONS), str(BASELINE_ORDER_NUMBERS * (2 + next(_baseline_runs))),
               *(str(v) for v in variants)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if done.returncode:
        raise RuntimeError(f"the baseline failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------------------------------------
# Main


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="tc_bench_checkout_"))
    workdir.chmod(0o755)  # the embedded server runs as another system user when we are root
    keep = os.environ.get("BENCH_KEEP_LOGS") == "1"
    if not keep:
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    log(machine())
    server, kind = server_url(workdir)
    database = unique_name("tc_bench")
    log(f"server: {describe(server)} ({kind}); scratch database {database}")
    url = server.set(database=database)
    dsn = asyncpg_dsn(url)
    app: Server | None = None
    try:
        asyncio.run(admin.create_database(server, database))
        step = time.perf_counter()
        asyncio.run(migrate(url, workdir))
        shop = asyncio.run(seed(url, workdir))
        log(f"migrated and seeded in {time.perf_counter() - step:.1f}s: one store, {len(shop.spread) + 2:,} variants; "
            f"postgres {shop.server_version}")  # fmt: skip
        rng = random.Random(11)
        warm = asyncio.run(ready_checkouts(dsn, shop, [rng.choice(shop.spread) for _ in range(3_000)]))

        app = start_server(
            "app",
            "_apps:real_app",
            {
                "TC_DATABASE_URL": url.render_as_string(hide_password=False),
                "TC_ENV": "production",
                "TC_SECRET_KEY": SECRET_KEY,
                "TC_LOG_FORMAT": "json",
                "TC_LOG_LEVEL": "INFO",
                "TC_DB_POOL_SIZE": str(POOL_SIZE),
                "TC_DATA_DIR": str(workdir / "tc-data"),
            },
            workdir / "app.log",
        )
        wait_ready(app, "/health")
        keys = "sent" if IDEMPOTENCY else "not sent"
        log(f"app: uvicorn, 1 worker, pinned to core {SERVER_CORE}; wrk -t{THREADS} -c{CONNECTIONS} pinned to core "
            f"{CLIENT_CORE}; pool size {POOL_SIZE}; Idempotency-Key {keys}")  # fmt: skip

        load = wrk(app, write_lua(workdir / "warm.lua", warm), WARMUP, database)
        check_statuses("warm-up", load, {200})
        warm_rate = asyncio.run(outcome(dsn, shop, warm)).completed / WARMUP
        log(f"warm-up: {warm_rate:,.0f} completed/s over {WARMUP}s")

        plenty = max(int(warm_rate * DURATION * 3), 500)
        hot_stock = max(int(warm_rate * DURATION * 0.75), 50)
        # Refusals once the stock is gone are quick: enough checkouts that wrk never runs out.
        hot_set = asyncio.run(ready_checkouts(dsn, shop, [shop.hot] * (hot_stock + 400 * DURATION)))
        spread_set = asyncio.run(ready_checkouts(dsn, shop, [rng.choice(shop.spread) for _ in range(plenty)]))
        asyncio.run(_set_stock(dsn, shop.hot, hot_stock))
        log(f"prepared {len(hot_set):,} + {plenty:,} ready checkouts (hot, spread); the hot variant's stock is "
            f"{hot_stock:,}")  # fmt: skip

        hot_load = wrk(app, write_lua(workdir / "hot.lua", hot_set), DURATION, database)
        check_statuses("hot", hot_load, {200, 422})
        hot = asyncio.run(outcome(dsn, shop, hot_set))
        ran_out = hot.units_of_hot >= hot_stock
        window = (hot.last_placed - hot_load.started) if ran_out and hot.last_placed else hot_load.seconds
        hot_per_s = hot.completed / max(window, 1e-3)
        oversold = max(hot.units_of_hot - hot_stock, 0)
        log(f"hot:    {hot.completed:,} completed ({hot_per_s:,.0f}/s over {window:.1f}s"
            f"{', then sold out' if ran_out else ''}); answers {dict(sorted(hot_load.statuses.items()))}; "
            f"p50 {hot_load.p50_ms:.0f} ms, p99 {hot_load.p99_ms:.0f} ms")  # fmt: skip
        log(f"        {hot_load.per_checkout(hot.completed)}")
        if hot_load.spare:
            log(f"  note: wrk ran out of ready checkouts ({hot_load.spare} spare requests)")

        commits_before = asyncio.run(_commits(dsn))
        spread_load = wrk(app, write_lua(workdir / "spread.lua", spread_set), DURATION, database)
        check_statuses("spread", spread_load, {200})
        spread = asyncio.run(outcome(dsn, shop, spread_set))
        spread_per_s = spread.completed / spread_load.seconds
        log(f"spread: {spread.completed:,} completed ({spread_per_s:,.0f}/s over {spread_load.seconds:.0f}s); "
            f"p50 {spread_load.p50_ms:.0f} ms, p99 {spread_load.p99_ms:.0f} ms")  # fmt: skip
        commits = asyncio.run(_commits(dsn)) - commits_before
        log(f"        {spread_load.per_checkout(spread.completed)}; "
            f"{commits / max(spread.completed, 1):.1f} transactions per checkout")  # fmt: skip
        if spread_load.spare:
            log(f"  note: wrk ran out of ready checkouts ({spread_load.spare} spare requests): a lower bound")

        stock = asyncio.run(_stock(dsn, shop.hot))
        log(f"hot variant after the run: inventory {stock[0]:,} (of {hot_stock:,}), reserved {stock[1]}; "
            f"oversold {oversold}")  # fmt: skip
        stop_server(app)
        app = None

        run_baseline(dsn, shop, [shop.baseline_hot], 2)  # warm-up
        base_hot = run_baseline(dsn, shop, [shop.baseline_hot], DURATION)
        base_spread = run_baseline(dsn, shop, shop.spread, DURATION)
        baseline_per_s = base_hot["ok"] / base_hot["seconds"]
        log(f"baseline: hot {baseline_per_s:,.0f}/s, spread {base_spread['ok'] / base_spread['seconds']:,.0f}/s "
            f"({CONNECTIONS} workers, pool {POOL_SIZE}, pinned to core {SERVER_CORE})")  # fmt: skip
    finally:
        if app is not None:
            stop_server(app)
        try:
            asyncio.run(admin.drop_database(server, database))
        except Exception as exc:  # report, but do not hide the original error
            log(f"could not drop {database}: {exc}")
        if keep:
            log(f"logs kept in {workdir}")
        log(f"total time {time.perf_counter() - started:.0f}s")
    ratio = hot_per_s / baseline_per_s if baseline_per_s else float("nan")
    print(
        f"checkout hot_per_s={hot_per_s:.1f} spread_per_s={spread_per_s:.1f} baseline_per_s={baseline_per_s:.1f} "
        f"ratio={ratio:.3f} oversold={oversold}",
        flush=True,
    )
    return 0


async def _commits(dsn: str) -> int:
    """Transactions committed in the scratch database so far (Postgres' statistics, flushed first)."""
    await asyncio.sleep(1.5)  # backends report their counts when idle, at most every second or so
    conn = await asyncio.wait_for(asyncpg.connect(dsn), 10)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    finally:
        await conn.close()
    return int(value)


async def _set_stock(dsn: str, variant: UUID, inventory: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE product_variants SET inventory = $2 WHERE id = $1", variant, inventory)
    finally:
        await conn.close()


async def _stock(dsn: str, variant: UUID) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", variant)
    finally:
        await conn.close()
    return int(row["inventory"]), int(row["reserved"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline":
        sys.exit(baseline_main(sys.argv[2:]))
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
