"""Events: what the core emits through the outbox, and which ``tc_on_*`` hook receives each.

An event is written to ``outbox_events`` in the same transaction as the change it reports (so it exists exactly
when the change committed) and delivered after commit by the worker, to every enabled plugin that implements its
hook, at least once. Payloads are frozen Structs that name ids, never ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec


class StoreCreated(msgspec.Struct, frozen=True, kw_only=True):
    """A store was created (``tc_on_store_created``)."""

    store_id: UUID
    slug: str
    name: str
    currency: str


class ProductChanged(msgspec.Struct, frozen=True, kw_only=True):
    """A product was created or changed (``tc_on_product_created``, ``tc_on_product_updated``)."""

    product_id: UUID
    slug: str
    status: str


class PluginToggled(msgspec.Struct, frozen=True, kw_only=True):
    """A plugin was enabled or disabled for the store (``tc_on_plugin_enabled``, ``tc_on_plugin_disabled``)."""

    plugin_id: str
    enabled: bool


class OrderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An order was placed or paid (``tc_on_order_placed``, ``tc_on_order_paid``)."""

    order_id: UUID
    order_number: int
    total_minor: int
    currency: str
    payment_status: str


@dataclass(frozen=True)
class EventKind:
    """How an event name maps onto its hook: ``hook(ctx=..., <argument>=payload, plugin=...)``."""

    name: str
    hook: str
    argument: str
    payload: type[msgspec.Struct]

    def decode(self, raw: bytes | str) -> Any:
        """The payload Struct from its stored JSON."""
        return msgspec.json.decode(raw, type=self.payload)


EVENT_KINDS: dict[str, EventKind] = {
    kind.name: kind
    for kind in (
        EventKind("store.created", "tc_on_store_created", "store", StoreCreated),
        EventKind("product.created", "tc_on_product_created", "product", ProductChanged),
        EventKind("product.updated", "tc_on_product_updated", "product", ProductChanged),
        EventKind("plugin.enabled", "tc_on_plugin_enabled", "change", PluginToggled),
        EventKind("plugin.disabled", "tc_on_plugin_disabled", "change", PluginToggled),
        EventKind("order.placed", "tc_on_order_placed", "order", OrderEvent),
        EventKind("order.paid", "tc_on_order_paid", "order", OrderEvent),
    )
}
"""Every event the core emits, by name."""


def event_kind(name: str) -> EventKind:
    """The kind of event ``name``.

    Raises:
        KeyError: no such event.
    """
    return EVENT_KINDS[name]
