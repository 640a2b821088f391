"""Housekeeping of the storefront: idempotency keys older than their replay window are deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenantcommerce.storefront.idempotency import KEEP_KEYS

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database


async def prune_idempotency_keys(database: Database) -> int:
    """Delete keys older than :data:`KEEP_KEYS`, store by store (each in a transaction scoped to it).

    Returns:
        How many keys were deleted.
    """
    return await database.delete_in_every_store(
        "DELETE FROM idempotency_keys WHERE store_id = $1 AND created_at < now() - $2::interval", KEEP_KEYS
    )
