"""Finding the store of a request: custom domain, subdomain of ``TC_BASE_DOMAIN``, or the ``{slug}`` path segment.

Lookups are cached in a Litestar store (memory, or Redis when ``TC_REDIS_URL`` is set) under store-scoped keys, and
invalidated when a store or one of its domains changes: in this process at once, and in every other process through
Postgres ``NOTIFY tenantcommerce_store_changed`` (a trigger on ``stores`` and ``store_domains``).
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING
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

_STORE_COLUMNS = "s.id, s.slug, s.name, s.currency, s.status"


def normalise_host(host: str) -> str:
    """The host without port or trailing dot, lower-case."""
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def is_ip_address(host: str) -> bool:
    """True for IPv4 and IPv6 literals."""
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


def classify_host(host: str, base_domain: str) -> HostKind:
    """Classify ``host`` against ``base_domain`` (``acme.shop.example`` -> slug ``acme``)."""
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
    """Cached store lookups by slug, custom domain and id."""

    def __init__(self, database: Database, cache: Store, *, ttl: float = 60.0) -> None:
        self.database = database
        self.cache = cache
        self.ttl = int(ttl) if ttl >= 1 else None
        self._enabled = ttl > 0
        self._listener: asyncpg.Connection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def _store_key(store_id: UUID | str) -> str:
        return f"tc:store:{store_id}:context"

    async def _cached(self, key: str) -> StoreContext | None:
        if not self._enabled:
            return None
        store_id = await self.cache.get(key)
        if store_id is None:
            return None
        raw = await self.cache.get(self._store_key(store_id.decode()))
        return _decode_context(raw) if raw is not None else None

    async def _remember(self, key: str, store: StoreContext) -> None:
        if not self._enabled:
            return
        await self.cache.set(self._store_key(store.id), _encode(store), expires_in=self.ttl)
        await self.cache.set(key, str(store.id), expires_in=self.ttl)

    async def _fetch(self, sql: str, value: str) -> StoreContext | None:
        async with self.database.pool.acquire() as conn:
            row = await conn.fetchrow(sql, value)
        if row is None:
            return None
        return StoreContext(id=row["id"], slug=row["slug"], name=row["name"], currency=row["currency"],
                            status=row["status"])  # fmt: skip

    async def by_slug(self, slug: str) -> StoreContext | None:
        """The store with ``slug``, or ``None``."""
        key = f"tc:lookup:slug:{slug}"
        store = await self._cached(key)
        if store is not None and store.slug == slug:
            return store
        store = await self._fetch(f"SELECT {_STORE_COLUMNS} FROM stores s WHERE s.slug = $1", slug)
        if store is not None:
            await self._remember(key, store)
        return store

    async def by_domain(self, domain: str) -> StoreContext | None:
        """The store a custom domain serves, or ``None``."""
        key = f"tc:lookup:domain:{domain}"
        store = await self._cached(key)
        if store is not None:
            return store
        store = await self._fetch(
            f"SELECT {_STORE_COLUMNS} FROM store_domains d JOIN stores s ON s.id = d.store_id WHERE d.domain = $1",
            domain,
        )
        if store is not None:
            await self._remember(key, store)
        return store

    async def invalidate(self, store_id: UUID | str) -> None:
        """Forget a store: its next lookup reads the database again."""
        await self.cache.delete(self._store_key(store_id))
        _log.debug("store cache invalidated", invalidated_store_id=str(store_id))

    async def start_listening(self) -> None:
        """Invalidate on ``NOTIFY`` from other processes (a dedicated connection, outside the pool)."""
        from tenantcommerce.db.urls import asyncpg_dsn

        self._listener = await asyncpg.connect(asyncpg_dsn(self.database.url))
        await self._listener.add_listener(STORE_CHANGED_CHANNEL, self._on_notify)

    def _on_notify(self, connection: object, pid: int, channel: str, payload: object) -> None:
        task = asyncio.get_running_loop().create_task(self.invalidate(str(payload)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop_listening(self) -> None:
        """Close the listening connection."""
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
