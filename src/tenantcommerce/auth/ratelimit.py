"""Rate limits on sign-in, registration and password reset: per client address and per account.

Per client: Litestar's rate-limit middleware on those routes, one budget per route and address. Per account: a fixed
window counted in a Litestar store inside the handler (memory by default, Redis when ``TC_REDIS_URL`` is set). Both
answer 429 problem+json with ``Retry-After``.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.stores.base import Store
from litestar.types import ASGIApp, Receive, Scope, Send

RATE_LIMIT_STORE = "tenantcommerce_rate_limits"


def account_limits(login_limit: int) -> dict[str, tuple[int, int]]:
    """Attempts allowed per account (e-mail) and window in seconds, by action (``TC_AUTH_ACCOUNT_LIMIT``)."""
    return {
        "login": (login_limit, 15 * 60),
        "register": (max(1, login_limit // 3), 60 * 60),
        "reset": (max(1, login_limit // 3), 60 * 60),
    }


def _client_and_route(request: Request[Any, Any, Any]) -> str:
    return f"{get_remote_address(request)}|{request.scope.get('path_template', request.url.path)}"


class ClientRateLimit(ASGIMiddleware):
    """Route middleware running Litestar's rate limit with the budget of the app's settings
    (``TC_AUTH_CLIENT_LIMIT`` requests a minute per client address and route)."""

    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self) -> None:
        self._limited: dict[int, RateLimitMiddleware] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limited = self._limited.get(id(next_app))
        if limited is None:
            from tenantcommerce.app import runtime_of

            per_minute = runtime_of(scope["app"]).settings.auth_client_limit
            config = RateLimitConfig(
                rate_limit=("minute", per_minute), store=RATE_LIMIT_STORE, identifier_for_request=_client_and_route
            )
            limited = self._limited[id(next_app)] = RateLimitMiddleware(app=next_app, config=config)
        try:
            await limited(scope, receive, send)
        except TooManyRequestsException as exc:
            headers = dict(exc.headers or {})
            retry = headers.get("RateLimit-Reset", "60")
            raise TooManyRequestsException(
                detail=f"too many attempts from this address: try again in {retry} seconds",
                headers={**headers, "Retry-After": retry},
            ) from None


def client_rate_limit() -> ClientRateLimit:
    """The per-client rate limit, for the ``middleware`` of a route."""
    return ClientRateLimit()


class AccountThrottle:
    """Counts attempts per action and account in a fixed window."""

    def __init__(self, store: Store, login_limit: int) -> None:
        self.store = store
        self.limits = account_limits(login_limit)

    async def hit(self, action: str, account: str) -> None:
        """Count one attempt; raise 429 once the account's budget for ``action`` is spent.

        Raises:
            TooManyRequestsException: too many attempts; ``Retry-After`` says when to try again.
        """
        limit, window = self.limits[action]
        now = int(time.time())
        start = now - now % window
        key = f"account:{action}:{account.strip().lower()}:{start}"
        count = int((await self.store.get(key)) or 0) + 1
        await self.store.set(key, str(count), expires_in=window)
        if count > limit:
            raise TooManyRequestsException(
                detail=f"too many attempts for this account: try again in {start + window - now} seconds",
                headers={"Retry-After": str(start + window - now)},
            )
