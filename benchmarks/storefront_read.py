"""Storefront read path: tenantcommerce as deployed vs a bare Litestar + asyncpg app running the same SQL.

Run from the repository root::

    .venv/bin/python benchmarks/storefront_read.py

``TC_BENCH_DATABASE_URL`` names a Postgres server (any database on it; the user must be a superuser that may create
databases and roles), e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``. Unset: the embedded server is started
in a temporary data directory. A scratch database is created, migrated, seeded by COPY (1,000 stores, 100,000
products, ~250,000 variants) and dropped at the end, also on failure.

Two uvicorn servers (one worker each, identical flags, pinned to core 0) are loaded in turn by wrk pinned to core 1:

* app: ``create_app`` as deployed: the runtime role under RLS (the store set transaction-locally before the catalog
  SQL runs), tenancy from the path slug, structlog JSON at INFO to a file, metrics, problem details, and whatever
  other middleware the app installs; ``TC_ENV=production``.
* bare: ``benchmarks/_apps.py:bare_app``, the same SQL strings on a superuser pool, no transaction, no set_config.

Each round runs every (case, side) once, app and bare back to back; the reported ratio is the median over rounds of
app/bare from the same round (best and median req/s of each side are printed too). CPU per request of the server
and of the Postgres backends, and the CPU that other processes used meanwhile, are read from /proc.

Knobs (environment): ``BENCH_DURATION`` (seconds per measured run, default 10), ``BENCH_WARMUP`` (default 3),
``BENCH_REPEATS`` (rounds, default 3), ``BENCH_CONNECTIONS`` (32), ``BENCH_THREADS`` (2), ``BENCH_POOL_SIZE`` (10),
``BENCH_BARE_RESET`` (``rollback`` or ``asyncpg``, see ``_apps.py``), ``BENCH_KEEP_LOGS`` (1: keep the temporary
directory with the server logs), ``BENCH_PROFILE`` (a path: record a py-spy profile of the app under the list load
after the measurements; ``.txt`` for collapsed stacks, else an SVG flame graph; needs ``py-spy``).

The last line of output is ``storefront_read list_ratio=<app/bare> detail_ratio=<app/bare>``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.client
import importlib.util
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from tenantcommerce.db import admin
from tenantcommerce.db.base import new_id
from tenantcommerce.db.migrate import Migrations
from tenantcommerce.db.urls import asyncpg_dsn, describe, parse
from tenantcommerce.settings import Settings
from tenantcommerce.testing.postgres import unique_name

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
PYTHON = sys.executable

STORES = 1_000
PRODUCTS_PER_STORE = 100
PAGE = 24
OFFSETS = (0, 24, 48, 72)
DETAIL_PATHS_PER_STORE = 8

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))
BARE_RESET = os.environ.get("BENCH_BARE_RESET", "rollback")  # or "asyncpg" (see benchmarks/_apps.py)

SERVER_CORE = "0"
CLIENT_CORE = "1"
HTTP_IMPL = "httptools" if importlib.util.find_spec("httptools") else "h11"
LOOP_IMPL = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
SECRET_KEY = secrets.token_urlsafe(32)
METRICS_TOKEN = secrets.token_urlsafe(24)

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD")
ADJECTIVES = ("classic", "organic", "everyday", "summit", "harbor", "alpine", "coastal", "urban", "vintage", "nordic")
NOUNS = ("t-shirt", "hoodie", "jacket", "beanie", "socks", "tote", "cap", "mug", "notebook", "candle", "scarf", "lamp")
SIZES = ("XS", "S", "M", "L", "XL")
COLOURS = ("black", "white", "navy", "olive", "sand", "red")


def log(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------------------------------------------------
# Database: server, scratch database, migration, seed


@dataclass
class Seeded:
    """What the load generator needs to know about the seeded catalog."""

    store_slugs: list[str]
    active: dict[str, list[str]]  # store slug -> active product slugs
    inactive: list[tuple[str, str]]  # (store slug, draft/archived product slug)
    counts: dict[str, int] = field(default_factory=dict)
    server_version: str = "?"


def server_url(workdir: Path) -> tuple[URL, str]:
    """The server to work on and what it is: TC_BENCH_DATABASE_URL, else the embedded server under ``workdir``."""
    configured = os.environ.get("TC_BENCH_DATABASE_URL", "").strip()
    if configured:
        return parse(configured, variable="TC_BENCH_DATABASE_URL"), "url"
    from tenantcommerce.db.embedded import start_embedded_server

    return start_embedded_server(workdir / "embedded"), "embedded"


def _product_rows(rng: random.Random, store_id: Any, store_index: int, currency: str) -> tuple[list, list, list, list]:
    products, variants, active, inactive = [], [], [], []
    price_scale = 100 if currency == "JPY" else 1
    for n in range(PRODUCTS_PER_STORE):
        product_id = new_id()
        adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        slug = f"{adjective}-{noun}-{n}"
        roll = rng.random()
        status = "active" if roll < 0.9 else ("draft" if roll < 0.95 else "archived")
        (active if status == "active" else inactive).append(slug)
        name = f"{adjective.title()} {noun.replace('-', ' ').title()} {n}"
        description = (
            f"The {adjective} {noun.replace('-', ' ')} from store {store_index}: made to last, easy to care for, "
            f"and shipped in recycled packaging. Item {n} of the collection."
        )
        products.append((store_id, product_id, name, slug, description, status))
        base_price = rng.randrange(500, 20_000, 100) * price_scale
        colour = rng.choice(COLOURS)
        for position in range(rng.choice((2, 2, 3))):
            size = SIZES[position + 1]
            variants.append(
                (
                    store_id,
                    new_id(),
                    product_id,
                    f"S{store_index:04d}-P{n:03d}-{size}",
                    f"{size} / {colour.title()}",
                    base_price + position * 100 * price_scale,
                    currency,
                    0 if rng.random() < 0.1 else rng.randrange(1, 200),
                    json.dumps({"size": size, "colour": colour}),
                    position,
                )
            )
    return products, variants, active, inactive


MEDIA_TYPES = (("image/jpeg", "jpg"), ("image/webp", "webp"), ("image/png", "png"))


def _media_and_reservations(rng: random.Random, variants: list[tuple]) -> tuple[list, list]:
    """0-3 images per product (the second often of a variant), and stock held by checkouts on ~10% of variants."""
    by_product: dict[Any, list[tuple]] = {}
    for variant in variants:
        by_product.setdefault(variant[2], []).append(variant)
    media = []
    for product_id, product_variants in by_product.items():
        store_id = product_variants[0][0]
        for position in range(rng.choice((0, 1, 1, 2, 2, 3))):
            media_id = new_id()
            content_type, extension = rng.choice(MEDIA_TYPES)
            variant_id = rng.choice(product_variants)[1] if position == 1 and rng.random() < 0.5 else None
            media.append(
                (
                    store_id,
                    media_id,
                    product_id,
                    variant_id,
                    f"{store_id}/{media_id}.{extension}",
                    content_type,
                    rng.randrange(20_000, 400_000),
                    secrets.token_hex(32),
                    1200,
                    rng.choice((900, 1200, 1600)),
                    f"Photo {position + 1}",
                    position,
                )
            )
    reserved = [
        (variant[0], variant[1], rng.randrange(0, variant[7] + 1))
        for variant in variants
        if variant[7] and rng.random() < 0.1
    ]
    return media, reserved


async def seed(dsn: str) -> Seeded:
    """1,000 stores with owners and memberships, 100 products each (90% active), 2-3 variants per product, 0-3 images
    per product, stock reserved on ~10% of variants."""
    rng = random.Random(20_260_101)
    users, stores, members, products, variants = [], [], [], [], []
    seeded = Seeded(store_slugs=[], active={}, inactive=[])
    for s in range(STORES):
        user_id, store_id = new_id(), new_id()
        slug = f"store-{s:04d}"
        currency = CURRENCIES[s % len(CURRENCIES)]
        users.append((user_id, f"owner{s:04d}@bench.example", f"Owner {s}"))
        stores.append((store_id, user_id, slug, f"Bench Store {s}", currency))
        members.append((new_id(), store_id, user_id, "owner"))
        p, v, active, inactive = _product_rows(rng, store_id, s, currency)
        products += p
        variants += v
        seeded.store_slugs.append(slug)
        seeded.active[slug] = active
        seeded.inactive += [(slug, product_slug) for product_slug in inactive]

    conn = await asyncpg.connect(dsn)
    try:
        seeded.server_version = await conn.fetchval("SHOW server_version")
        async with conn.transaction():
            await conn.copy_records_to_table("users", records=users, columns=["id", "email", "name"])
            await conn.copy_records_to_table(
                "stores", records=stores, columns=["id", "owner_user_id", "slug", "name", "currency"]
            )
            await conn.copy_records_to_table(
                "store_members", records=members, columns=["id", "store_id", "user_id", "role"]
            )
            await conn.copy_records_to_table(
                "products", records=products, columns=["store_id", "id", "name", "slug", "description", "status"]
            )
            await conn.copy_records_to_table(
                "product_variants",
                records=variants,
                columns=[
                    "store_id",
                    "id",
                    "product_id",
                    "sku",
                    "title",
                    "price_minor",
                    "currency",
                    "inventory",
                    "attributes",
                    "position",
                ],
            )
            media, reserved = _media_and_reservations(random.Random(20_261_127), variants)
            await conn.copy_records_to_table(
                "product_media",
                records=media,
                columns=[
                    "store_id",
                    "id",
                    "product_id",
                    "variant_id",
                    "storage_key",
                    "content_type",
                    "byte_size",
                    "sha256",
                    "width",
                    "height",
                    "alt",
                    "position",
                ],
            )
            await conn.execute(
                "UPDATE product_variants v SET reserved = r.reserved"
                " FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS r(store_id, id, reserved)"
                " WHERE v.store_id = r.store_id AND v.id = r.id",
                *(list(column) for column in zip(*reserved, strict=True)),
            )
        await conn.execute("ANALYZE")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    seeded.counts = {
        "stores": len(stores),
        "products": len(products),
        "variants": len(variants),
        "images": len(media),
        "variants with reservations": len(reserved),
    }
    return seeded


async def prepare(server: URL, database: str, workdir: Path) -> Seeded:
    """Create, migrate and seed the scratch database."""
    await admin.create_database(server, database)
    url = server.set(database=database)
    started = time.perf_counter()
    await Migrations(_settings(url, workdir)).upgrade()
    log(f"migrated {database} in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    seeded = await seed(asyncpg_dsn(url))
    counts = ", ".join(f"{n:,} {what}" for what, n in seeded.counts.items())
    log(f"seeded {counts} by COPY, then ANALYZE, in {time.perf_counter() - started:.1f}s")
    log(f"postgres {seeded.server_version}")
    return seeded


def _settings(url: URL, workdir: Path) -> Settings:
    return Settings.from_env(
        {},
        database_url=url.render_as_string(hide_password=False),
        database_runtime_password=os.environ.get("TC_DATABASE_RUNTIME_PASSWORD") or None,
        data_dir=workdir / "tc-data",
    )


# --------------------------------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(name: str, factory: str, env: dict[str, str], log_path: Path) -> Server:
    port = free_port()
    command = [
        "taskset", "-c", SERVER_CORE,
        PYTHON, "-m", "uvicorn", factory, "--factory",
        "--app-dir", str(BENCH_DIR),
        "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
        "--http", HTTP_IMPL, "--loop", LOOP_IMPL,
    ]  # fmt: skip
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return Server(name=name, port=port, process=process, log_path=log_path)


def wait_ready(server: Server, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} server exited ({server.process.returncode}):\n{_tail(server.log_path)}")
        with contextlib.suppress(OSError):
            status, _ = http_get(server.base + path)
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} server did not answer {path} within {timeout:.0f}s:\n{_tail(server.log_path)}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET ``http://127.0.0.1:<port>/path`` (one connection per call)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("GET", url[url.index("/", len("http://")) :], headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------------------------
# Checks before timing


def list_path(store: str, offset: int) -> str:
    return f"/api/storefront/{store}/products?limit={PAGE}&offset={offset}"


def detail_path(store: str, product: str) -> str:
    return f"/api/storefront/{store}/products/{product}"


def check_same(app: Server, bare: Server, seeded: Seeded) -> None:
    """Both servers answer the same non-empty JSON for a sample of list and detail URLs."""
    rng = random.Random(7)
    stores = rng.sample(seeded.store_slugs, 20)
    paths = [("list", list_path(store, rng.choice(OFFSETS))) for store in stores]
    paths += [("list", list_path(stores[0], offset)) for offset in OFFSETS]
    paths += [("detail", detail_path(store, rng.choice(seeded.active[store]))) for store in stores]
    for kind, path in paths:
        results = []
        for server in (app, bare):
            status, body = http_get(server.base + path)
            if status != 200:
                raise RuntimeError(f"{server.name} answered {status} to {path}: {body[:300]!r}")
            results.append(json.loads(body))
        if results[0] != results[1]:
            raise RuntimeError(f"the app and the bare server disagree on {path}")
        if kind == "list" and not results[0]["items"]:
            raise RuntimeError(f"empty page at {path}")
        if kind == "detail" and not results[0]["variants"]:
            raise RuntimeError(f"product without variants at {path}")
    # Draft/archived products and unknown stores are 404 on both.
    for store, product in seeded.inactive[:3]:
        for server in (app, bare):
            status, _ = http_get(server.base + detail_path(store, product))
            if status != 404:
                raise RuntimeError(f"{server.name} answered {status} for the inactive product {store}/{product}")
    for server in (app, bare):
        status, _ = http_get(server.base + list_path("no-such-store", 0))
        if status != 404:
            raise RuntimeError(f"{server.name} answered {status} for an unknown store")
    # The app's metrics are on and counting.
    status, body = http_get(app.base + "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    if status != 200 or b"tenantcommerce_http_requests_total" not in body:
        raise RuntimeError(f"the app's /metrics did not answer with request counters ({status})")
    log(f"checked {len(paths)} URLs (list and detail): identical non-empty JSON; 404s agree; metrics counting")


# --------------------------------------------------------------------------------------------------------------------
# Load


LUA_TEMPLATE = """
-- generated by benchmarks/storefront_read.py
local paths = {
%(paths)s
}
local threads_total = %(threads)d
local counter = 0

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end

