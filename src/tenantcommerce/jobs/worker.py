"""Background work on procrastinate: event delivery, the outbox relay, housekeeping, and plugins' periodic jobs.

The worker connects as the runtime role, like the web process. Job arguments are ids; each job opens store-scoped
transactions for the store it names, so no process ever sees two stores' rows at once. The only cross-store read
is ``tc_outbox_backlog`` (SECURITY DEFINER, ids only), used by the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

import procrastinate
import structlog
from procrastinate import PsycopgConnector, RetryStrategy
from sqlalchemy.exc import IntegrityError

from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.jobs.outbox import _DEFER_SQL, DELIVER_TASK, EVENTS_QUEUE, deliver_event, delivery_job, prune_outbox
from tenantcommerce.tenancy.context import platform_scope

if TYPE_CHECKING:
    from tenantcommerce.plugins.registrations import PeriodicJob
    from tenantcommerce.runtime import Runtime

_log = structlog.get_logger("tenantcommerce.jobs")

RELAY_AFTER_SECONDS = 60
"""The relay re-queues events still undelivered this long after they were written."""
RELAY_BATCH = 500
GIVE_UP_AFTER_ATTEMPTS = 100
"""Delivery runs in all (each retry counts) after which the relay stops re-queueing an event."""


def build_job_app(runtime: Runtime) -> procrastinate.App:
    """The procrastinate app of ``runtime`` (started): its tasks and periodic jobs."""
    if runtime.urls is None:
        raise RuntimeError("start the runtime before building its job app")
    settings = runtime.settings
    app = procrastinate.App(connector=PsycopgConnector(conninfo=asyncpg_dsn(runtime.urls.runtime)))

    @app.task(
        name=DELIVER_TASK,
        queue=EVENTS_QUEUE,
        # procrastinate counts retries after the first run (and 0 means forever): N attempts are N - 1 retries.
        retry=RetryStrategy(max_attempts=settings.event_max_attempts - 1, exponential_wait=settings.event_retry_wait)
        if settings.event_max_attempts > 1
        else False,
    )
    async def deliver(store_id: str, event_id: str) -> None:
        await deliver_event(runtime, UUID(store_id), UUID(event_id))

    @app.periodic(cron="* * * * *")
    @app.task(name="tenantcommerce.relay_outbox", queue=EVENTS_QUEUE)
    async def relay(timestamp: int) -> None:
        await relay_outbox(runtime)

    @app.periodic(cron="* * * * *")
    @app.task(name="tenantcommerce.release_expired_checkouts")
    async def release_checkouts(timestamp: int) -> None:
        from tenantcommerce.checkout.expiry import release_expired_checkouts

        await release_expired_checkouts(runtime)

    @app.periodic(cron="17 * * * *")
    @app.task(name="tenantcommerce.prune")
    async def prune(timestamp: int) -> None:
        from tenantcommerce.auth.maintenance import prune as prune_identity
        from tenantcommerce.storefront.maintenance import prune_idempotency_keys

        await prune_identity(runtime.database)
        await prune_outbox(runtime.database)
        await prune_idempotency_keys(runtime.database)

    for registered in runtime.plugins.host.registrations.jobs:
        _add_plugin_job(app, runtime, registered.plugin_id, registered.value)
    return app


def _add_plugin_job(app: procrastinate.App, runtime: Runtime, plugin_id: str, job: PeriodicJob) -> None:
    async def run(timestamp: int) -> None:
        await job.run(runtime)

    task = app.task(name=f"{plugin_id}:{job.name}")(run)
    app.periodic(cron=job.cron, periodic_id=f"{plugin_id}:{job.name}")(task)


async def relay_outbox(runtime: Runtime, *, older_than_seconds: int = RELAY_AFTER_SECONDS) -> int:
    """Queue delivery again for events left undelivered (their job failed for good, or was lost).

    Returns:
        How many events were queued.
    """
    from sqlalchemy import text

    queued = 0
    with platform_scope():
        async with runtime.database.session() as session:
            rows = (
                await session.execute(
                    text("SELECT store_id, event_id FROM tc_outbox_backlog(make_interval(secs => :age), :tries, :n)"),
                    {"age": older_than_seconds, "tries": GIVE_UP_AFTER_ATTEMPTS, "n": RELAY_BATCH},
                )
            ).all()
            for store_id, event_id in rows:
                try:
                    async with session.begin_nested():
                        await session.execute(_DEFER_SQL, delivery_job(store_id, event_id))
                    queued += 1
                except IntegrityError:
                    pass  # a delivery is already queued for it
            await session.commit()
    if queued:
        _log.info("outbox relayed", events=queued)
    return queued


async def run_worker(runtime: Runtime, *, concurrency: int = 4, wait: bool = True, **options: Any) -> None:
    """Run the worker of ``runtime`` (started) until cancelled; with ``wait=False``, until no job is ready."""
    app = build_job_app(runtime)
    async with app.open_async():
        # Finished jobs would pile up (the relay alone adds 1,440 a day); failed ones stay for inspection.
        options.setdefault("delete_jobs", "successful")
        await app.run_worker_async(concurrency=concurrency, wait=wait, install_signal_handlers=False, **options)


@asynccontextmanager
async def in_process_worker(runtime: Runtime, *, concurrency: int = 2) -> AsyncIterator[None]:
    """Run the worker as a task of this process while the block runs (the demo's way; deployments run
    ``tenantcommerce worker``)."""
    task = asyncio.create_task(run_worker(runtime, concurrency=concurrency))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
