"""Global identity tables: users, store members, sessions, API tokens, password resets, invitations."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, CreatedAt, Timestamped

MEMBER_ROLES = ("owner", "admin", "staff", "viewer")


class User(Timestamped, Base):
    """A person; global across stores. Emails are stored lower-case."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    is_operator: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    """Bumped when the password changes or every session is revoked: older sessions stop working."""


class StoreMember(Timestamped, Base):
    """A user's staff role in one store; ``permissions`` adds or removes single permissions."""

    __tablename__ = "store_members"
    __table_args__ = (
        UniqueConstraint("store_id", "user_id"),
        CheckConstraint("role IN ('owner', 'admin', 'staff', 'viewer')", name="role"),
        Index(None, "user_id"),
    )

    store_id: Mapped[UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    permissions: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))


class HttpSession(Base):
    """A server-side session (Litestar's session middleware, stored by advanced-alchemy's session backend)."""

    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime.datetime] = mapped_column(index=True)

    @hybrid_property
    def is_expired(self) -> bool:
        """The session has expired."""
        return datetime.datetime.now(datetime.UTC) > self.expires_at

    @is_expired.inplace.expression
    @classmethod
    def _is_expired_expression(cls) -> ColumnElement[bool]:
        return func.now() > cls.expires_at


class ApiToken(Timestamped, Base):
    """A bearer token of one store, with a subset of its creator's permissions; only its hash is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "store_id"), Index(None, "created_by_user_id"))

    store_id: Mapped[UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    created_by_user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_prefix: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))
    expires_at: Mapped[datetime.datetime]
    revoked_at: Mapped[datetime.datetime | None]
    last_used_at: Mapped[datetime.datetime | None]


class PasswordResetToken(CreatedAt, Base):
    """A single-use, expiring password reset; only its hash is kept."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (Index(None, "user_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime.datetime]
    used_at: Mapped[datetime.datetime | None]


class StoreInvitation(Timestamped, Base):
    """An invitation to join a store's staff, accepted once with its token; only the hash is kept."""

    __tablename__ = "store_invitations"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'admin', 'staff', 'viewer')", name="role"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index(None, "store_id"),
    )

    store_id: Mapped[UUID] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime.datetime]
    accepted_at: Mapped[datetime.datetime | None]
    revoked_at: Mapped[datetime.datetime | None]