function init(args)
    local tid = tonumber(tid) or 0
    idx = math.floor(#paths * tid / threads_total)
end

function request()
    idx = idx + 1
    if idx > #paths then idx = 1 end
    return wrk.format("GET", paths[idx])
end
"""


def write_lua(path: Path, paths: list[str]) -> Path:
    body = ",\n".join(f'  "{p}"' for p in paths)
    path.write_text(LUA_TEMPLATE % {"paths": body, "threads": THREADS})
    return path


def lua_scripts(workdir: Path, seeded: Seeded) -> dict[str, Path]:
    """Request mixes: every store x every page for lists; 8 active products of every store for details."""
    rng = random.Random(11)
    lists = [list_path(store, offset) for store in seeded.store_slugs for offset in OFFSETS]
    details = [
        detail_path(store, product)
        for store in seeded.store_slugs
        for product in rng.sample(seeded.active[store], DETAIL_PATHS_PER_STORE)
    ]
    rng.shuffle(lists)
    rng.shuffle(details)
    return {"list": write_lua(workdir / "list.lua", lists), "detail": write_lua(workdir / "detail.lua", details)}


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int
    server_us: float = float("nan")  # CPU of the uvicorn process per request
    pg_us: float = float("nan")  # CPU of the Postgres backends of the scratch database per request
    other_pct: float = float("nan")  # CPU used by everything else on the machine, % of all cores


# CPU accounting from /proc (Linux): it tells where each request's time goes, and whether something else was running.
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_NCPU = os.cpu_count() or 1


def _pid_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _backend_pids(database: str) -> list[int]:
    """Local Postgres backends connected to ``database`` (their title names it)."""
    pids, needle = [], f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres") and needle in cmdline:
                pids.append(int(entry.name))
    return pids


def _busy_seconds() -> float:
    """CPU time used by the whole machine so far (all cores), in seconds."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    return (sum(values[:8]) - values[3] - values[4]) / _CLK_TCK  # minus idle and iowait


@dataclass
class CpuSnapshot:
    at: float
    busy: float
    server: float
    backends: dict[int, float]
    children: float

    @classmethod
    def take(cls, server_pid: int, database: str) -> CpuSnapshot:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            at=time.perf_counter(),
            busy=_busy_seconds(),
            server=_pid_cpu(server_pid),
            backends={pid: _pid_cpu(pid) for pid in _backend_pids(database)},
            children=usage.ru_utime + usage.ru_stime,
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(server: Server, script: Path, seconds: int, database: str = "") -> Run:
    command = [
        "taskset", "-c", CLIENT_CORE, "wrk",
        "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "10s", "--latency",
        "-s", str(script), server.base,
    ]  # fmt: skip
    before = CpuSnapshot.take(server.process.pid, database)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    after = CpuSnapshot.take(server.process.pid, database)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    if not (rps and total and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    requests = int(total.group(1))
    server_cpu = after.server - before.server
    pg_cpu = sum(cpu - before.backends.get(pid, 0.0) for pid, cpu in after.backends.items())
    wrk_cpu = after.children - before.children
    other = (after.busy - before.busy) - server_cpu - pg_cpu - wrk_cpu
    return Run(
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=requests,
        bad=bad,
        server_us=server_cpu / requests * 1e6,
        pg_us=pg_cpu / requests * 1e6 if after.backends else float("nan"),
        other_pct=max(other, 0.0) / ((after.at - before.at) * _NCPU) * 100,
    )


def profile(app: Server, script: Path, target: str, database: str) -> None:
    """Record a py-spy profile of the app server while wrk loads it (optional; ``BENCH_PROFILE=<file>``).

    ``.txt`` gives py-spy's raw collapsed stacks, anything else a flame graph SVG.
    """
    py_spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    fmt = "raw" if target.endswith(".txt") else "flamegraph"
    recorder = subprocess.Popen(
        [py_spy, "record", "--pid", str(app.process.pid), "--duration", str(DURATION), "--rate", "250",
         "--nonblocking", "--format", fmt, "--output", target],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(0.5)
    run = wrk(app, script, DURATION, database)
    _, err = recorder.communicate(timeout=120)
    if recorder.returncode:
        log(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
    else:
        log(f"profiled the app under {script.stem} load ({run.rps:,.0f} req/s while sampling): {target}")


CASES = ("list", "detail")
SIDES = ("app", "bare")


def measure(app: Server, bare: Server, scripts: dict[str, Path], database: str) -> dict[tuple[str, str], list[Run]]:
    """Warm up every (side, case), then REPEATS rounds of DURATION-second runs, interleaved."""
    results: dict[tuple[str, str], list[Run]] = {}
    for script in scripts.values():
        for server in (app, bare):
            wrk(server, script, WARMUP, database)
    log(f"measuring: {REPEATS} rounds x {len(scripts) * 2} runs of {DURATION}s, {THREADS} wrk threads, "
        f"{CONNECTIONS} connections")  # fmt: skip
    for rep in range(REPEATS):
        # Alternate which side goes first, so drift (autovacuum, caches, neighbours) hits both alike.
        order = (app, bare) if rep % 2 == 0 else (bare, app)
        for case, script in scripts.items():
            for server in order:
                run = wrk(server, script, DURATION, database)
                results.setdefault((server.name, case), []).append(run)
                log(
                    f"  round {rep + 1}/{REPEATS} {case:6} {server.name:4} {run.rps:8,.0f} req/s"
                    f"  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms"
                    f"  cpu/req: server {run.server_us:5.0f} us, postgres {run.pg_us:5.0f} us"
                    f"  | other load {run.other_pct:3.0f}%"
                )
                if run.bad:
                    raise RuntimeError(f"{server.name} {case}: {run.bad} non-2xx responses or socket errors")
    return results


def report(results: dict[tuple[str, str], list[Run]]) -> tuple[float, float]:
    """Per side: best and median req/s. The ratio: the median over rounds of app/bare measured back to back."""
    log("")
    log(f"req/s: best of {REPEATS} runs [median]; CPU per request: median over runs")
    for case in CASES:
        for side in SIDES:
            runs = results[(side, case)]
            log(
                f"  {side:4} {case:6} {max(r.rps for r in runs):8,.0f} [{statistics.median(r.rps for r in runs):8,.0f}]"
                f"  p50 {statistics.median(r.p50_ms for r in runs):6.2f} ms"
                f"  cpu/req: server {statistics.median(r.server_us for r in runs):5.0f} us,"
                f" postgres {statistics.median(r.pg_us for r in runs):5.0f} us"
            )
    ratios = []
    for case in CASES:
        app, bare = results[("app", case)], results[("bare", case)]
        per_round = [a.rps / b.rps for a, b in zip(app, bare, strict=True)]
        ratios.append(statistics.median(per_round))
        best = max(r.rps for r in app) / max(r.rps for r in bare)
        cpu = statistics.median(r.server_us for r in bare) / statistics.median(r.server_us for r in app)
        log(
            f"  {case:6} app/bare {ratios[-1]:.2f} (median of rounds {', '.join(f'{x:.2f}' for x in per_round)}; "
            f"best/best {best:.2f}; server CPU per request bare/app {cpu:.2f}); target >= 0.60"
        )
    noisy = max(r.other_pct for runs in results.values() for r in runs)
    if noisy > 10:
        log(f"  note: other processes used up to {noisy:.0f}% of the machine during some runs; figures are noisy")
    return ratios[0], ratios[1]


def machine() -> str:
    """nproc, CPU model, Python and the versions of the serving stack."""
    from importlib.metadata import version

    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    stack = ("litestar", "uvicorn", "asyncpg", "msgspec", "structlog")
    packages = ", ".join(f"{name} {version(name)}" for name in stack)
    code = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "src", "migrations"], capture_output=True, text=True
        )
        changed = len(dirty.stdout.splitlines())
        code = head.stdout.strip() + (f" + {changed} uncommitted file(s) in src/ and migrations/" if changed else "")
    return (
        f"machine: {os.cpu_count()} cpus ({model}), Python {sys.version.split()[0]}, {packages}, "
        f"load average {os.getloadavg()[0]:.2f}\ncode: tenantcommerce at {code}"
    )


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="tc_bench_"))
    workdir.chmod(0o755)  # the embedded server runs as another system user when we are root
    keep = os.environ.get("BENCH_KEEP_LOGS") == "1"
    if not keep:
        # Registered before the embedded server starts, so it runs after the server's own atexit stop.
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    log(machine())
    server, kind = server_url(workdir)
    database = unique_name("tc_bench")
    log(f"server: {describe(server)} ({kind}); scratch database {database}")
    servers: list[Server] = []
    try:
        seeded = asyncio.run(prepare(server, database, workdir))
        url = server.set(database=database)
        app = start_server(
            "app",
            "_apps:real_app",
            {
                "TC_DATABASE_URL": url.render_as_string(hide_password=False),
                "TC_ENV": "production",
                "TC_SECRET_KEY": SECRET_KEY,
                "TC_LOG_FORMAT": "json",
                "TC_LOG_LEVEL": "INFO",
                "TC_METRICS_TOKEN": METRICS_TOKEN,
                "TC_DB_POOL_SIZE": str(POOL_SIZE),
                "TC_DATA_DIR": str(workdir / "tc-data"),
            },
            workdir / "app.log",
        )
        servers.append(app)
        bare = start_server(
            "bare",
            "_apps:bare_app",
            {"BENCH_BARE_DSN": asyncpg_dsn(url), "BENCH_POOL_SIZE": str(POOL_SIZE), "BENCH_BARE_RESET": BARE_RESET},
            workdir / "bare.log",
        )
        servers.append(bare)
        wait_ready(app, "/health")
        wait_ready(bare, "/health")
        log(
            f"servers: uvicorn, 1 worker, --http {HTTP_IMPL} --loop {LOOP_IMPL}, pinned to core {SERVER_CORE}; "
            f"wrk pinned to core {CLIENT_CORE}; pool size {POOL_SIZE}; bare pool reset: {BARE_RESET}"
        )
        check_same(app, bare, seeded)
        scripts = lua_scripts(workdir, seeded)
        results = measure(app, bare, scripts, database)
        target = os.environ.get("BENCH_PROFILE")
        if target:
            profile(app, scripts["list"], target, database)
        with app.log_path.open("rb") as lines:
            app_lines = sum(1 for _ in lines)
        log(f"(the app wrote {app_lines:,} JSON log lines to {app.log_path.name} under load)")
        list_ratio, detail_ratio = report(results)
    finally:
        for srv in servers:
            stop_server(srv)
        try:
            asyncio.run(admin.drop_database(server, database))
        except Exception as exc:  # report, but do not hide the original error
            log(f"could not drop {database}: {exc}")
        if keep:
            log(f"logs kept in {workdir}")
        log(f"total time {time.perf_counter() - started:.0f}s")
    print(f"storefront_read list_ratio={list_ratio:.2f} detail_ratio={detail_ratio:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
