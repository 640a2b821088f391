"""CSRF protection with Litestar's own middleware, on every unsafe request except bearer-token ones.

Bearer requests carry no ambient credential a third-party page could ride on, so they are exempt; so are requests
carrying ``X-Cart-Token`` (a custom header, which another site's page cannot send without a CORS grant we never
give), and cart and checkout calls that carry no cookie at all (nothing ambient to ride on; sign-in is not among
them, so no one can be signed in to another's account by a forged form). Provider webhooks
(``/api/payments/{plugin}/webhook``) are excluded by path. Clients read the token from the ``csrftoken`` cookie (set
on any safe request, e.g. ``GET /api/auth/csrf``) and send it back in ``X-CSRFToken``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from litestar.config.csrf import CSRFConfig
from litestar.middleware import ASGIMiddleware
from litestar.middleware.csrf import CSRFMiddleware

from tenantcommerce.auth.sessions import ANONYMOUS_OPT
from tenantcommerce.auth.tokens import API_TOKEN_PREFIX

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
WEBHOOK_PATHS = [r"^/api/payments/[^/]+/webhook"]


def has_api_token(scope: Scope) -> bool:
    """True when the request authenticates with one of our API tokens (``Authorization: Bearer tc_...``).

    Any other bearer value does not authenticate (the session cookie would), so it does not exempt from CSRF.
    """
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return value[:7].lower() == b"bearer " and value[7:].strip().startswith(API_TOKEN_PREFIX.encode())
    return False


def csrf_config(secret: str, *, secure: bool) -> CSRFConfig:
    """Litestar's CSRF settings for tenantcommerce."""
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=secure,
        cookie_samesite="lax",
        exclude=WEBHOOK_PATHS,
    )


_CART_PATHS = re.compile(r"^/api/storefront/[^/]+/(cart|checkout)(/|$)")


def _carries_no_ambient_credential(scope: Scope) -> bool:
    names = {name for name, _ in scope.get("headers", ())}
    if b"x-cart-token" in names:
        return True
    return b"cookie" not in names and _CART_PATHS.match(scope["path"]) is not None


def _is_safe_api_read(scope: Scope) -> bool:
    # Safe API reads need no token and should not set the cookie (the storefront's hot path stays cacheable);
    # GET /api/auth/csrf and HTML pages still get it.
    path: str = scope["path"]
    return scope.get("method") in {"GET", "HEAD", "OPTIONS"} and path.startswith("/api/") and path != "/api/auth/csrf"


class BearerExemptCSRFMiddleware(ASGIMiddleware):
    """Runs Litestar's CSRF middleware unless the request carries a bearer token."""

    scopes = ("http",)  # type: ignore[assignment]
    exclude_opt_key = ANONYMOUS_OPT

    def __init__(self, config: CSRFConfig) -> None:
        self.config = config
        self._protected: dict[int, CSRFMiddleware] = {}  # one per route stack, built on first use

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if has_api_token(scope) or _is_safe_api_read(scope) or _carries_no_ambient_credential(scope):
            await next_app(scope, receive, send)
            return
        protected = self._protected.get(id(next_app))
        if protected is None:
            protected = self._protected[id(next_app)] = CSRFMiddleware(app=next_app, config=self.config)
        await protected(scope, receive, send)
