"""Finding the store of a request: custom domain, subdomain of ``TC_BASE_DOMAIN``, or the ``{slug}`` path segment.

Lookups are cached in a Litestar store (memory, or Redis when ``TC_REDIS_URL`` is set) under store-scoped keys, and
invalidated when a store or one of its domains changes: in this process at once, and in every other process through
Postgres ``NOTIFY tenantcommerce_store_changed`` (a trigger on ``stores`` and ``store_domains``).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import math
import re
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from tenantcommerce.tenancy.context import StoreContext

if TYPE_CHECKING:
    from litestar.stores.base import Store

    from tenantcommerce.db.database import Database

STORE_CHANGED_CHANNEL = "tenantcommerce_store_changed"
PLATFORM_SUBDOMAINS = frozenset({"www"})

_log = structlog.get_logger("tenantcommerce.tenancy")
_decode_context = msgspec.json.Decoder(StoreContext).decode
_encode = msgspec.json.Encoder().encode
_decode_keys = msgspec.json.Decoder(list[str]).decode

_LOCAL_ENTRIES = 10_000
_STORE_COLUMNS = "s.id, s.slug, s.name, s.currency, s.status, s.plugins_version"


def normalise_host(host: str) -> str:
    """The host without port or trailing dot, lower-case."""
    host = host.strip().lower()
    if is_ip_address(host):  # a bare IPv6 literal has colons that are not a port
        return host
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


STORE_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
"""The shape of a store slug (the ``stores.slug`` check constraint says the same)."""


def is_store_slug(value: str) -> bool:
    """True when ``value`` could be a store slug; anything else names no store and is never looked up."""
    return STORE_SLUG.fullmatch(value) is not None


def is_ip_address(host: str) -> bool:
    """True for IPv4 and IPv6 literals."""
    if ":" not in host and not host[-1:].isdigit():
        return False  # the common case, a name: decided without parsing
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class HostKind(msgspec.Struct, frozen=True):
    """What a host names: the platform, a subdomain slug, or a custom domain."""

    platform: bool = False
    slug: str | None = None
    domain: str | None = None


@functools.lru_cache(maxsize=4096)
def classify_host(host: str, base_domain: str) -> HostKind:
    """Classify ``host`` against ``base_domain`` (``acme.shop.example`` -> slug ``acme``); memoised per host."""
    host = normalise_host(host)
    if not host or host == base_domain or is_ip_address(host):
        return HostKind(platform=True)
    suffix = "." + base_domain
    if host.endswith(suffix):
        label = host[: -len(suffix)]
        if label in PLATFORM_SUBDOMAINS:
            return HostKind(platform=True)
        return HostKind(slug=label)
    return HostKind(domain=host)


class StoreResolver:
    """Cached store lookups by slug and custom domain.

    Keys are store-scoped: ``tc:store:<id>:context`` holds the store, ``tc:store:<id>:lookups`` lists the lookup
    keys (``tc:lookup:slug:<slug>``, ``tc:lookup:domain:<domain>``) that point at it, so invalidating a store
    drops every way of reaching it.
    """

    def __init__(self, database: Database, cache: Store, *, ttl: float = 60.0) -> None:
        self.database = database
        self.cache = cache
        self.ttl = math.ceil(ttl) if ttl > 0 else None
        self._enabled = ttl > 0
        self._listener: asyncpg.Connection | None = None
        self._listening = False
        # Decoded stores of this process, in front of the shared cache: a hit costs a dict lookup. Every process
        # listens for store changes, so each clears its own entries.
        self._local: dict[str, tuple[StoreContext, float]] = {}
        # Bumped by every invalidation: a lookup that straddles one must not cache what it read before it.
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def _context_key(store_id: UUID | str) -> str:
        return f"tc:store:{store_id}:context"

    @staticmethod
    def _lookups_key(store_id: UUID | str) -> str:
        return f"tc:store:{store_id}:lookups"

    async def _cached(self, key: str) -> StoreContext | None:
        if not self._enabled:
            return None
        local = self._local.get(key)
        if local is not None:
            if local[1] > time.monotonic():
                return local[0]
            del self._local[key]
        generation = self._generation
        store_id = await self.cache.get(key)
        if store_id is None:
            return None
        raw = await self.cache.get(self._context_key(store_id.decode()))
        if raw is None:
            return None
        store = _decode_context(raw)
        if generation == self._generation:
            self._remember_locally(key, store)
        return store

    def _remember_locally(self, key: str, store: StoreContext) -> None:
        if len(self._local) >= _LOCAL_ENTRIES:
            self._local.clear()
        self._local[key] = (store, time.monotonic() + (self.ttl or 0))

    async def _remember(self, key: str, store: StoreContext, generation: int) -> None:
        if not self._enabled or generation != self._generation:
            return  # invalidated while it was being read: it may be stale
        lookups_key = self._lookups_key(store.id)
        known = await self.cache.get(lookups_key)
        keys = set(_decode_keys(known)) if known is not None else set()
        keys.add(key)
        await self.cache.set(lookups_key, _encode(sorted(keys)), expires_in=self.ttl)
        await self.cache.set(self._context_key(store.id), _encode(store), expires_in=self.ttl)
        await self.cache.set(key, str(store.id), expires_in=self.ttl)
        self._remember_locally(key, store)

    async def _fetch(self, sql: str, value: str) -> StoreContext | None:
        async with self.database.pool.acquire() as conn:
            row = await conn.fetchrow(sql, value)
        if row is None:
            return None
        return StoreContext(id=row["id"], slug=row["slug"], name=row["name"], currency=row["currency"],
                            status=row["status"], plugins_version=row["plugins_version"])  # fmt: skip

    async def by_slug(self, slug: str) -> StoreContext | None:
        """The store with ``slug``, or ``None``."""
        key = f"tc:lookup:slug:{slug}"
        store = await self._cached(key)
        if store is not None and store.slug == slug:
            return store
        generation = self._generation
        store = await self._fetch(f"SELECT {_STORE_COLUMNS} FROM stores s WHERE s.slug = $1", slug)
        if store is not None:
            await self._remember(key, store, generation)
        return store

    async def by_domain(self, domain: str) -> StoreContext | None:
        """The store a custom domain serves, or ``None``."""
        key = f"tc:lookup:domain:{domain}"
        store = await self._cached(key)
        if store is not None:
            return store
        generation = self._generation
        store = await self._fetch(
            f"SELECT {_STORE_COLUMNS} FROM store_domains d JOIN stores s ON s.id = d.store_id WHERE d.domain = $1",
            domain,
        )
        if store is not None:
            await self._remember(key, store, generation)
        return store

    async def by_id(self, store_id: UUID) -> StoreContext | None:
        """The store with ``store_id``, or ``None`` (workers resolve the store of a job this way)."""
        key = f"tc:lookup:id:{store_id}"
        store = await self._cached(key)
        if store is not None:
            return store
        generation = self._generation
        store = await self._fetch(f"SELECT {_STORE_COLUMNS} FROM stores s WHERE s.id = $1::uuid", str(store_id))
        if store is not None:
            await self._remember(key, store, generation)
        return store

    async def invalidate(self, store_id: UUID | str) -> None:
        """Forget a store and every lookup that led to it: the next lookup reads the database again."""
        self._generation += 1
        for key in [key for key, (store, _) in self._local.items() if str(store.id) == str(store_id)]:
            self._local.pop(key, None)
        lookups_key = self._lookups_key(store_id)
        known = await self.cache.get(lookups_key)
        for key in _decode_keys(known) if known is not None else []:
            await self.cache.delete(key)
        await self.cache.delete(lookups_key)
        await self.cache.delete(self._context_key(store_id))
        self._generation += 1
        for key in [key for key, (store, _) in self._local.items() if str(store.id) == str(store_id)]:
            self._local.pop(key, None)
        _log.debug("store cache invalidated", invalidated_store_id=str(store_id))

    async def start_listening(self) -> None:
        """Invalidate on ``NOTIFY`` from any process, on a dedicated connection outside the pool.

        If that connection drops, it is re-opened (with back-off) and the whole cache is cleared, since
        notifications may have been missed meanwhile.
        """
        from tenantcommerce.db.urls import asyncpg_dsn

        self._listening = True
        self._listener = await asyncpg.connect(asyncpg_dsn(self.database.url))
        await self._listener.add_listener(STORE_CHANGED_CHANNEL, self._on_notify)
        self._listener.add_termination_listener(self._on_listener_lost)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_notify(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self._spawn(self.invalidate(str(payload)))

    def _on_listener_lost(self, connection: object) -> None:
        if self._listening:
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.5
        while self._listening:
            try:
                await self.start_listening()
            except (OSError, asyncpg.PostgresError) as exc:
                _log.warning("store change listener lost; retrying", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            await self.cache.delete_all()
            self._local.clear()
            _log.info("store change listener reconnected; store cache cleared")
            return

    async def stop_listening(self) -> None:
        """Close the listening connection."""
        self._listening = False
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        for task in list(self._tasks):
            task.cancel()
