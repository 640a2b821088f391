"""Platform routes under ``/api/plugins/stripe`` (platform operators only; anyone else gets 404): the platform fee.

| route | does |
|---|---|
| ``GET /fees`` | the deployment's default fee and every store's own |
| ``GET /stores/{slug}/fee`` | the fee a store's payments use |
| ``PUT /stores/{slug}/fee`` | give a store its own fee (``{"percent_bp": 250, "fixed_minor": 30}``) |
| ``DELETE /stores/{slug}/fee`` | back to the default |

A store's own fee lives in the plugin's state for the store, which merchants can read but never write. Changes are
audited in the store's audit log.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Router, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK
from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.auth.audit_log import audit
from tenantcommerce.auth.guards import principal_of
from tenantcommerce.errors import NotFound, problem_responses
from tenantcommerce.plugins.state import read_state
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.tenancy.platform_controllers import operator_signed_in

from tenantcommerce_stripe import fees
from tenantcommerce_stripe import state as plugin_state
from tenantcommerce_stripe.admin import driver_connection
from tenantcommerce_stripe.client import StripeApi

PLUGIN_ID = "stripe"


class StoreFee(msgspec.Struct, frozen=True, kw_only=True):
    """The fee a store's payments use (``source``: ``store`` when an operator set it, else ``default``)."""

    store: str
    store_id: UUID
    percent_bp: int
    fixed_minor: int
    source: fees.FeeSource


class FeesView(msgspec.Struct, frozen=True, kw_only=True):
    """The deployment's default (``TC_STRIPE_FEE_BP``, ``TC_STRIPE_FEE_FIXED``) and the stores with their own."""

    default: fees.FeePolicy
    overrides: list[StoreFee]


def _store_fee(store: StoreContext, fee: fees.EffectiveFee) -> StoreFee:
    return StoreFee(
        store=store.slug, store_id=store.id, percent_bp=fee.percent_bp, fixed_minor=fee.fixed_minor, source=fee.source
    )


async def _store(runtime: Runtime, slug: str) -> StoreContext:
    store = await runtime.resolver.by_slug(slug)
    if store is None:
        raise NotFound(f"no store is called {slug!r}")
    return store


class PlatformFeesController(Controller):
    """The platform fee, default and per store."""

    path = "/"
    tags = ["plugin: stripe"]
    guards = [operator_signed_in]
    security = [{"session": []}]

    @get("/fees", responses=problem_responses(401, 404))
    async def list_fees(self, runtime: NamedDependency[Runtime], stripe_api: NamedDependency[StripeApi]) -> FeesView:
        """The default fee, and every store that has its own (by slug)."""
        async with runtime.database.pool.acquire() as conn:
            stores = await conn.fetch("SELECT id, slug FROM stores ORDER BY slug")
        overrides = []
        for row in stores:
            async with runtime.database.store_transaction(row["id"]) as conn:
                own = fees.store_policy(await read_state(conn, PLUGIN_ID))
            if own is not None:
                overrides.append(
                    StoreFee(
                        store=row["slug"],
                        store_id=row["id"],
                        percent_bp=own.percent_bp,
                        fixed_minor=own.fixed_minor,
                        source="store",
                    )
                )
        return FeesView(default=stripe_api.settings.default_fee, overrides=overrides)

    @get("/stores/{store_slug:str}/fee", responses=problem_responses(401, 404))
    async def read_fee(
        self, runtime: NamedDependency[Runtime], stripe_api: NamedDependency[StripeApi], store_slug: FromPath[str]
    ) -> StoreFee:
        """The fee a store's payments use now."""
        store = await _store(runtime, store_slug)
        async with runtime.database.store_transaction(store.id) as conn:
            state = await read_state(conn, PLUGIN_ID)
        return _store_fee(store, fees.effective(stripe_api.settings.default_fee, state))

    @put("/stores/{store_slug:str}/fee", status_code=HTTP_200_OK, responses=problem_responses(400, 401, 404))
    async def set_fee(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        stripe_api: NamedDependency[StripeApi],
        store_slug: FromPath[str],
        data: JSONBody[fees.FeePolicy],
    ) -> StoreFee:
        """Give the store its own fee (it applies to PaymentIntents created from now on); audited."""
        store = await _store(runtime, store_slug)
        await self._change(request, runtime, store, data)
        return _store_fee(
            store, fees.effective(stripe_api.settings.default_fee, {fees.STATE_KEY: msgspec.to_builtins(data)})
        )

    @delete("/stores/{store_slug:str}/fee", status_code=HTTP_200_OK, responses=problem_responses(401, 404))
    async def clear_fee(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[Runtime],
        stripe_api: NamedDependency[StripeApi],
        store_slug: FromPath[str],
    ) -> StoreFee:
        """Remove the store's own fee: the default applies again (harmless when it had none); audited."""
        store = await _store(runtime, store_slug)
        await self._change(request, runtime, store, None)
        return _store_fee(store, fees.effective(stripe_api.settings.default_fee, {}))

    @staticmethod
    async def _change(
        request: Request[Any, Any, Any], runtime: Runtime, store: StoreContext, policy: fees.FeePolicy | None
    ) -> None:
        with use_store(store):
            async with runtime.database.session() as session:
                conn = await driver_connection(session)
                state = await plugin_state.locked(conn)
                before = state.get(fees.STATE_KEY)
                after = msgspec.to_builtins(policy) if policy is not None else None
                if before == after:
                    return
                if after is None:
                    state.pop(fees.STATE_KEY, None)
                else:
                    state[fees.STATE_KEY] = after
                await plugin_state.save(conn, state)
                audit(
                    session,
                    principal_of(request),
                    "stripe.fee_set" if policy is not None else "stripe.fee_cleared",
                    "stripe_fee",
                    store.id,
                    {"fee": {"from": before, "to": after}},
                    request_id=request_id(request),
                )
                await session.commit()


def platform_router(api: StripeApi) -> Router:
    """The platform routes, with ``stripe_api`` (the app's :class:`StripeApi`) as a dependency."""
    return Router(
        path="/",
        route_handlers=[PlatformFeesController],
        dependencies={"stripe_api": Provide(lambda: api, use_cache=True, sync_to_thread=False)},
    )
