"""The hook implementations of the ``stripe`` plugin (entry point ``stripe`` in the group ``tenantcommerce``).

The deployment's settings (``TC_STRIPE_*``) are read when the register hooks run, at start-up; the gateway and the
routes of an app share one :class:`~tenantcommerce_stripe.client.StripeApi` built from them. The plugin registers no
settings schema: merchants configure nothing (their config must stay ``{}``); the connected account and the platform
fee live in the plugin's state, written by onboarding and by platform operators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tenantcommerce.plugins import PaymentGateway, Routes, StoreWarning, hookimpl

from tenantcommerce_stripe.admin import admin_router
from tenantcommerce_stripe.client import StripeApi, api_for
from tenantcommerce_stripe.gateway import StripeGateway
from tenantcommerce_stripe.platform import platform_router
from tenantcommerce_stripe.settings import StripeSettings
from tenantcommerce_stripe.state import account_of

if TYPE_CHECKING:
    from tenantcommerce.plugins import PluginContext
    from tenantcommerce.tenancy.context import StoreContext

PLUGIN_ID = "stripe"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def current_api() -> StripeApi:
    """The :class:`StripeApi` of the settings in the environment now."""
    return api_for(StripeSettings.from_env())


@hookimpl
def tc_register_payment_gateways(register: Callable[[PaymentGateway], None]) -> None:
    """The ``stripe`` gateway (name "Card (Stripe)")."""
    register(StripeGateway(current_api()))


@hookimpl
def tc_register_routes(register: Callable[[Routes], None]) -> None:
    """Onboarding and the account (admin), the platform fee (platform operators)."""
    api = current_api()
    register(Routes("admin", [admin_router(api)]))
    register(Routes("platform", [platform_router(api)]))


@hookimpl
def tc_register_migrations(register: Callable[[Path], None]) -> None:
    """The ``stripe`` Alembic branch (``stripe_payment_intents``)."""
    register(MIGRATIONS)


@hookimpl
def tc_register_setup_problems(register: Callable[[str], None]) -> None:
    """One sentence per missing or malformed ``TC_STRIPE_*`` variable."""
    for problem in StripeSettings.from_env().problems():
        register(problem)


@hookimpl
async def tc_collect_store_warnings(ctx: StoreContext, plugin: PluginContext) -> Sequence[StoreWarning]:
    """What keeps the store from taking card payments, or from being paid out."""
    problems = StripeSettings.from_env().problems()
    if problems:
        return [StoreWarning(message=f"Stripe is not configured on this platform: {'; '.join(problems)}")]
    account = account_of(await plugin.get_state())
    if account is None:
        return [
            StoreWarning(
                message="no Stripe account is connected: start onboarding (POST "
                f"/api/admin/{ctx.slug}/plugins/stripe/onboarding); customers cannot pay by card until it is done",
            )
        ]
    warnings = []
    if not account.charges_enabled:
        warnings.append(
            StoreWarning(
                message=f"Stripe has not enabled charges for account {account.id}: finish onboarding (a new link: "
                f"POST /api/admin/{ctx.slug}/plugins/stripe/onboarding); customers cannot pay by card until then",
            )
        )
    if not account.payouts_enabled:
        warnings.append(
            StoreWarning(
                message=f"Stripe has not enabled payouts for account {account.id}: payments collect in its Stripe "
                "balance until the details Stripe asks for are complete",
            )
        )
    return warnings
