"""Admin routes under ``/api/admin/{slug}/plugins/stripe``: Connect onboarding and the store's account.

| route | permission | does |
|---|---|---|
| ``POST /onboarding`` | ``settings:write`` | creates the store's Express account once, then a fresh onboarding link |
| ``GET /account`` | ``settings:read`` | the account's id and flags as last synced, and the platform fee that applies |
| ``POST /account/refresh`` | ``settings:write`` | reads the account from Stripe and records its flags |

The core mounts them for members of the store while the plugin is enabled for it (else 404).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession
from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.guards import principal_of, requires
from tenantcommerce.errors import BusinessRuleError, FieldError, problem_responses
from tenantcommerce.fields import EMAIL_PATTERN
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

from tenantcommerce_stripe import accounts, fees
from tenantcommerce_stripe.client import StripeApi
from tenantcommerce_stripe.state import AccountState, account_of

PLUGIN_ID = "stripe"

HttpUrl = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(?:[/?#][^\s]*)?$",
        max_length=2048,
        description="An absolute http(s) address.",
    ),
]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, upper case (DE).")]
Email = Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=320)]


class OnboardingRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where Stripe sends the merchant back, and the account's details (used only when the account is created).

    Attributes:
        refresh_url: where Stripe sends the merchant when the link expired or was used: it should ask for a new
            link (this endpoint again).
        return_url: where Stripe sends the merchant after the form (not a sign that onboarding is complete: read
            ``GET .../account``).
        country: the account's country (Stripe uses the platform's when omitted); fixed once the account exists.
        email: the account's e-mail address, to prefill the form.
    """

    refresh_url: HttpUrl
    return_url: HttpUrl
    country: Country | None = None
    email: Email | None = None


class OnboardingLink(msgspec.Struct, frozen=True, kw_only=True):
    """Send the merchant to ``url`` before ``expires_at``; a link works once."""

    account_id: str
    url: str
    expires_at: datetime.datetime


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    """The store's connected account as last synced with Stripe, and the platform fee on its payments."""

    account_id: str | None
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    synced_at: datetime.datetime | None
    fee: fees.EffectiveFee


def _view(account: AccountState | None, fee: fees.EffectiveFee) -> AccountView:
    if account is None:
        return AccountView(
            account_id=None,
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            synced_at=None,
            fee=fee,
        )
    return AccountView(
        account_id=account.id,
        charges_enabled=account.charges_enabled,
        payouts_enabled=account.payouts_enabled,
        details_submitted=account.details_submitted,
        synced_at=datetime.datetime.fromtimestamp(account.synced_at, datetime.UTC),
        fee=fee,
    )


def _require_configured(api: StripeApi) -> None:
    problems = api.settings.problems()
    if problems:
        raise BusinessRuleError(
            "Stripe is not configured on this platform: ask the platform operator to set it up",
            errors=[FieldError("stripe", problem) for problem in problems],
        )


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``'s transaction (scoped to the store), so state and audit entry
    commit together."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection), "the runtime database is asyncpg"
    return driver


class StripeAccountController(Controller):
    """The store's Stripe account."""

    path = "/"
    tags = ["plugin: stripe"]
    security = [{"session": []}, {"bearer": []}]

    @post(
        "/onboarding",
        status_code=HTTP_200_OK,
        guards=[requires("settings:write")],
        responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    )
    async def onboarding(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        stripe_api: NamedDependency[StripeApi],
        data: JSONBody[OnboardingRequest],
    ) -> OnboardingLink:
        """Create the store's Express account (once: later calls reuse it, and ``country`` and ``email`` then
        change nothing), then an Account Link to Stripe's onboarding form. Call it again for a new link whenever
        one expired. Creating the account is audited."""
        _require_configured(stripe_api)
        store = current_store()
        async with runtime.database.session() as session:
            conn = await driver_connection(session)
            account, created = await accounts.onboard(
                stripe_api, conn, store.id, country=data.country, email=data.email
            )
            if created:
                audit(
                    session,
                    principal_of(request),
                    "stripe.account_created",
                    "stripe_account",
                    account.id,
                    {"country": data.country, "email": data.email},
                    request_id=request_id(request),
                )
            await session.commit()
        link = await stripe_api.create_account_link(
            {
                "account": account.id,
                "refresh_url": data.refresh_url,
                "return_url": data.return_url,
                "type": "account_onboarding",
            }
        )
        return OnboardingLink(
            account_id=account.id,
            url=link.url,
            expires_at=datetime.datetime.fromtimestamp(link.expires_at, datetime.UTC),
        )

    @get("/account", guards=[requires("settings:read")], responses=problem_responses(401, 403, 404))
    async def account(self, runtime: NamedDependency[Runtime], stripe_api: NamedDependency[StripeApi]) -> AccountView:
        """The account as last synced (``account_id`` null before onboarding) and the effective platform fee."""
        plugin = (await runtime.plugins.for_store(current_store())).context_of(PLUGIN_ID)
        state = await plugin.get_state()
        return _view(account_of(state), fees.effective(stripe_api.settings.default_fee, state))

    @post(
        "/account/refresh",
        status_code=HTTP_200_OK,
        guards=[requires("settings:write")],
        responses=problem_responses(401, 403, 404, 422, 502),
    )
    async def refresh(self, runtime: NamedDependency[Runtime], stripe_api: NamedDependency[StripeApi]) -> AccountView:
        """Read the account from Stripe now and record its flags (``account.updated`` webhooks do the same)."""
        _require_configured(stripe_api)
        plugin = (await runtime.plugins.for_store(current_store())).context_of(PLUGIN_ID)
        async with plugin.transaction(readonly=False) as conn:
            account = await accounts.sync(stripe_api, conn)
        if account is None:
            raise BusinessRuleError(
                "this store has no Stripe account yet: start with POST .../plugins/stripe/onboarding",
                errors=[FieldError("account", "not onboarded")],
            )
        state = await plugin.get_state()
        return _view(account, fees.effective(stripe_api.settings.default_fee, state))


def admin_router(api: StripeApi) -> Router:
    """The admin routes, with ``stripe_api`` (the app's :class:`StripeApi`) as a dependency."""
    return Router(
        path="/",
        route_handlers=[StripeAccountController],
        dependencies={"stripe_api": Provide(lambda: api, use_cache=True, sync_to_thread=False)},
    )
