"""Every hook of tenantcommerce, in one module.

Four kinds, the name says which (see ``docs/plugins.md``):

* **register** ``tc_register_<things>(register)``: called once at start-up, synchronously; the plugin calls
  ``register(obj)`` for each thing it provides.
* **decide** ``tc_<verb>_<noun>(ctx, ..., plugin)``: async, per call; the first non-``None`` result wins.
* **collect** ``tc_collect_<things>(ctx, ..., plugin)``: async, per call; every result is kept.
* **event** ``tc_on_<noun>_<past>(ctx, ..., plugin)``: async, after commit, delivered by the worker through the
  outbox; a failure is logged, counted and retried for that plugin alone.

Per-call hooks run only for plugins enabled for the store, highest ``store_plugins.priority`` first, ties in
pluggy's call order. ``ctx`` (a :class:`~tenantcommerce.tenancy.context.StoreContext`) is always the first
argument and ``plugin`` (a :class:`~tenantcommerce.plugins.context.PluginContext` with the plugin's config, state
and database access) the last; an implementation may leave out arguments it does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pluggy

if TYPE_CHECKING:
    import click

    from tenantcommerce.auth.mailer import Mailer
    from tenantcommerce.plugins.context import PluginContext
    from tenantcommerce.plugins.events import OrderEvent, PluginToggled, ProductChanged, StoreCreated
    from tenantcommerce.plugins.providers import PaymentGateway, ShippingCarrier, TaxCalculator, Theme
    from tenantcommerce.plugins.registrations import PeriodicJob, Routes
    from tenantcommerce.plugins.types import CheckoutRejection, CheckoutSummary, StoreWarning
    from tenantcommerce.tenancy.context import StoreContext

hookspec = pluggy.HookspecMarker("tenantcommerce")

# --- register hooks (start-up, sync) --------------------------------------------------------------------------------


@hookspec
def tc_register_payment_gateways(register: Callable[[PaymentGateway], None]) -> None:
    """Register payment gateways (:class:`~tenantcommerce.plugins.providers.PaymentGateway`).

    Args:
        register: call once per gateway; its ``id`` must be unique among gateways.
    """


@hookspec
def tc_register_shipping_carriers(register: Callable[[ShippingCarrier], None]) -> None:
    """Register shipping carriers (:class:`~tenantcommerce.plugins.providers.ShippingCarrier`).

    Args:
        register: call once per carrier; its ``id`` must be unique among carriers.
    """


@hookspec
def tc_register_tax_calculators(register: Callable[[TaxCalculator], None]) -> None:
    """Register tax calculators (:class:`~tenantcommerce.plugins.providers.TaxCalculator`).

    Args:
        register: call once per calculator; its ``id`` must be unique among calculators.
    """


@hookspec
def tc_register_themes(register: Callable[[Theme], None]) -> None:
    """Register storefront themes (:class:`~tenantcommerce.plugins.providers.Theme`).

    Args:
        register: call once per theme; its ``id`` must be unique among themes.
    """


@hookspec
def tc_register_routes(register: Callable[[Routes], None]) -> None:
    """Register HTTP route handlers, mounted under the plugin's prefixes
    (:data:`~tenantcommerce.plugins.registrations.ROUTE_PREFIXES`).

    Args:
        register: call with a :class:`~tenantcommerce.plugins.registrations.Routes` per scope.
    """


@hookspec
def tc_register_cli_commands(register: Callable[[click.Command], None]) -> None:
    """Register ``tenantcommerce`` sub-commands (click commands or groups; names must not clash).

    Args:
        register: call once per command.
    """


@hookspec
def tc_register_migrations(register: Callable[[Path], None]) -> None:
    """Register the directory of the plugin's Alembic revisions: its own branch (``branch_labels``), applied by
    ``tenantcommerce db upgrade`` with the core's. Create tenant tables with
    :func:`tenantcommerce.db.migration_helpers.create_tenant_table`.

    Args:
        register: call with the ``versions`` directory.
    """


@hookspec
def tc_register_settings_schemas(register: Callable[[type[msgspec.Struct]], None]) -> None:
    """Register the msgspec Struct that validates the plugin's per-store config (``store_plugins.config``).

    Merchants edit it through ``PATCH /api/admin/{slug}/plugins/{plugin_id}``; invalid config answers 422 naming
    the fields. Each call for the store receives it decoded as ``plugin.config``. Keep secrets in the environment.

    Args:
        register: call once, with the Struct type.
    """


@hookspec
def tc_register_mailers(register: Callable[[Mailer], None]) -> None:
    """Register the mailer that sends the platform's mail (at most one plugin may; an explicit
    ``TenantCommerce(mailer=...)`` wins).

    Args:
        register: call with a :class:`~tenantcommerce.auth.mailer.Mailer`.
    """


@hookspec
def tc_register_jobs(register: Callable[[PeriodicJob], None]) -> None:
    """Register periodic jobs run by ``tenantcommerce worker``.

    Args:
        register: call with a :class:`~tenantcommerce.plugins.registrations.PeriodicJob` per job.
    """


@hookspec
def tc_register_setup_problems(register: Callable[[str], None]) -> None:
    """Say what this deployment lacks for the plugin to work (a secret missing from the environment).

    A plugin with problems still loads, but it is listed as not configured, ``tenantcommerce plugins doctor`` warns
    (without failing), and no store can enable it (422 naming the problems). Checked once, at start-up.

    Args:
        register: call once per problem, with a sentence that says what to set (``"TC_STRIPE_SECRET_KEY is not
            set"``).
    """


# --- decide hooks (per call, async, first non-None wins) -----------------------------------------------------------


@hookspec
async def tc_check_checkout(
    ctx: StoreContext, checkout: CheckoutSummary, plugin: PluginContext
) -> CheckoutRejection | None:
    """Veto a checkout before payment (a minimum order, a country the store cannot serve, ...).

    Args:
        ctx: the store.
        checkout: the checkout's lines, destination and totals.
        plugin: the calling plugin's context.

    Returns:
        A rejection (the first one wins and the customer sees its message), or ``None`` to let it through.
    """


# --- collect hooks (per call, async, every result) -----------------------------------------------------------------


@hookspec
async def tc_collect_store_warnings(ctx: StoreContext, plugin: PluginContext) -> Sequence[StoreWarning]:
    """Say what is missing for the plugin to work in this store (no rate table, no account connected, ...).

    Shown in the admin plugin list and by ``tenantcommerce plugins doctor``.

    Args:
        ctx: the store.
        plugin: the calling plugin's context.

    Returns:
        Warnings, empty when all is well.
    """
    return ()


# --- event hooks (after commit, async, delivered by the worker) ----------------------------------------------------


@hookspec
async def tc_on_store_created(ctx: StoreContext, store: StoreCreated, plugin: PluginContext) -> None:
    """A store was created. Delivered at least once: make the effect idempotent.

    Args:
        ctx: the new store.
        store: its id, slug, name and currency.
        plugin: the calling plugin's context.
    """


@hookspec
async def tc_on_product_created(ctx: StoreContext, product: ProductChanged, plugin: PluginContext) -> None:
    """A product was created. Delivered at least once: make the effect idempotent.

    Args:
        ctx: the store.
        product: the product's id, slug and status.
        plugin: the calling plugin's context.
    """


@hookspec
async def tc_on_product_updated(ctx: StoreContext, product: ProductChanged, plugin: PluginContext) -> None:
    """A product changed. Delivered at least once: make the effect idempotent.

    Args:
        ctx: the store.
        product: the product's id, slug and status after the change.
        plugin: the calling plugin's context.
    """


@hookspec
async def tc_on_order_placed(ctx: StoreContext, order: OrderEvent, plugin: PluginContext) -> None:
    """An order was placed (paid or awaiting a payment that settles later). Delivered at least once: make the effect
    idempotent.

    Args:
        ctx: the store.
        order: the order's id, number, total, currency and payment status when it was placed.
        plugin: the calling plugin's context.
    """


@hookspec
async def tc_on_order_paid(ctx: StoreContext, order: OrderEvent, plugin: PluginContext) -> None:
    """An order's payment succeeded (at placement, or later when a payment that settles later arrived). Delivered at
    least once: make the effect idempotent.

    Args:
        ctx: the store.
        order: the order's id, number, total, currency and payment status.
        plugin: the calling plugin's context.
    """


@hookspec
async def tc_on_plugin_enabled(ctx: StoreContext, change: PluginToggled, plugin: PluginContext) -> None:
    """A plugin was enabled for the store (the enabled plugin itself receives this too, e.g. to set up defaults).
    Delivered at least once: make the effect idempotent.

    Args:
        ctx: the store.
        change: which plugin.
        plugin: the calling plugin's context.
    """


@hookspec
async def tc_on_plugin_disabled(ctx: StoreContext, change: PluginToggled, plugin: PluginContext) -> None:
    """A plugin was disabled for the store (it no longer receives calls, so it does not receive this one).
    Delivered at least once: make the effect idempotent.

    Args:
        ctx: the store.
        change: which plugin.
        plugin: the calling plugin's context.
    """
