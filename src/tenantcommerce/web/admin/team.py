"""``/admin/{slug}/members``, ``/admin/{slug}/tokens`` and ``/admin/{slug}/audit``: staff and invitations, API
tokens, the audit log. The same services and guards as the JSON admin API."""

from __future__ import annotations

import math
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Response

from tenantcommerce.auth import api_tokens, members
from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.audit_log import list_entries
from tenantcommerce.auth.guards import permissions_in_store, principal_of, requires
from tenantcommerce.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS, ROLES
from tenantcommerce.auth.principal import Principal
from tenantcommerce.errors import AuthenticationRequired, TenantCommerceError
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store
from tenantcommerce.web.admin.pages import (
    convert,
    field_messages,
    form_data,
    html,
    see_other,
    store_page,
    whole_number,
)

PAGE_SIZE = 50
INVITE_FIELDS = ("email", "role")
TOKEN_FIELDS = ("name", "permissions", "expires_in_days")
NOTICES = {
    "invited": "Invitation sent.",
    "invitation-revoked": "Invitation revoked.",
    "role-changed": "Role changed.",
    "removed": "Member removed.",
    "permissions-changed": "Permissions saved.",
    "revoked": "Token revoked.",
}

Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
Notice = Annotated[str | None, QueryParameter(max_length=40)]


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = principal_of(request)
    if principal is None:
        raise AuthenticationRequired("sign in first")
    return principal


