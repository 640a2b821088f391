"""ASGI factories for ``benchmarks/storefront_read.py`` (``uvicorn --factory --app-dir benchmarks _apps:<name>``).

* :func:`real_app`: tenantcommerce as deployed, every layer on. It reads the usual ``TC_*`` variables (the harness
  sets ``TC_DATABASE_URL`` to the scratch database; the app serves as the runtime role derived from it).
* :func:`bare_app`: the baseline. A bare Litestar app with one asyncpg pool (``BENCH_BARE_DSN``, a superuser or the
  owner, so no RLS applies; ``BENCH_POOL_SIZE`` connections) that runs the very same ``LIST_SQL`` / ``DETAIL_SQL``
  with the explicit store filter, without a transaction or ``set_config``. Stores are looked up by slug in a dict
  loaded at start-up. The JSON text Postgres builds is decoded into the same msgspec Structs as the app's and the
  Struct is returned, so both sides do identical decode/encode work.

  The pool is shaped like tenantcommerce's (``min_size=1``, ``command_timeout=60``). On release it only rolls back a
  stray transaction (``BENCH_BARE_RESET=rollback``, the default): the baseline sets no session state, so asyncpg's
  default reset query (``RESET ALL; UNLISTEN *; ...``, one more round trip per request) would be work the minimal
  path does not need. ``BENCH_BARE_RESET=asyncpg`` keeps asyncpg's default reset instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Litestar, get
from litestar.exceptions import NotFoundException

from tenantcommerce.catalog.schemas import StorefrontProduct, StorefrontProductPage
from tenantcommerce.catalog.storefront import DETAIL_SQL, LIST_SQL
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset


def real_app() -> Litestar:
    """tenantcommerce's ``create_app`` with settings from ``TC_*`` variables."""
    from tenantcommerce.app import create_app
    from tenantcommerce.settings import Settings

    return create_app(Settings.from_env())


class _Bare:
    """What the bare app holds once started."""

    pool: asyncpg.Pool
    stores: dict[str, UUID]


_bare = _Bare()
_decode_page = msgspec.json.Decoder(StorefrontProductPage).decode
_decode_product = msgspec.json.Decoder(StorefrontProduct).decode


def _store_id(slug: str) -> UUID:
    store_id = _bare.stores.get(slug)
    if store_id is None:
        raise NotFoundException(f"no store is called {slug!r}")
    return store_id


class BareCatalogController(Controller):
    """The same two routes as ``StorefrontCatalogController``, with nothing around them."""

    path = "/api/storefront/{slug:str}/products"

    @get("/")
    async def list_products(self, slug: str, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> StorefrontProductPage:
        raw = await _bare.pool.fetchval(LIST_SQL, _store_id(slug), limit, offset)
        return _decode_page(raw)

    @get("/{product_slug:str}")
    async def get_product(self, slug: str, product_slug: str) -> StorefrontProduct:
        raw = await _bare.pool.fetchval(DETAIL_SQL, _store_id(slug), product_slug)
        if raw is None:
            raise NotFoundException(f"no product {product_slug!r} in this store")
        return _decode_product(raw)


async def _rollback_only(connection: asyncpg.Connection) -> None:
    """Pool reset on release: asyncpg itself rolls back an open transaction before calling this; nothing more."""


@get("/health")
async def bare_health() -> dict[str, str]:
    return {"status": "ok"}


def bare_app() -> Litestar:
    """The baseline app (see the module docstring)."""
    dsn = os.environ["BENCH_BARE_DSN"]
    pool_size = int(os.environ.get("BENCH_POOL_SIZE", "10"))

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        # Same pool shape as tenantcommerce's Database.connect().
        reset = None if os.environ.get("BENCH_BARE_RESET", "rollback") == "asyncpg" else _rollback_only
        _bare.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=pool_size, command_timeout=60, reset=reset)
        try:
            rows = await _bare.pool.fetch("SELECT slug, id FROM stores")
            _bare.stores = {row["slug"]: row["id"] for row in rows}
            yield
        finally:
            await _bare.pool.close()

    return Litestar(route_handlers=[BareCatalogController, bare_health], lifespan=[lifespan])
