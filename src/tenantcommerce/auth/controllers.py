"""``/api/auth/``: register, sign in and out, the current user, password change and reset, the CSRF cookie."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from tenantcommerce.auth import services
from tenantcommerce.auth.guards import principal_of, staff_signed_in
from tenantcommerce.auth.members import AcceptInput, accept_invitation
from tenantcommerce.auth.ratelimit import client_rate_limit
from tenantcommerce.auth.schemas import (
    Accepted,
    ChangePasswordInput,
    LoginInput,
    MeOut,
    RegisterInput,
    ResetInput,
    ResetRequestInput,
)
from tenantcommerce.auth.sessions import rotate_session, session_payload
from tenantcommerce.errors import AuthenticationRequired, problem_responses
from tenantcommerce.runtime import Runtime

_REGISTERED = "If the address can be used, the account is ready; check your mail."
_RESET_REQUESTED = "If an account uses this address, a reset link is on its way."


class AuthController(Controller):
    """Accounts and platform sessions."""

    path = "/api/auth"
    tags = ["auth"]

    @get("/csrf", status_code=HTTP_204_NO_CONTENT, summary="Get the CSRF cookie")
    async def csrf(self) -> None:
        """Sets the ``csrftoken`` cookie; send its value back in ``X-CSRFToken`` on unsafe requests."""

    @post(
        "/register",
        status_code=HTTP_202_ACCEPTED,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 403, 422, 429),
    )
    async def register(self, runtime: NamedDependency[Runtime], data: JSONBody[RegisterInput]) -> Accepted:
        """Create an account. A known address gets a mail instead; the answer is the same."""
        await runtime.throttle.hit("register", data.email)
        await services.register(runtime.database, runtime.mailer, email=data.email, password=data.password,
                                name=data.name)  # fmt: skip
        return Accepted(detail=_REGISTERED)

    @post(
        "/login",
        status_code=HTTP_200_OK,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 401, 403, 429),
    )
    async def login(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[LoginInput]
    ) -> MeOut:
        """Sign in; the session cookie is set on the answer."""
        await runtime.throttle.hit("login", data.email)
        user = await services.authenticate(runtime.database, email=data.email, password=data.password)
        rotate_session(request)
        request.set_session(session_payload(str(user.id), user.session_epoch, kind="staff"))
        return await services.describe_user(runtime.database, user.id)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, responses=problem_responses(403))
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        """End this session."""
        request.clear_session()

    @get("/me", guards=[staff_signed_in], responses=problem_responses(401))
    async def me(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> MeOut:
        """The signed-in user and the stores they work in."""
        principal = principal_of(request)
        if principal is None:
            raise AuthenticationRequired("sign in first")
        return await services.describe_user(runtime.database, principal.user_id)

    @post(
        "/password/change",
        status_code=HTTP_204_NO_CONTENT,
        guards=[staff_signed_in],
        responses=problem_responses(400, 401, 403, 422),
    )
    async def change_password(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[ChangePasswordInput]
    ) -> None:
        """Change the password; every other session ends, this one stays signed in."""
        principal = principal_of(request)
        assert principal is not None  # the guard saw to it
        epoch = await services.change_password(
            runtime.database, principal.user_id, current=data.current_password, new=data.new_password
        )
        rotate_session(request)
        request.set_session(session_payload(str(principal.user_id), epoch, kind="staff"))

    @post("/invitations/accept", guards=[staff_signed_in], responses=problem_responses(400, 401, 403, 422))
    async def accept_invitation(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[AcceptInput]
    ) -> MeOut:
        """Join the store of an invitation addressed to you."""
        principal = principal_of(request)
        assert principal is not None
        async with runtime.database.session() as session:
            await accept_invitation(
                runtime.database, session, principal, data.token, request_id=request.scope["state"].get("request_id")
            )
        return await services.describe_user(runtime.database, principal.user_id)

    @post(
        "/password/reset-request",
        status_code=HTTP_202_ACCEPTED,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 403, 429),
    )
    async def reset_request(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[ResetRequestInput]
    ) -> Accepted:
        """Mail a reset link if the account exists; the answer is the same either way."""
        await runtime.throttle.hit("reset", data.email)
        # The link comes from settings, never from the request's Host (which a caller controls).
        await services.request_reset(
            runtime.database, runtime.mailer, email=data.email, reset_url=runtime.settings.effective_public_url
        )
        return Accepted(detail=_RESET_REQUESTED)

    @post(
        "/password/reset",
        status_code=HTTP_204_NO_CONTENT,
        middleware=[client_rate_limit()],
        responses=problem_responses(400, 403, 422, 429),
    )
    async def reset(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], data: JSONBody[ResetInput]
    ) -> None:
        """Choose a new password with the token from the mail; every session of the account ends."""
        await services.reset_password(runtime.database, token=data.token, new_password=data.new_password)
        request.clear_session()
