"""Releasing checkouts whose hold expired: their stock and discount use go back, their payment is cancelled.

Run every minute by the worker. ``tc_expired_checkouts`` (SECURITY DEFINER, ids only) names the stores that have
expired holds; each store's checkouts are then released in a transaction scoped to it, as the runtime role. Rows
another transaction holds (a payment being settled right now) are skipped and looked at again next minute.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING
from uuid import UUID

import structlog
from sqlalchemy import func, select, text

from tenantcommerce.checkout.models import Checkout
from tenantcommerce.checkout.services import unhold
from tenantcommerce.errors import TenantCommerceError
from tenantcommerce.tenancy.context import platform_scope, use_store

if TYPE_CHECKING:
    from tenantcommerce.runtime import Runtime
    from tenantcommerce.tenancy.context import StoreContext

_log = structlog.get_logger("tenantcommerce.checkout")
BATCH = 500


async def _expired_by_store(runtime: Runtime, batch: int) -> dict[UUID, list[UUID]]:
    with platform_scope():
        async with runtime.database.session() as session:
            rows = (
                await session.execute(text("SELECT store_id, checkout_id FROM tc_expired_checkouts(:n)"), {"n": batch})
            ).all()
    found: dict[UUID, list[UUID]] = defaultdict(list)
    for store_id, checkout_id in rows:
        found[store_id].append(checkout_id)
    return found


async def release_store_checkouts(runtime: Runtime, store: StoreContext, checkout_ids: list[UUID]) -> int:
    """Release the expired holds among ``checkout_ids`` of ``store`` and cancel their payments."""
    to_cancel: list[tuple[str, str]] = []
    with use_store(store):
        async with runtime.database.session() as session:
            checkouts = await session.scalars(
                select(Checkout)
                .where(
                    Checkout.id.in_(checkout_ids),
                    Checkout.status == "awaiting_payment",
                    Checkout.expires_at < func.now(),
                )
                .order_by(Checkout.id)
                .with_for_update(skip_locked=True)
            )
            released = 0
            for checkout in checkouts:
                if checkout.payment_ref and checkout.payment_method:
                    to_cancel.append((checkout.payment_method, checkout.payment_ref))
                await unhold(session, checkout, status="expired")
                released += 1
            await session.commit()
        if to_cancel:
            plugins = await runtime.plugins.for_store(store)
            for method, payment_ref in to_cancel:
                try:
                    await plugins.payment_gateway(method).cancel(payment_ref)
                except TenantCommerceError as exc:  # the release stands; the merchant sees the payment's state
                    _log.warning("payment not cancelled", store_id=str(store.id), gateway=method, reason=exc.detail)
    return released


async def release_expired_checkouts(runtime: Runtime, *, batch: int = BATCH) -> int:
    """Release every expired hold (up to ``batch``); how many checkouts were released."""
    released = 0
    for store_id, checkout_ids in (await _expired_by_store(runtime, batch)).items():
        store = await runtime.resolver.by_id(store_id)
        if store is not None:
            released += await release_store_checkouts(runtime, store, checkout_ids)
    if released:
        _log.info("expired checkouts released", checkouts=released)
    return released
