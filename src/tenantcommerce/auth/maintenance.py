"""Housekeeping of identity tables: expired sessions, used or expired reset tokens, old invitations.

Run it from cron or a scheduler with ``tenantcommerce db prune`` (the job runner of a later release will schedule it).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import delete, func, or_

from tenantcommerce.auth.models import HttpSession, PasswordResetToken, StoreInvitation
from tenantcommerce.tenancy.context import platform_scope

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database

KEEP_USED_TOKENS = datetime.timedelta(days=1)
KEEP_CLOSED_INVITATIONS = datetime.timedelta(days=30)


class Pruned(msgspec.Struct, frozen=True):
    """How many rows each table lost."""

    sessions: int
    password_reset_tokens: int
    store_invitations: int


async def prune(database: Database) -> Pruned:
    """Delete expired sessions, reset tokens used or expired a day ago, and invitations closed 30 days ago."""
    now = datetime.datetime.now(datetime.UTC)
    with platform_scope():
        async with database.session() as session:
            sessions = await session.execute(delete(HttpSession).where(HttpSession.expires_at <= func.now()))
            tokens = await session.execute(
                delete(PasswordResetToken).where(
                    or_(
                        PasswordResetToken.expires_at <= now - KEEP_USED_TOKENS,
                        PasswordResetToken.used_at <= now - KEEP_USED_TOKENS,
                    )
                )
            )
            invitations = await session.execute(
                delete(StoreInvitation).where(
                    or_(
                        StoreInvitation.expires_at <= now - KEEP_CLOSED_INVITATIONS,
                        StoreInvitation.accepted_at <= now - KEEP_CLOSED_INVITATIONS,
                        StoreInvitation.revoked_at <= now - KEEP_CLOSED_INVITATIONS,
                    )
                )
            )
            await session.commit()
    return Pruned(
        sessions=sessions.rowcount or 0,  # type: ignore[attr-defined]
        password_reset_tokens=tokens.rowcount or 0,  # type: ignore[attr-defined]
        store_invitations=invitations.rowcount or 0,  # type: ignore[attr-defined]
    )
