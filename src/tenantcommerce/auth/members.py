"""Store staff: members, their roles and permission overrides, and invitations by e-mail.

Rules about owners: only an owner may make someone an owner, or change or remove an owner; the last owner of a store
can be neither removed nor demoted (checked with the store's owner rows locked, so two requests cannot both pass).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

import msgspec
from sqlalchemy import select

from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.mailer import EmailMessage, Mailer
from tenantcommerce.auth.models import StoreInvitation, StoreMember, User
from tenantcommerce.auth.permissions import PERMISSIONS, permissions_for
from tenantcommerce.auth.tokens import digest, new_secret
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound, PermissionDenied
from tenantcommerce.fields import Email
from tenantcommerce.tenancy.context import StoreContext, current_store, use_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal
    from tenantcommerce.db.database import Database

Role = Literal["owner", "admin", "staff", "viewer"]
INVITATION_LIFETIME = datetime.timedelta(days=7)


class MemberOut(msgspec.Struct, frozen=True):
    """A member of the store's staff."""

    user_id: UUID
    email: str
    name: str | None
    role: str
    overrides: dict[str, bool]
    permissions: list[str]


class InvitationInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Whom to invite, in which role."""

    email: Email
    role: Role = "staff"


class InvitationOut(msgspec.Struct, frozen=True):
    """A pending or past invitation (never its token)."""

    id: UUID
    email: str
    role: str
    expires_at: datetime.datetime
    accepted_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class AcceptInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The token from the invitation mail."""

    token: Annotated[str, msgspec.Meta(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class MemberUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new role and/or permission overrides (``{"orders:refund": true}`` adds one, ``false`` removes one)."""

    role: Role | msgspec.UnsetType = msgspec.UNSET
    permissions: dict[str, bool] | msgspec.UnsetType = msgspec.UNSET


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _member_out(member: StoreMember, user: User) -> MemberOut:
    overrides = {name: bool(value) for name, value in member.permissions.items()}
    return MemberOut(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=member.role,
        overrides=overrides,
        permissions=sorted(permissions_for(member.role, overrides)),
    )


async def _actor_role(session: AsyncSession, principal: Principal) -> str | None:
    return await session.scalar(
        select(StoreMember.role).where(
            StoreMember.store_id == current_store().id, StoreMember.user_id == principal.user_id
        )
    )


async def _require_owner_for(session: AsyncSession, principal: Principal, what: str) -> None:
    if await _actor_role(session, principal) != "owner":
        raise PermissionDenied(f"only an owner can {what}")


def _check_within_granted(granted: frozenset[str], gained: Iterable[tuple[str, str]]) -> None:
    """Refuse giving anyone a permission the caller does not hold (``gained``: pairs of permission and the field that
    gives it); taking permissions away is always allowed."""
    beyond = sorted({(name, field) for name, field in gained if name not in granted})
    if beyond:
        raise BusinessRuleError(
            "you can give only permissions you hold yourself: " + ", ".join(sorted({name for name, _ in beyond})),
            errors=[FieldError(field, f"you do not hold {name!r}") for name, field in beyond],
        )


async def list_members(session: AsyncSession) -> list[MemberOut]:
    """The store's staff, by e-mail."""
    rows = await session.execute(
        select(StoreMember, User)
        .join(User, User.id == StoreMember.user_id)
        .where(StoreMember.store_id == current_store().id)
        .order_by(User.email)
    )
    return [_member_out(member, user) for member, user in rows]


async def invite(
    session: AsyncSession, mailer: Mailer, principal: Principal, data: InvitationInput, *, granted: frozenset[str],
    accept_url: str, request_id: str | None,
) -> InvitationOut:  # fmt: skip
    """Invite ``data.email`` to the store's staff; the single-use token goes by mail only. The role may give only
    permissions the inviter holds (``granted``)."""
    store = current_store()
    email = data.email.strip().lower()
    if data.role == "owner":
        await _require_owner_for(session, principal, "invite an owner")
    _check_within_granted(granted, ((name, "role") for name in permissions_for(data.role)))
    already = await session.scalar(
        select(StoreMember.id)
        .join(User, User.id == StoreMember.user_id)
        .where(StoreMember.store_id == store.id, User.email == email)
    )
    if already is not None:
        raise Conflict(f"{email} is already a member of this store", errors=[FieldError("email", "already a member")])
    secret = new_secret()
    invitation = StoreInvitation(
        store_id=store.id,
        email=email,
        role=data.role,
        token_hash=digest(secret),
        invited_by_user_id=principal.user_id,
        expires_at=_now() + INVITATION_LIFETIME,
    )
    session.add(invitation)
    await session.flush()
    audit(session, principal, "member.invited", "invitation", invitation.id, {"email": email, "role": data.role},
          request_id=request_id)  # fmt: skip
    await session.commit()
    await mailer.send(
        EmailMessage(
            to=email,
            subject=f"You are invited to {store.name}",
            body=(
                f"You are invited to join {store.name} as {data.role}. Sign in (or register with this address) at "
                f"{accept_url}, then send this token to {accept_url}/api/auth/invitations/accept within 7 days.\n"
                f"Invitation token: {secret}"
            ),
            kind="invitation",
        )
    )
    return _invitation_out(invitation)


def _invitation_out(invitation: StoreInvitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        revoked_at=invitation.revoked_at,
    )


async def list_invitations(session: AsyncSession) -> list[InvitationOut]:
    """The store's invitations, newest first."""
    rows = await session.scalars(
        select(StoreInvitation)
        .where(StoreInvitation.store_id == current_store().id)
        .order_by(StoreInvitation.created_at.desc())
    )
    return [_invitation_out(row) for row in rows]


async def revoke_invitation(
    session: AsyncSession, principal: Principal, invitation_id: UUID, *, request_id: str | None
) -> None:
    """Revoke a pending invitation of the store."""
    invitation = await session.scalar(
        select(StoreInvitation).where(
            StoreInvitation.id == invitation_id, StoreInvitation.store_id == current_store().id
        )
    )
    if invitation is None:
        raise NotFound("no such invitation in this store")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = _now()
        audit(session, principal, "invitation.revoked", "invitation", invitation.id, {"email": invitation.email},
              request_id=request_id)  # fmt: skip
        await session.commit()


async def accept_invitation(
    database: Database, session: AsyncSession, principal: Principal, token: str, *, request_id: str | None
) -> str:
    """Join the store of an invitation addressed to the signed-in user; return the store's slug.

    Raises:
        BusinessRuleError: the token is unknown, used, revoked or expired, or addressed to someone else.
    """
    from tenantcommerce.tenancy.models import Store

    invitation = await session.scalar(
        select(StoreInvitation).where(StoreInvitation.token_hash == digest(token)).with_for_update()
    )
    invalid = BusinessRuleError(
        "the invitation is invalid, used, revoked or expired", errors=[FieldError("token", "is not valid")]
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= _now():
        raise invalid
    if invitation.email != principal.email:
        raise invalid  # addressed to someone else: say no more than for a bad token
    member = await session.scalar(
        select(StoreMember).where(StoreMember.store_id == invitation.store_id, StoreMember.user_id == principal.user_id)
    )
    if member is None:
        session.add(StoreMember(store_id=invitation.store_id, user_id=principal.user_id, role=invitation.role))
    invitation.accepted_at = _now()
    store = await session.get(Store, invitation.store_id)
    assert store is not None
    context = StoreContext(id=store.id, slug=store.slug, name=store.name, currency=store.currency,
                           status=store.status)  # type: ignore[arg-type]  # fmt: skip
    await session.commit()
    # The audit log is the store's: write it in a transaction of that store.
    with use_store(context):
        async with database.session() as store_session:
            audit(store_session, principal, "member.joined", "member", principal.user_id,
                  {"email": principal.email, "role": invitation.role, "invitation": str(invitation.id)},
                  request_id=request_id)  # fmt: skip
            await store_session.commit()
    return context.slug


async def _locked_owners(session: AsyncSession) -> list[UUID]:
    rows = await session.scalars(
        select(StoreMember.user_id)
        .where(StoreMember.store_id == current_store().id, StoreMember.role == "owner")
        .with_for_update()
    )
    return list(rows)


async def _member(session: AsyncSession, user_id: UUID) -> tuple[StoreMember, User]:
    row = (
        await session.execute(
            select(StoreMember, User)
            .join(User, User.id == StoreMember.user_id)
            .where(StoreMember.store_id == current_store().id, StoreMember.user_id == user_id)
            .with_for_update(of=StoreMember)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such member in this store")
    return row[0], row[1]


async def get_member(session: AsyncSession, user_id: UUID) -> MemberOut:
    """One member of the store in context.

    Raises:
        NotFound: ``user_id`` is not a member of this store.
    """
    member, user = await _member(session, user_id)
    return _member_out(member, user)


async def update_member(
    session: AsyncSession,
    principal: Principal,
    user_id: UUID,
    data: MemberUpdate,
    *,
    granted: frozenset[str],
    request_id: str | None,
) -> MemberOut:
    """Change a member's role or permission overrides. What the member gains must be within what the caller holds
    (``granted``): nobody hands out, to others or to themselves, a permission they lack."""
    owners = await _locked_owners(session)
    member, user = await _member(session, user_id)
    before = permissions_for(member.role, member.permissions)
    role = member.role if data.role is msgspec.UNSET else data.role
    overrides = member.permissions if data.permissions is msgspec.UNSET else data.permissions
    explicit = set() if data.permissions is msgspec.UNSET else set(data.permissions)
    _check_within_granted(
        granted,
        (
            (name, f"permissions.{name}" if name in explicit else "role")
            for name in permissions_for(role, overrides) - before
        ),
    )
    changes: dict[str, object] = {}
    if data.role is not msgspec.UNSET and data.role != member.role:
        if "owner" in (data.role, member.role):
            await _require_owner_for(session, principal, "make or unmake an owner")
        if member.role == "owner" and owners == [user_id]:
            raise BusinessRuleError(
                "the last owner cannot be demoted: make someone else an owner first",
                errors=[FieldError("role", "last owner")],
            )
        changes["role"] = {"from": member.role, "to": data.role}
        member.role = data.role
    if data.permissions is not msgspec.UNSET:
        unknown = sorted(set(data.permissions) - set(PERMISSIONS))
        if unknown:
            raise BusinessRuleError(
                "unknown permissions: " + ", ".join(unknown),
                errors=[FieldError(f"permissions.{name}", "unknown permission") for name in unknown],
            )
        if member.role == "owner":
            await _require_owner_for(session, principal, "change an owner's permissions")
            if owners == [user_id] and data.permissions.get("members:manage") is False:
                raise BusinessRuleError(
                    "the last owner cannot give up members:manage: nobody could manage the store's staff",
                    errors=[FieldError("permissions.members:manage", "last owner")],
                )
        changes["permissions"] = {"from": dict(member.permissions), "to": dict(data.permissions)}
        member.permissions = dict(data.permissions)
    if changes:
        audit(session, principal, "member.updated", "member", user_id, changes, request_id=request_id)
    await session.commit()
    return _member_out(member, user)


async def remove_member(session: AsyncSession, principal: Principal, user_id: UUID, *, request_id: str | None) -> None:
    """Remove someone from the store's staff."""
    owners = await _locked_owners(session)
    member, user = await _member(session, user_id)
    if member.role == "owner":
        await _require_owner_for(session, principal, "remove an owner")
        if owners == [user_id]:
            raise BusinessRuleError("the last owner cannot be removed", errors=[FieldError("user_id", "last owner")])
    await session.delete(member)
    audit(session, principal, "member.removed", "member", user_id, {"email": user.email, "role": member.role},
          request_id=request_id)  # fmt: skip
    await session.commit()
