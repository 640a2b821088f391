"""Staff sign-in and sign-out (``/admin/login``, ``/admin/logout``) and the store picker (``/admin/``): the same
service and session as ``POST /api/auth/login``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Response

from tenantcommerce.auth import services as auth_services
from tenantcommerce.auth.ratelimit import client_rate_limit
from tenantcommerce.auth.schemas import LoginInput
from tenantcommerce.auth.sessions import rotate_session, session_payload
from tenantcommerce.errors import TenantCommerceError
from tenantcommerce.runtime import Runtime
from tenantcommerce.web.admin.pages import convert, field_messages, form_data, html, me, safe_next, see_other

LOGIN_FIELDS = ("email", "password")


class DashboardAuthController(Controller):
    """Sign in, sign out, pick a store."""

    path = "/admin"
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[str] | Redirect:
        """The stores the signed-in user works in (straight to the store when there is one)."""
        user = await me(request, runtime)
        if user is None:
            return see_other("/admin/login")
        if len(user.stores) == 1:
            return see_other(f"/admin/{user.stores[0].slug}/")
        return html(request, "stores.html", {"user": user.user, "stores": user.stores})

    @get("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next_: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
    ) -> Response[str]:
        """The sign-in form."""
        return html(request, "login.html", {"next": safe_next(next_), "values": {}, "errors": {}})

    @post("/login", middleware=[client_rate_limit()])
    async def login(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Sign in (the session cookie is set on the redirect); wrong credentials re-render the form with one message
        for both cases (no enumeration)."""
        form = await form_data(request)
        next_path = safe_next(form.pop("next", None))
        values = {"email": form.get("email", "")}
        try:
            data = convert({name: form.get(name, "") for name in LOGIN_FIELDS}, LoginInput)
            await runtime.throttle.hit("login", data.email)
            user = await auth_services.authenticate(runtime.database, email=data.email, password=data.password)
        except TenantCommerceError as exc:
            errors = field_messages(exc, LOGIN_FIELDS)
            status = 401 if exc.status_code == 401 else exc.status_code
            return html(request, "login.html", {"next": next_path, "values": values, "errors": errors}, status=status)
        rotate_session(request)
        request.set_session(session_payload(str(user.id), user.session_epoch, kind="staff"))
        return see_other(next_path)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        """End this session."""
        request.clear_session()
        return see_other("/admin/login")
