"""Who is making a request: a signed-in staff user, a store's customer, or an API token."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

SessionKind = Literal["staff", "customer"]


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller of one request (``request.user``; ``None`` when anonymous)."""

    user_id: UUID
    email: str
    is_operator: bool
    via: Literal["session", "token"]
    session_kind: SessionKind | None = None
    customer_store_id: UUID | None = None
    """Customer sessions only: the one store the session belongs to."""
    token_id: UUID | None = None
    token_store_id: UUID | None = None
    token_permissions: frozenset[str] | None = None

    @property
    def is_staff_session(self) -> bool:
        """A platform sign-in (not a store's customer session, not a token)."""
        return self.via == "session" and self.session_kind == "staff"
