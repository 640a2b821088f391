"""The transactional outbox: :func:`emit` writes an event with the change; :func:`deliver_event` hands it to the
plugins' ``tc_on_*`` hooks after commit.

Delivery is at least once per plugin: a plugin is recorded in ``outbox_deliveries`` after its hook returns, so a
retry calls only the plugins that have not handled the event yet, and one plugin's failure never holds up another
(it is logged, counted, and retried with back-off). Plugins must make their effects idempotent (a crash between
the hook returning and the record being written calls the hook again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tenantcommerce.db.base import new_id
from tenantcommerce.db.session import SET_STORE
from tenantcommerce.plugins.events import EVENT_KINDS
from tenantcommerce.tenancy.context import current_store, use_store

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database
    from tenantcommerce.runtime import Runtime

_log = structlog.get_logger("tenantcommerce.jobs")

EVENTS_QUEUE = "tenantcommerce-events"
DELIVER_TASK = "tenantcommerce.deliver_event"

_DEFER_SQL = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :queueing_lock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


_INSERT_SQL = text(
    "INSERT INTO outbox_events (store_id, id, name, payload) VALUES (:store_id, :id, :name, CAST(:payload AS jsonb))"
)


class EventDeliveryFailed(Exception):
    """Some plugins failed to handle an event: the job is retried for them."""


def delivery_job(store_id: UUID, event_id: UUID) -> dict[str, str]:
    """Bind parameters of :data:`_DEFER_SQL` for one event (the lock keeps two deliveries of it apart)."""
    return {
        "queue": EVENTS_QUEUE,
        "task": DELIVER_TASK,
        "lock": f"event:{event_id}",
        "queueing_lock": f"event:{event_id}",
        "args": msgspec.json.encode({"store_id": str(store_id), "event_id": str(event_id)}).decode(),
    }


async def emit(session: AsyncSession, name: str, payload: msgspec.Struct, *, store_id: UUID | None = None) -> UUID:
    """Write event ``name`` in ``session``'s transaction, and queue its delivery.

    The event belongs to the store in context, or to ``store_id`` for a platform-scope session (provisioning: the
    transaction's store setting switches to that store). Nothing is delivered unless the transaction commits;
    nothing committed is lost (the relay re-queues events whose job failed for good).

    Raises:
        KeyError: ``name`` is not an event of :data:`~tenantcommerce.plugins.events.EVENT_KINDS`.
        TypeError: ``payload`` is not that event's Struct.
    """
    kind = EVENT_KINDS[name]
    if not isinstance(payload, kind.payload):
        raise TypeError(f"event {name!r} carries a {kind.payload.__name__}, not a {type(payload).__name__}")
    if store_id is None:
        store_id = current_store().id
    else:
        await session.execute(SET_STORE, {"store_id": str(store_id)})
    event_id = new_id()
    await session.execute(
        _INSERT_SQL,
        {"store_id": store_id, "id": event_id, "name": name, "payload": msgspec.json.encode(payload).decode()},
    )
    await session.execute(_DEFER_SQL, delivery_job(store_id, event_id))
    return event_id


async def deliver_event(runtime: Runtime, store_id: UUID, event_id: UUID) -> None:
    """Hand one event to every enabled plugin implementing its hook that has not handled it yet.

    Raises:
        EventDeliveryFailed: at least one plugin failed (the others are recorded as done).
    """
    store = await runtime.resolver.by_id(store_id)
    if store is None:
        return  # the store is gone, and its events with it
    database = runtime.database
    with use_store(store):
        async with database.store_transaction(store.id) as conn:
            event = await conn.fetchrow(
                "SELECT name, payload::text AS payload, delivered_at FROM outbox_events "
                "WHERE store_id = $1 AND id = $2",
                store.id,
                event_id,
            )
            if event is None or event["delivered_at"] is not None:
                return
            done = {row["plugin_id"] for row in await conn.fetch(
                "SELECT plugin_id FROM outbox_deliveries WHERE store_id = $1 AND event_id = $2", store.id, event_id
            )}  # fmt: skip
        kind = EVENT_KINDS.get(event["name"])
        if kind is None:
            _log.error("unknown event", event_name=event["name"], event_id=str(event_id))
            return
        payload = kind.decode(event["payload"])
        plugin_set = await runtime.plugins.sets.for_store(store)
        dispatcher = runtime.plugins.dispatcher
        failures: list[str] = []
        for enabled, impl in dispatcher.implementations(kind.hook, plugin_set):
            if enabled.plugin_id in done:
                continue
            try:
                await dispatcher.call(kind.hook, store, enabled, impl, {kind.argument: payload})
            except Exception as exc:
                failures.append(f"{enabled.plugin_id}: {getattr(exc, 'detail', None) or type(exc).__name__}")
                runtime.metrics.event_delivery(kind.name, "failed")
                _log.warning("event delivery failed", event_name=kind.name, event_id=str(event_id),
                             plugin_id=enabled.plugin_id, error=repr(exc))  # fmt: skip
                continue
            async with database.store_transaction(store.id, readonly=False) as conn:
                await conn.execute(
                    "INSERT INTO outbox_deliveries (store_id, id, event_id, plugin_id) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT DO NOTHING",
                    store.id,
                    new_id(),
                    event_id,
                    enabled.plugin_id,
                )
            runtime.metrics.event_delivery(kind.name, "delivered")
        async with database.store_transaction(store.id, readonly=False) as conn:
            await conn.execute(
                "UPDATE outbox_events SET attempts = attempts + 1, last_error = $3::text, "
                "delivered_at = CASE WHEN $3::text IS NULL THEN now() END WHERE store_id = $1 AND id = $2",
                store.id,
                event_id,
                "; ".join(failures)[:1000] if failures else None,
            )
    if failures:
        raise EventDeliveryFailed(f"event {kind.name} {event_id}: " + "; ".join(failures))


KEEP_DELIVERED_EVENTS_DAYS = 7


async def prune_outbox(database: Database, *, keep_days: int = KEEP_DELIVERED_EVENTS_DAYS) -> int:
    """Delete events delivered more than ``keep_days`` ago (their delivery records go with them), store by store:
    each store's rows are deleted in a transaction scoped to it, as the runtime role.

    Returns:
        How many events were deleted.
    """
    return await database.delete_in_every_store(
        "DELETE FROM outbox_events WHERE store_id = $1 AND delivered_at < now() - make_interval(days => $2)", keep_days
    )
