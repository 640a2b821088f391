"""Admin endpoints of identity: ``/api/admin/{slug}/tokens`` and ``/api/admin/{slug}/audit``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from tenantcommerce.auth import api_tokens, members
from tenantcommerce.auth.audit_log import AuditEntryOut, list_entries
from tenantcommerce.auth.guards import permissions_in_store, principal_of, requires
from tenantcommerce.errors import PermissionDenied, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime

ADMIN_PREFIX = "/api/admin/{slug:str}"


def request_id(request: Request[Any, Any, Any]) -> str | None:
    """The request id (for the audit log)."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


class TokensController(Controller):
    """API tokens of a store (permission ``tokens:manage``)."""

    path = f"{ADMIN_PREFIX}/tokens"
    tags = ["admin: tokens"]
    guards = [requires("tokens:manage")]
    security = [{"session": []}, {"bearer": []}]

    @post("/", responses=problem_responses(400, 401, 403, 404, 422))
    async def create(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[api_tokens.TokenInput]
    ) -> api_tokens.CreatedToken:
        """Create a token; its secret is in this answer only. Only a signed-in member can: never another token."""
        principal = principal_of(request)
        assert principal is not None
        if principal.via == "token":
            raise PermissionDenied("an API token cannot create tokens: sign in to create one")
        granted = await permissions_in_store(request)
        async with runtime.database.session() as session:
            return await api_tokens.create_token(session, principal, granted, data, request_id=request_id(request))

    @get("/", responses=problem_responses(400, 401, 403, 404))
    async def list_tokens(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[api_tokens.TokenOut]:
        """The store's tokens, newest first (never their secrets)."""
        async with runtime.database.session() as session:
            items, total = await api_tokens.list_tokens(session, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @delete("/{token_id:uuid}", status_code=HTTP_204_NO_CONTENT, responses=problem_responses(401, 403, 404))
    async def revoke(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], token_id: FromPath[UUID]
    ) -> None:
        """Revoke a token at once."""
        principal = principal_of(request)
        assert principal is not None
        async with runtime.database.session() as session:
            await api_tokens.revoke_token(session, principal, token_id, request_id=request_id(request))


class AuditController(Controller):
    """The store's audit log (permission ``audit:read``: owners and admins)."""

    path = f"{ADMIN_PREFIX}/audit"
    tags = ["admin: audit"]
    guards = [requires("audit:read")]
    security = [{"session": []}, {"bearer": []}]

    @get("/", responses=problem_responses(400, 401, 403, 404))
    async def list_audit(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[AuditEntryOut]:
        """Audited changes, newest first."""
        async with runtime.database.session() as session:
            items, total = await list_entries(session, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)


class MembersController(Controller):
    """Staff of a store: list (``members:read``); invite, change, remove (``members:manage``)."""

    path = f"{ADMIN_PREFIX}/members"
    tags = ["admin: members"]
    security = [{"session": []}, {"bearer": []}]

    @get("/", guards=[requires("members:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_members(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[members.MemberOut]:
        """Members with role, overrides and resulting permissions."""
        async with runtime.database.session() as session:
            items = await members.list_members(session)
        return Page(items=items[offset : offset + limit], limit=limit, offset=offset, total=len(items))

    @patch("/{user_id:uuid}", guards=[requires("members:manage")], responses=problem_responses(400, 401, 403, 404, 422))
    async def update(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        user_id: FromPath[UUID],
        data: JSONBody[members.MemberUpdate],
    ) -> members.MemberOut:
        """Change a member's role or permission overrides (owners only for owners; never the last owner)."""
        principal = principal_of(request)
        assert principal is not None
        granted = await permissions_in_store(request)
        async with runtime.database.session() as session:
            return await members.update_member(
                session, principal, user_id, data, granted=granted, request_id=request_id(request)
            )

    @delete(
        "/{user_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        guards=[requires("members:manage")],
        responses=problem_responses(401, 403, 404, 422),
    )
    async def remove(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], user_id: FromPath[UUID]
    ) -> None:
        """Remove a member (never the last owner)."""
        principal = principal_of(request)
        assert principal is not None
        async with runtime.database.session() as session:
            await members.remove_member(session, principal, user_id, request_id=request_id(request))

    @get("/invitations", guards=[requires("members:manage")], responses=problem_responses(400, 401, 403, 404))
    async def invitations(
        self, runtime: NamedDependency[Runtime], limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> Page[members.InvitationOut]:
        """Invitations, newest first."""
        async with runtime.database.session() as session:
            items = await members.list_invitations(session)
        return Page(items=items[offset : offset + limit], limit=limit, offset=offset, total=len(items))

    @post("/invitations", guards=[requires("members:manage")], responses=problem_responses(400, 401, 403, 404, 409))
    async def invite(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        data: JSONBody[members.InvitationInput],
    ) -> members.InvitationOut:
        """Invite someone by e-mail; the single-use token goes by mail and expires in 7 days."""
        principal = principal_of(request)
        assert principal is not None
        granted = await permissions_in_store(request)
        async with runtime.database.session() as session:
            return await members.invite(
                session, runtime.mailer, principal, data, granted=granted,
                accept_url=runtime.settings.effective_public_url, request_id=request_id(request),
            )  # fmt: skip

    @delete(
        "/invitations/{invitation_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        guards=[requires("members:manage")],
        responses=problem_responses(401, 403, 404),
    )
    async def revoke_invitation(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], invitation_id: FromPath[UUID]
    ) -> None:
        """Revoke a pending invitation."""
        principal = principal_of(request)
        assert principal is not None
        async with runtime.database.session() as session:
            await members.revoke_invitation(session, principal, invitation_id, request_id=request_id(request))
