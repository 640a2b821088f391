"""API tokens: created by a store member, shown once, stored hashed, scoped to one store and to a subset of the
creator's permissions, expiring, revocable."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import msgspec
from sqlalchemy import func, select

from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.models import ApiToken, User
from tenantcommerce.auth.permissions import PERMISSIONS
from tenantcommerce.auth.tokens import digest, new_api_token
from tenantcommerce.errors import BusinessRuleError, FieldError, NotFound
from tenantcommerce.fields import Text100
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal

MAX_LIFETIME_DAYS = 365


class TokenInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A token to create: a name, the permissions it carries (a subset of yours) and its lifetime."""

    name: Text100
    permissions: Annotated[list[str], msgspec.Meta(min_length=1, max_length=len(PERMISSIONS))]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIFETIME_DAYS)] = 90


class TokenOut(msgspec.Struct, frozen=True):
    """A token as listed (never its secret)."""

    id: UUID
    name: str
    prefix: str
    permissions: list[str]
    created_by: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    revoked_at: datetime.datetime | None
    last_used_at: datetime.datetime | None


class CreatedToken(msgspec.Struct, frozen=True):
    """A new token: ``token`` is shown this once."""

    token: str
    details: TokenOut


def _out(token: ApiToken, email: str) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.token_prefix,
        permissions=sorted(token.permissions),
        created_by=email,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


async def create_token(
    session: AsyncSession, principal: Principal, granted: frozenset[str], data: TokenInput, *, request_id: str | None
) -> CreatedToken:
    """Create a token for the store in context carrying ``data.permissions`` (all of which the creator holds)."""
    unknown = sorted(set(data.permissions) - set(PERMISSIONS))
    beyond = sorted(set(data.permissions) - granted - set(unknown))
    errors = [FieldError("permissions", f"unknown permission {name!r}") for name in unknown]
    errors += [FieldError("permissions", f"you do not hold {name!r}") for name in beyond]
    if errors:
        raise BusinessRuleError("a token can carry only permissions you hold", errors=errors)
    secret, prefix = new_api_token()
    now = datetime.datetime.now(datetime.UTC)
    token = ApiToken(
        store_id=current_store().id,
        created_by_user_id=principal.user_id,
        name=data.name,
        token_prefix=prefix,
        token_hash=digest(secret),
        permissions=sorted(set(data.permissions)),
        expires_at=now + datetime.timedelta(days=data.expires_in_days),
        created_at=now,
    )
    session.add(token)
    await session.flush()
    audit(session, principal, "token.created", "api_token", token.id,
          {"name": data.name, "permissions": token.permissions, "expires_at": token.expires_at.isoformat()},
          request_id=request_id)  # fmt: skip
    await session.commit()
    return CreatedToken(token=secret, details=_out(token, principal.email))


async def list_tokens(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[TokenOut], int]:
    """The store's tokens, newest first."""
    store_id = current_store().id
    total = await session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.store_id == store_id))
    rows = await session.execute(
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.created_by_user_id)
        .where(ApiToken.store_id == store_id)
        .order_by(ApiToken.created_at.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_out(token, email) for token, email in rows], total or 0


async def revoke_token(session: AsyncSession, principal: Principal, token_id: UUID, *, request_id: str | None) -> None:
    """Revoke one of the store's tokens (another store's answers 404)."""
    token = await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.store_id == current_store().id)
    )
    if token is None:
        raise NotFound("no such token in this store")
    if token.revoked_at is None:
        token.revoked_at = datetime.datetime.now(datetime.UTC)
        audit(session, principal, "token.revoked", "api_token", token.id, {"name": token.name}, request_id=request_id)
        await session.commit()
