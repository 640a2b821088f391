"""Checkout completion: tenantcommerce as deployed vs a bare asyncpg reservation + order insert, in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/checkout.py
    BENCH_GATEWAY=stripe .venv/bin/python benchmarks/checkout.py  # card payments through the offline Stripe server

``TC_BENCH_DATABASE_URL`` names a Postgres server (a superuser that may create databases and roles), e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``; unset, the embedded server is started in a temporary directory. A
scratch database is created, migrated (core and the plugin packages' branches), seeded and dropped at the end.

What is measured is ``POST /api/storefront/{slug}/checkout/{id}/complete`` of checkouts that are ready (e-mail,
address, shipping, the payment method chosen; inserted by COPY beforehand, as ``tests/e2e/checkout``'s
``ready_checkouts`` does), sent by wrk (pinned to core 1) to one uvicorn worker of ``create_app`` (pinned to core 0)
with the plugin packages enabled: reserve, quote, tax, create the payment, place the order, mail the confirmation.
Only completed checkouts count, taken from the database afterwards (orders of the phase's checkouts):

* ``hot``: every checkout buys one unit of one variant. Its stock is set to ~75% of what the warm-up rate would sell in
  the phase, so it runs out and the rest must be refused; the rate is successes / time to the last success, and
  ``oversold`` = units sold of it minus its stock, floored at 0.
* ``spread``: each checkout buys one unit of a random one of 1,000 variants (plenty of stock).
* ``baseline`` (same run, a process pinned to core 0, no framework): asyncpg as the superuser (no RLS), per checkout
  one transaction of the conditional update ``inventory = inventory - 1 WHERE inventory - reserved >= 1`` on the hot
  (resp. a random) variant plus one ``orders`` insert; as many concurrent workers as wrk has connections, a pool of
  the app's size. ``ratio`` = hot / baseline hot.

``BENCH_GATEWAY`` says how the ready checkouts pay:

* ``manual`` (the default): bank transfer (manual-payments); the complete call places the order itself, as above.
* ``stripe``: card, through the ``stripe`` plugin against :class:`tenantcommerce_stripe.testing.FakeStripe`, which
  runs in this process (its server thread answers the app's API calls while the harness waits for wrk; the process
  is pinned to core 1, with wrk). The app gets ``TC_STRIPE_*`` pointing at it (platform fee 250 bp + 30); the store has
  the plugin enabled with an Express account made in the fake (``metadata[store_id]``, onboarding finished) and
  recorded in the plugin's state. A complete call creates a PaymentIntent (a destination charge) and answers
  ``awaiting_payment`` with a client secret; the order comes with the webhook. So every phase (warm-up, hot, spread)
  has two steps, both on the same worker:

  1. the complete calls, exactly as above; what counts is PaymentIntents recorded (checkouts awaiting payment with
     one; the fake must hold as many). ``hot``: the stock runs out here (it is reserved), later calls are refused.
  2. the webhooks: every PaymentIntent is marked succeeded in the fake, its ``payment_intent.succeeded`` event built
     and signed with the platform endpoint's secret just before the run (a run is capped at 240 s, inside the 300 s
     signature tolerance), and wrk posts the pre-signed bodies to ``POST /api/payments/stripe/webhook`` until every
     one is answered; a share ``BENCH_WEBHOOK_DUPLICATES`` (0.2) of the events is posted a second time, a few dozen
     places after the original, so some copies race it. Timed from the start to the last answer. Then every event
     is delivered once more, signed anew and not timed (Stripe's retries), and must be answered ``duplicate``.
     Afterwards the database must hold exactly one order and one payment per PaymentIntent, every event applied,
     the hot variant sold exactly its stock with nothing left reserved; anything else is printed as ``PROBLEM`` and
     the exit status is 1.

  The last line reports the **hot** phase, so that its ratio is defined as the manual mode's (orders per second end
  to end over the baseline's hot rate) and the sell-out, the oversell check and exactly-once placement all happen on
  one row: ``complete_per_s`` = PaymentIntents / time to the last one; ``webhook_per_s`` = webhook deliveries
  answered (first and duplicate) / webhook time; ``orders_per_s`` = orders / (complete time + webhook time), the
  rate at which one worker turns ready checkouts into orders when it serves both steps; ``ratio`` = ``orders_per_s``
  / baseline hot; ``duplicate_orders`` = orders or payments beyond one per PaymentIntent, over all phases. The spread
  phase's figures (the steady state, no sell-out) are printed above it.

Knobs (environment): ``BENCH_GATEWAY`` (``manual`` or ``stripe``), ``BENCH_DURATION`` (s per phase, 15),
``BENCH_WARMUP`` (s, 3), ``BENCH_CONNECTIONS`` (32), ``BENCH_THREADS`` (2), ``BENCH_POOL_SIZE`` (10),
``BENCH_IDEMPOTENCY`` (1: each complete sends an ``Idempotency-Key``, as a careful storefront does; 0: none),
``BENCH_WEBHOOK_DUPLICATES`` (``stripe``: the share of events delivered twice in the timed webhook run, 0 to 1, 0.2),
``BENCH_KEEP_LOGS`` (1: keep the temporary directory).

The last line of output is ``checkout hot_per_s=<x> spread_per_s=<y> baseline_per_s=<b> ratio=<r> oversold=<n>``
(``manual``) or ``checkout gateway=stripe complete_per_s=<x> webhook_per_s=<y> orders_per_s=<z> baseline_per_s=<b>
ratio=<r> oversold=<n> duplicate_orders=<n>`` (``stripe``).
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
import resource
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
GATEWAY = os.environ.get("BENCH_GATEWAY", "manual")
DUPLICATES = float(os.environ.get("BENCH_WEBHOOK_DUPLICATES", "0.2"))

CLIENT_CORE = "1"
SLUG = "bench"
CURRENCY = "EUR"
SPREAD_VARIANTS = 1_000
PLENTY = 1_000_000_000
ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}
IBAN = "DE89370400440532013000"
BASELINE_ORDER_NUMBERS = 100_000_000  # each baseline run numbers from its own multiple: far above the app's counter
PAYMENT_METHODS = {"manual": "bank-transfer", "stripe": "stripe"}


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
    stripe_account: str | None = None


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


async def seed(url: URL, workdir: Path, fake: Any = None) -> Shop:
    """One store selling with the three plugin packages (and Stripe, with a connected account in ``fake``, when
    given); 1,000 spread variants, the hot one, the baseline's own."""
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
        if fake is not None:
            import _stripe

            account = await _stripe.connect_store(database, fake, store.id)
    finally:
        await database.close()

    rng = random.Random(20_261_127)
    products, variants = [], []
    shop = Shop(store_id=store.id, rate_id=str(rate.id), hot=new_id(), baseline_hot=new_id(), spread=[])
    if fake is not None:
        shop.stripe_account = account
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
    """One guest cart frozen into a ready checkout per entry of ``variants`` (one unit of it), paying with the
    ``BENCH_GATEWAY``'s method; ``[(token, id)]``."""
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
                          json.dumps([line]), address, choice, PAYMENT_METHODS[GATEWAY]))  # fmt: skip
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
    harness_cpu: float = 0.0  # seconds of CPU this process used (the fake Stripe's thread, BENCH_GATEWAY=stripe)
    outcomes: dict[str, int] = field(default_factory=dict)  # webhook runs: the receipts' outcomes

    def per_checkout(self, completed: int, what: str = "checkout") -> str:
        if not completed:
            return f"no {what} completed"
        fake = f", fake stripe {self.harness_cpu / completed * 1000:.1f} ms" if GATEWAY == "stripe" else ""
        return (
            f"cpu per {what}: server {self.server_cpu / completed * 1000:.1f} ms, "
            f"postgres {self.pg_cpu / completed * 1000:.1f} ms{fake} | other load {self.other_pct:.0f}%"
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
    before, own_before = CpuSnapshot.take(server.process.pid, database), _own_cpu()
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    return _load(out, started, float(seconds), server, database, before, own_before)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load(
    out: str, started: float, seconds: float, server: Server, database: str, before: CpuSnapshot, own_before: float
) -> Load:
    """What one wrk run reported (its output ``out``), with the CPU used since ``before``."""
    after, own = CpuSnapshot.take(server.process.pid, database), _own_cpu() - own_before
    server_cpu = after.server - before.server
    pg_cpu = sum(cpu - before.backends.get(pid, 0.0) for pid, cpu in after.backends.items())
    other = (after.busy - before.busy) - server_cpu - pg_cpu - (after.children - before.children) - own
    statuses = {int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", out, re.MULTILINE)}
    outcomes = {name: int(n) for name, n in re.findall(r"^outcome (\w+) (\d+)$", out, re.MULTILINE)}
    spare = re.search(r"^spare (\d+)$", out, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and sum(int(n) for n in errors.groups()):
        raise RuntimeError(f"wrk reported socket errors:\n{out}")
    return Load(
        started=started,
        seconds=seconds,
        statuses=statuses,
        spare=int(spare.group(1)) if spare else 0,
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        server_cpu=server_cpu,
        pg_cpu=pg_cpu,
        other_pct=max(other, 0.0) / ((after.at - before.at) * (os.cpu_count() or 1)) * 100,
        harness_cpu=own,
        outcomes=outcomes,
    )


def wrk_until_done(server: Server, script: Path, markers: Path, database: str, cap: int) -> Load:
    """Run a webhook script (:data:`_stripe.WEBHOOK_LUA`) until every thread has had all its deliveries answered
    (each writes ``markers/done-<n>``; wrk is then stopped with SIGINT), at most ``cap`` seconds. ``seconds`` is
    the time from the start to the last thread's last answer."""
    for marker in markers.glob("done-*"):
        marker.unlink()
    command = [
        "taskset", "-c", CLIENT_CORE, "wrk",
        "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{cap}s", "--timeout", "30s", "--latency",
        "-s", str(script), server.base,
    ]  # fmt: skip
    started = time.time()
    before, own_before = CpuSnapshot.take(server.process.pid, database), _own_cpu()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done: list[Path] = []
    try:
        while process.poll() is None:
            done = list(markers.glob("done-*"))
            if len(done) >= THREADS:
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.02)
        out, err = process.communicate(timeout=cap + 120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{err}\n{out}")
    complete = len(done) >= THREADS
    finished = max(marker.stat().st_mtime for marker in done) if complete else time.time()
    load = _load(out, started, finished - started, server, database, before, own_before)
    if not complete:
        log(f"  note: not every webhook was answered within {cap}s")
    return load


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


@dataclass
class Bench:
    """What the phases share."""

    dsn: str
    database: str
    shop: Shop
    app: Server
    workdir: Path
    rng: random.Random
    warm: list[tuple[str, UUID]]
    fake: Any = None  # the FakeStripe (BENCH_GATEWAY=stripe)
    deliveries_rng: random.Random = field(default_factory=lambda: random.Random(13))  # the webhooks' order


@dataclass
class ManualResult:
    hot_per_s: float
    spread_per_s: float
    oversold: int


@dataclass
class StripeResult:
    complete_per_s: float  # hot: PaymentIntents created per second (complete calls answered awaiting_payment)
    webhook_per_s: float  # hot: webhook deliveries (first and duplicate) answered per second
    orders_per_s: float  # hot: orders / (complete time + webhook time), end to end
    oversold: int
    duplicate_orders: int  # all phases
    problems: list[str]


def main() -> int:
    if GATEWAY not in PAYMENT_METHODS:
        raise SystemExit(f"BENCH_GATEWAY must be one of {', '.join(PAYMENT_METHODS)}, not {GATEWAY!r}")
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
    fake = None
    try:
        env: dict[str, str] = {}
        if GATEWAY == "stripe":
            import _stripe

            # This process serves the app's Stripe calls (the fake's thread) while it waits for wrk: keep it off the
            # server's core, on the client's (the app and the baseline are pinned by taskset anyway).
            os.sched_setaffinity(0, {int(CLIENT_CORE)})
            fake = _stripe.start_fake()
            env = _stripe.app_env(fake)
        asyncio.run(admin.create_database(server, database))
        step = time.perf_counter()
        asyncio.run(migrate(url, workdir))
        shop = asyncio.run(seed(url, workdir, fake))
        log(f"migrated and seeded in {time.perf_counter() - step:.1f}s: one store, {len(shop.spread) + 2:,} variants; "
            f"postgres {shop.server_version}")  # fmt: skip
        if fake is not None:
            log(f"stripe: the offline server at {fake.api_base} (a thread of this process, pinned to core "
                f"{CLIENT_CORE}); connected account {shop.stripe_account}; platform fee {_stripe.FEE_BP} bp + "
                f"{_stripe.FEE_FIXED}; the ready checkouts pay with 'stripe'")  # fmt: skip
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
                **env,
            },
            workdir / "app.log",
        )
        wait_ready(app, "/health")
        keys = "sent" if IDEMPOTENCY else "not sent"
        log(f"app: uvicorn, 1 worker, pinned to core {SERVER_CORE}; wrk -t{THREADS} -c{CONNECTIONS} pinned to core "
            f"{CLIENT_CORE}; pool size {POOL_SIZE}; Idempotency-Key {keys}")  # fmt: skip

        bench = Bench(dsn=dsn, database=database, shop=shop, app=app, workdir=workdir, rng=rng, warm=warm, fake=fake)
        result = stripe_phases(bench) if fake is not None else manual_phases(bench)
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
        if fake is not None:
            fake.stop()
        try:
            asyncio.run(admin.drop_database(server, database))
        except Exception as exc:  # report, but do not hide the original error
            log(f"could not drop {database}: {exc}")
        if keep:
            log(f"logs kept in {workdir}")
        log(f"total time {time.perf_counter() - started:.0f}s")
    if isinstance(result, StripeResult):
        ratio = result.orders_per_s / baseline_per_s if baseline_per_s else float("nan")
        for problem in result.problems:
            log(f"PROBLEM: {problem}")
        print(
            f"checkout gateway=stripe complete_per_s={result.complete_per_s:.1f} "
            f"webhook_per_s={result.webhook_per_s:.1f} orders_per_s={result.orders_per_s:.1f} "
            f"baseline_per_s={baseline_per_s:.1f} ratio={ratio:.3f} oversold={result.oversold} "
            f"duplicate_orders={result.duplicate_orders}",
            flush=True,
        )
        return 1 if result.problems else 0
    ratio = result.hot_per_s / baseline_per_s if baseline_per_s else float("nan")
    print(
        f"checkout hot_per_s={result.hot_per_s:.1f} spread_per_s={result.spread_per_s:.1f} "
        f"baseline_per_s={baseline_per_s:.1f} ratio={ratio:.3f} oversold={result.oversold}",
        flush=True,
    )
    return 0


def manual_phases(bench: Bench) -> ManualResult:
    """``BENCH_GATEWAY=manual``: bank transfer; the complete call places the order itself."""
    dsn, database, shop, app, workdir = bench.dsn, bench.database, bench.shop, bench.app, bench.workdir
    load = wrk(app, write_lua(workdir / "warm.lua", bench.warm), WARMUP, database)
    check_statuses("warm-up", load, {200})
    warm_rate = asyncio.run(outcome(dsn, shop, bench.warm)).completed / WARMUP
    log(f"warm-up: {warm_rate:,.0f} completed/s over {WARMUP}s")

    hot_stock, hot_set, spread_set = _prepare(bench, warm_rate)
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
    return ManualResult(hot_per_s=hot_per_s, spread_per_s=spread_per_s, oversold=oversold)


def _prepare(bench: Bench, warm_rate: float) -> tuple[int, list[tuple[str, UUID]], list[tuple[str, UUID]]]:
    """The hot variant's stock (~75 % of what the warm-up rate sells in a phase) and the hot and spread checkouts."""
    dsn, shop = bench.dsn, bench.shop
    plenty = max(int(warm_rate * DURATION * 3), 500)
    hot_stock = max(int(warm_rate * DURATION * 0.75), 50)
    # Refusals once the stock is gone are quick: enough checkouts that wrk never runs out.
    hot_set = asyncio.run(ready_checkouts(dsn, shop, [shop.hot] * (hot_stock + 400 * DURATION)))
    spread_set = asyncio.run(ready_checkouts(dsn, shop, [bench.rng.choice(shop.spread) for _ in range(plenty)]))
    asyncio.run(_set_stock(dsn, shop.hot, hot_stock))
    log(f"prepared {len(hot_set):,} + {plenty:,} ready checkouts (hot, spread); the hot variant's stock is "
        f"{hot_stock:,}")  # fmt: skip
    return hot_stock, hot_set, spread_set


# --------------------------------------------------------------------------------------------------------------------
# BENCH_GATEWAY=stripe: the complete calls create PaymentIntents; the orders come with the webhooks


@dataclass
class Webhooks:
    """One phase's webhook step."""

    deliveries: int  # measured run: each event once, a share twice
    seconds: float  # measured run: from its start to its last answer
    orders: int
    duplicate_orders: int
    problems: list[str]

    @property
    def per_s(self) -> float:
        return self.deliveries / max(self.seconds, 1e-3)


def stripe_phases(bench: Bench) -> StripeResult:
    """``BENCH_GATEWAY=stripe``: each phase runs its complete calls (PaymentIntents created), then its webhooks."""
    import _stripe

    dsn, database, shop, app, workdir = bench.dsn, bench.database, bench.shop, bench.app, bench.workdir
    problems: list[str] = []
    load = wrk(app, write_lua(workdir / "warm.lua", bench.warm), WARMUP, database)
    check_statuses("warm-up", load, {200})
    warm = asyncio.run(_stripe.intents_of(dsn, bench.warm, bench.fake))
    # The hot stock is sized from the calls answered within the warm-up: with ~0.7 s per call, the 32 still running
    # when wrk stops (they finish afterwards) would overstate a 3 s rate so much that the stock might not run out.
    warm_rate = load.statuses.get(200, 0) / WARMUP
    log(f"warm-up: {len(warm.by_checkout):,} PaymentIntents, {warm_rate:,.0f}/s answered within {WARMUP}s")
    warm_hooks = webhooks(bench, "warm-up", warm)
    problems += warm_hooks.problems

    hot_stock, hot_set, spread_set = _prepare(bench, warm_rate)
    hot_load = wrk(app, write_lua(workdir / "hot.lua", hot_set), DURATION, database)
    check_statuses("hot", hot_load, {200, 422})
    hot = asyncio.run(_stripe.intents_of(dsn, hot_set, bench.fake))
    held = asyncio.run(_stock(dsn, shop.hot))
    ran_out = len(hot.by_checkout) >= hot_stock
    window = (hot.last_created - hot_load.started) if ran_out and hot.last_created else hot_load.seconds
    complete_per_s = len(hot.by_checkout) / max(window, 1e-3)
    log(f"hot:    {len(hot.by_checkout):,} PaymentIntents ({complete_per_s:,.0f}/s over {window:.1f}s"
        f"{', then sold out' if ran_out else ''}); answers {dict(sorted(hot_load.statuses.items()))}; "
        f"p50 {hot_load.p50_ms:.0f} ms, p99 {hot_load.p99_ms:.0f} ms; the hot variant: inventory {held[0]:,}, "
        f"reserved {held[1]:,}")  # fmt: skip
    log(f"        {hot_load.per_checkout(len(hot.by_checkout), 'PaymentIntent')}")
    if not ran_out:
        log("  note: the hot stock did not run out (the hot phase was slower than the warm-up)")
    _check_intents("hot", hot, problems)
    if held[1] > hot_stock:
        problems.append(f"hot: {held[1]} units reserved of a stock of {hot_stock}")
    hot_hooks = webhooks(bench, "hot", hot)
    problems += hot_hooks.problems
    placed = asyncio.run(outcome(dsn, shop, hot_set))
    oversold = max(placed.units_of_hot - hot_stock, 0)
    orders_per_s = hot_hooks.orders / max(window + hot_hooks.seconds, 1e-3)
    log(f"hot end to end: {hot_hooks.orders:,} orders in {window:.1f}s of complete calls + {hot_hooks.seconds:.1f}s "
        f"of webhooks: {orders_per_s:,.1f} orders/s")  # fmt: skip

    spread_load = wrk(app, write_lua(workdir / "spread.lua", spread_set), DURATION, database)
    check_statuses("spread", spread_load, {200})
    spread = asyncio.run(_stripe.intents_of(dsn, spread_set, bench.fake))
    spread_per_s = len(spread.by_checkout) / spread_load.seconds
    log(f"spread: {len(spread.by_checkout):,} PaymentIntents ({spread_per_s:,.0f}/s over "
        f"{spread_load.seconds:.0f}s); p50 {spread_load.p50_ms:.0f} ms, p99 {spread_load.p99_ms:.0f} ms")  # fmt: skip
    log(f"        {spread_load.per_checkout(len(spread.by_checkout), 'PaymentIntent')}")
    if spread_load.spare:
        log(f"  note: wrk ran out of ready checkouts ({spread_load.spare} spare requests): a lower bound")
    _check_intents("spread", spread, problems)
    spread_hooks = webhooks(bench, "spread", spread)
    problems += spread_hooks.problems
    spread_orders_per_s = spread_hooks.orders / max(spread_load.seconds + spread_hooks.seconds, 1e-3)
    log(f"spread end to end: {spread_hooks.orders:,} orders in {spread_load.seconds:.0f}s of complete calls + "
        f"{spread_hooks.seconds:.1f}s of webhooks: {spread_orders_per_s:,.1f} orders/s")  # fmt: skip

    stock = asyncio.run(_stock(dsn, shop.hot))
    log(f"hot variant after the run: inventory {stock[0]:,} (of {hot_stock:,}), reserved {stock[1]}; "
        f"sold {placed.units_of_hot:,}; oversold {oversold}")  # fmt: skip
    if oversold:
        problems.append(f"hot: {oversold} units oversold")
    if stock[1]:
        problems.append(f"hot: {stock[1]} units still reserved after every PaymentIntent's webhook")
    duplicates = warm_hooks.duplicate_orders + hot_hooks.duplicate_orders + spread_hooks.duplicate_orders
    return StripeResult(
        complete_per_s=complete_per_s,
        webhook_per_s=hot_hooks.per_s,
        orders_per_s=orders_per_s,
        oversold=oversold,
        duplicate_orders=duplicates,
        problems=problems,
    )


def _check_intents(name: str, intents: Any, problems: list[str]) -> None:
    if intents.in_fake != len(intents.by_checkout):
        problems.append(
            f"{name}: the fake holds {intents.in_fake} PaymentIntents of these checkouts, the database "
            f"{len(intents.by_checkout)} checkouts awaiting one"
        )


def webhooks(bench: Bench, name: str, intents: Any) -> Webhooks:
    """Mark every PaymentIntent of ``intents`` succeeded, post its signed ``payment_intent.succeeded`` event (a
    share ``BENCH_WEBHOOK_DUPLICATES`` twice) and measure that run; then deliver every event once more (signed
    anew, not measured), and count from the database what came of it."""
    import _stripe

    problems: list[str] = []
    events = _stripe.succeed(bench.fake, intents)
    if not events:
        return Webhooks(0, 0.0, 0, 0, [f"{name}: no PaymentIntent to pay"])
    markers = bench.workdir / "markers"
    markers.mkdir(exist_ok=True)
    slug = name.replace("-", "")
    deliveries = bench.workdir / f"{slug}-webhooks.txt"
    script = _stripe.write_webhook_lua(bench.workdir / f"{slug}-webhooks.lua", deliveries, markers, THREADS)

    sent = _stripe.write_deliveries(deliveries, events, DUPLICATES, bench.deliveries_rng)
    load = wrk_until_done(bench.app, script, markers, bench.database, _stripe.WEBHOOK_RUN_CAP)
    check_statuses(f"{name} webhooks", load, {200})
    answered = sum(load.statuses.values())
    settled = asyncio.run(_stripe.settlement(bench.dsn, intents))
    outcomes = dict(sorted(load.outcomes.items()))
    log(f"{name} webhooks: {len(events):,} events + {sent - len(events):,} duplicates delivered, {answered:,} "
        f"answered in {load.seconds:.1f}s ({answered / max(load.seconds, 1e-3):,.0f}/s; "
        f"{settled.orders / max(load.seconds, 1e-3):,.0f} orders placed/s); outcomes {outcomes}; "
        f"p50 {load.p50_ms:.0f} ms, p99 {load.p99_ms:.0f} ms")  # fmt: skip
    log(f"        {load.per_checkout(settled.orders, 'order')}")
    if answered != sent:
        problems.append(f"{name}: {sent - answered} of {sent} webhook deliveries were not answered")

    # Stripe delivers again (a retry, a second endpoint): every event once more, signed anew. Not measured.
    _stripe.write_deliveries(deliveries, events, 0.0, bench.deliveries_rng)
    again = wrk_until_done(bench.app, script, markers, bench.database, _stripe.WEBHOOK_RUN_CAP)
    check_statuses(f"{name} redelivery", again, {200})
    settled = asyncio.run(_stripe.settlement(bench.dsn, intents))
    log(f"        redelivered {len(events):,}: outcomes {dict(sorted(again.outcomes.items()))}; orders "
        f"{settled.orders:,} for {len(events):,} PaymentIntents ({settled.ordered_checkouts:,} checkouts, "
        f"{settled.payments:,} payments), {settled.completed:,} checkouts completed; payment_events "
        f"{dict(sorted(settled.events.items()))}")  # fmt: skip
    if settled.ordered_checkouts != len(events):
        problems.append(f"{name}: {len(events) - settled.ordered_checkouts} PaymentIntents paid without an order")
    if settled.duplicates:
        problems.append(f"{name}: {settled.duplicates} duplicate orders or payments")
    if set(settled.events) - {"applied"}:
        problems.append(f"{name}: payment events not applied: {settled.events}")
    if again.outcomes.get("duplicate", 0) != len(events) and load.outcomes.get("applied", 0) == len(events):
        problems.append(f"{name}: the redelivery was not answered 'duplicate' for every event: {again.outcomes}")
    return Webhooks(
        deliveries=answered,
        seconds=load.seconds,
        orders=settled.ordered_checkouts,
        duplicate_orders=settled.duplicates,
        problems=problems,
    )


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