class MembersPagesController(Controller):
    """Staff of the store and invitations (read: ``members:read``; change: ``members:manage``)."""

    path = "/admin/{slug:str}/members"
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        *,
        form: str | None = None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "members")
        async with runtime.database.session() as session:
            people = await members.list_members(session)
            invitations = await members.list_invitations(session) if "members:manage" in context["can"] else []
        return html(
            request,
            "members.html",
            {
                **context,
                "members": people,
                "invitations": [row for row in invitations if row.accepted_at is None and row.revoked_at is None],
                "roles": ROLES,
                "me_id": _principal(request).user_id,
                "form": form,
                "values": values if values is not None else {"role": "staff"},
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @get("/", guards=[requires("members:read")])
    async def show(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], notice: Notice = None
    ) -> Response[str]:
        """Members with their roles, pending invitations, the invitation form."""
        return await self._page(request, runtime, notice=notice)

    @post("/invitations", guards=[requires("members:manage")])
    async def invite(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Invite someone by e-mail (the link goes by mail)."""
        form = await form_data(request)
        try:
            data = convert(
                {"email": form.get("email", "").strip(), "role": form.get("role", "")}, members.InvitationInput
            )
            granted = await permissions_in_store(request)
            async with runtime.database.session() as session:
                await members.invite(
                    session, runtime.mailer, _principal(request), data, granted=granted,
                    accept_url=runtime.settings.effective_public_url, request_id=request_id(request),
                )  # fmt: skip
        except TenantCommerceError as exc:
            errors = field_messages(exc, INVITE_FIELDS)
            return await self._page(request, runtime, form="invite", values=form, errors=errors, status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/members?notice=invited")

    @post("/invitations/{invitation_id:uuid}/revoke", guards=[requires("members:manage")])
    async def revoke_invitation(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], invitation_id: FromPath[UUID]
    ) -> Response[Any]:
        """Revoke a pending invitation."""
        await form_data(request)
        try:
            async with runtime.database.session() as session:
                await members.revoke_invitation(
                    session, _principal(request), invitation_id, request_id=request_id(request)
                )
        except TenantCommerceError as exc:
            return await self._page(request, runtime, errors=field_messages(exc, ()), status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/members?notice=invitation-revoked")

    @post("/{user_id:uuid}/role", guards=[requires("members:manage")])
    async def change_role(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], user_id: FromPath[UUID]
    ) -> Response[Any]:
        """Change a member's role (owners only for owners; never the last owner)."""
        form = await form_data(request)
        try:
            data = convert({"role": form.get("role", "")}, members.MemberUpdate)
            granted = await permissions_in_store(request)
            async with runtime.database.session() as session:
                await members.update_member(
                    session, _principal(request), user_id, data, granted=granted, request_id=request_id(request)
                )
        except TenantCommerceError as exc:
            errors = {f"{user_id}": message for message in field_messages(exc, ()).values()}
            return await self._page(request, runtime, form=f"member-{user_id}", errors=errors, status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/members?notice=role-changed")

    @get("/{user_id:uuid}", guards=[requires("members:read")])
    async def member(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        user_id: FromPath[UUID],
        notice: Notice = None,
    ) -> Response[str]:
        """One member: the role's permissions and the overrides that add or take away some."""
        return await self._member_page(request, runtime, user_id, notice=notice)

    async def _member_page(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        user_id: UUID,
        *,
        chosen: list[str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "members")
        async with runtime.database.session() as session:
            person = await members.get_member(session, user_id)
        return html(
            request,
            "member.html",
            {
                **context,
                "person": person,
                "all_permissions": PERMISSIONS,
                "from_role": ROLE_PERMISSIONS.get(person.role, frozenset()),
                "chosen": chosen if chosen is not None else person.permissions,
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @post("/{user_id:uuid}/permissions", guards=[requires("members:manage")])
    async def change_permissions(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], user_id: FromPath[UUID]
    ) -> Response[Any]:
        """Save the member's permissions as overrides of the role: each ticked one the role lacks is added, each
        unticked one the role has is taken away (the JSON API's ``permissions`` map)."""
        form = await request.form()
        chosen = [str(value) for value in form.getall("permissions", []) if isinstance(value, str)]
        granted = await permissions_in_store(request)
        try:
            async with runtime.database.session() as session:
                person = await members.get_member(session, user_id)
                overrides = overrides_for(person.role, chosen)
                if overrides != person.overrides:
                    data = convert({"permissions": overrides}, members.MemberUpdate)
                    await members.update_member(
                        session, _principal(request), user_id, data, granted=granted, request_id=request_id(request)
                    )
        except TenantCommerceError as exc:
            if exc.status_code == 404:
                raise
            errors = {item.field.removeprefix("permissions."): item.message for item in exc.errors}
            errors[""] = exc.detail
            return await self._member_page(
                request, runtime, user_id, chosen=chosen, errors=errors, status=exc.status_code
            )
        return see_other(f"/admin/{current_store().slug}/members/{user_id}?notice=permissions-changed")

    @post("/{user_id:uuid}/remove", guards=[requires("members:manage")])
    async def remove(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], user_id: FromPath[UUID]
    ) -> Response[Any]:
        """Remove a member (never the last owner)."""
        await form_data(request)
        try:
            async with runtime.database.session() as session:
                await members.remove_member(session, _principal(request), user_id, request_id=request_id(request))
        except TenantCommerceError as exc:
            errors = {f"{user_id}": message for message in field_messages(exc, ()).values()}
            return await self._page(request, runtime, form=f"member-{user_id}", errors=errors, status=exc.status_code)
        return see_other(f"/admin/{current_store().slug}/members?notice=removed")


def overrides_for(role: str, chosen: list[str]) -> dict[str, bool]:
    """The overrides that give a member of ``role`` exactly the ``chosen`` permissions (unknown names are kept, so the
    service refuses them by name)."""
    defaults = ROLE_PERMISSIONS.get(role, frozenset())
    wanted = set(chosen)
    overrides = dict.fromkeys(sorted(wanted - defaults), True)
    overrides.update(dict.fromkeys(sorted(defaults - wanted), False))
    return overrides


class TokensPagesController(Controller):
    """API tokens of the store (``tokens:manage``)."""

    path = "/admin/{slug:str}/tokens"
    include_in_schema = False
    guards = [requires("tokens:manage")]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        runtime: Runtime,
        *,
        created: api_tokens.CreatedToken | None = None,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response[str]:
        context = await store_page(request, runtime, "tokens")
        async with runtime.database.session() as session:
            tokens, _ = await api_tokens.list_tokens(session, limit=100, offset=0)
        granted = await permissions_in_store(request)
        return html(
            request,
            "tokens.html",
            {
                **context,
                "tokens": tokens,
                "grantable": [name for name in PERMISSIONS if name in granted],
                "created": created,
                "values": values if values is not None else {"expires_in_days": "90", "permissions": []},
                "errors": errors or {},
                "notice": NOTICES.get(notice or ""),
            },
            status=status,
        )

    @get("/")
    async def show(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], notice: Notice = None
    ) -> Response[str]:
        """The tokens (never their secrets) and the form of a new one."""
        return await self._page(request, runtime, notice=notice)

    @post("/")
    async def create(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Create a token and show its secret, once (this answer is the only place it appears: no redirect)."""
        form = await request.form()
        chosen = [str(value) for value in form.getall("permissions", []) if isinstance(value, str)]
        values: dict[str, Any] = {
            "name": str(form.get("name", "")).strip(),
            "expires_in_days": str(form.get("expires_in_days", "")).strip(),
            "permissions": chosen,
        }
        try:
            data: dict[str, Any] = {"name": values["name"], "permissions": chosen}
            if values["expires_in_days"]:
                data["expires_in_days"] = whole_number(values["expires_in_days"], "expires_in_days")
            token_input = convert(data, api_tokens.TokenInput)
            granted = await permissions_in_store(request)
            async with runtime.database.session() as session:
                created = await api_tokens.create_token(
                    session, _principal(request), granted, token_input, request_id=request_id(request)
                )
        except TenantCommerceError as exc:
            errors = field_messages(exc, TOKEN_FIELDS)
            return await self._page(request, runtime, values=values, errors=errors, status=exc.status_code)
        return await self._page(request, runtime, created=created, status=201)

    @post("/{token_id:uuid}/revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], token_id: FromPath[UUID]
    ) -> Response[Any]:
        """Revoke a token at once."""
        await form_data(request)
        async with runtime.database.session() as session:
            await api_tokens.revoke_token(session, _principal(request), token_id, request_id=request_id(request))
        return see_other(f"/admin/{current_store().slug}/tokens?notice=revoked")


class AuditPagesController(Controller):
    """The audit log (``audit:read``)."""

    path = "/admin/{slug:str}/audit"
    include_in_schema = False
    guards = [requires("audit:read")]

    @get("/")
    async def show(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], page: Page = 1
    ) -> Response[str]:
        """Audited changes, newest first."""
        context = await store_page(request, runtime, "audit")
        async with runtime.database.session() as session:
            entries, total = await list_entries(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            people = {member.user_id: member.email for member in await members.list_members(session)}
        return html(
            request,
            "audit.html",
            {
                **context,
                "entries": entries,
                "people": people,
                "total": total,
                "page": page,
                "pages": max(1, math.ceil(total / PAGE_SIZE)),
                "filters": {},
            },
        )
