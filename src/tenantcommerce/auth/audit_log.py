"""Writing and reading the audit log of the store in context."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import func, select

from tenantcommerce.auth.audit import AuditEntry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal


class AuditEntryOut(msgspec.Struct, frozen=True):
    """One audited change."""

    id: UUID
    created_at: datetime.datetime
    actor_user_id: UUID | None
    actor_token_id: UUID | None
    action: str
    target_type: str
    target_id: str | None
    changes: dict[str, Any]
    request_id: str | None


def audit(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    target_type: str,
    target_id: object,
    changes: dict[str, Any] | None = None,
    *,
    request_id: str | None = None,
) -> None:
    """Add an audit entry to ``session`` (written with the change it describes, in the same transaction)."""
    session.add(
        AuditEntry(
            actor_user_id=principal.user_id if principal else None,
            actor_token_id=principal.token_id if principal else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            changes=msgspec.to_builtins(changes or {}),
            request_id=request_id,
        )
    )


async def list_entries(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[AuditEntryOut], int]:
    """The store's audit entries, newest first, and their total."""
    total = await session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    rows = await session.scalars(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return [
        AuditEntryOut(
            id=row.id,
            created_at=row.created_at,
            actor_user_id=row.actor_user_id,
            actor_token_id=row.actor_token_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            changes=row.changes,
            request_id=row.request_id,
        )
        for row in rows
    ], total
