"""The store a unit of work runs for, carried in a ``ContextVar`` and always reset in ``finally``.

With no store in context, store data is out of reach: ORM statements on tenant models raise, and Postgres shows
no rows and rejects every write. Provisioning and maintenance that work on global tables use :func:`platform_scope`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal
from uuid import UUID

import msgspec

from tenantcommerce.errors import IsolationError

StoreStatus = Literal["active", "suspended"]


class StoreContext(msgspec.Struct, frozen=True):
    """The resolved store of a request or job."""

    id: UUID
    slug: str
    name: str
    currency: str
    status: StoreStatus
    plugins_version: int = 0
    """Changes whenever the store's plugin enablement or config changes (keys its cached plugin set)."""


_current_store: ContextVar[StoreContext | None] = ContextVar("tenantcommerce_store", default=None)
_platform: ContextVar[bool] = ContextVar("tenantcommerce_platform_scope", default=False)


def current_store_or_none() -> StoreContext | None:
    """The store in context, or ``None``."""
    return _current_store.get()


def current_store() -> StoreContext:
    """The store in context.

    Raises:
        IsolationError: there is none.
    """
    store = _current_store.get()
    if store is None:
        raise IsolationError("no store in context: resolve one (use_store) or run inside platform_scope()")
    return store


def in_platform_scope() -> bool:
    """True inside :func:`platform_scope`."""
    return _platform.get()


@contextmanager
def use_store(store: StoreContext) -> Iterator[StoreContext]:
    """Run the block for ``store``; the previous context is restored however the block ends."""
    token = _current_store.set(store)
    try:
        yield store
    finally:
        _current_store.reset(token)


@contextmanager
def platform_scope() -> Iterator[None]:
    """Run the block as platform work: no store in context, ORM access to global tables allowed.

    Tenant rows stay invisible to the runtime role inside it (Postgres still enforces RLS); only the owner role,
    used by migrations and maintenance, sees every store.
    """
    store_token = _current_store.set(None)
    platform_token = _platform.set(True)
    try:
        yield
    finally:
        _platform.reset(platform_token)
        _current_store.reset(store_token)
