"""The typed facade: the only way the core calls plugins. One method per hook, bound providers per store.

Example::

    plugins = await runtime.plugins.for_store(current_store())
    quotes = [quote for carrier in plugins.shipping_carriers() for quote in await carrier.quote(request)]
    rejection = await plugins.check_checkout(summary)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tenantcommerce.errors import NotFound
from tenantcommerce.plugins.dispatch import Dispatcher, call_with_timeout
from tenantcommerce.plugins.enablement import StorePluginSet, StorePluginSets
from tenantcommerce.plugins.providers import (
    LabelRequest,
    PaymentConfirmation,
    PaymentEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentResult,
    RefundRequest,
    RefundResult,
    ShippingCarrier,
    ShippingLabel,
    ShippingQuote,
    ShippingRequest,
    TaxCalculator,
    TaxRequest,
    TaxResult,
    Theme,
)
from tenantcommerce.plugins.types import CheckoutRejection, CheckoutSummary, StoreWarning

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database
    from tenantcommerce.observability.metrics import Metrics
    from tenantcommerce.plugins.context import PluginContext
    from tenantcommerce.plugins.host import PluginHost, Registered
    from tenantcommerce.tenancy.context import StoreContext

P = TypeVar("P")


@dataclass(frozen=True)
class Bound(Generic[P]):
    """A provider bound to a store: calls get ``ctx``, the plugin's context and the timeout."""

    provider: P
    store: StoreContext
    plugin: PluginContext
    timeout: float
    metrics: Metrics | None

    @property
    def id(self) -> str:
        """The provider's id."""
        return str(getattr(self.provider, "id"))  # noqa: B009 (the protocols declare it)

    @property
    def name(self) -> str:
        """The provider's display name."""
        return str(getattr(self.provider, "name"))  # noqa: B009

    async def _call(self, what: str, method: str, *args: Any) -> Any:
        function = getattr(self.provider, method)
        return await call_with_timeout(
            self.plugin.plugin_id, f"{what}.{method}", self.timeout, lambda: function(*args), self.metrics
        )


class BoundGateway(Bound[PaymentGateway]):
    """A payment gateway of the store."""

    async def is_available(self) -> bool:
        """:meth:`PaymentGateway.is_available`."""
        return bool(await self._call(self.id, "is_available", self.store, self.plugin))

    async def create_payment(self, request: PaymentRequest) -> PaymentResult:
        """:meth:`PaymentGateway.create_payment`."""
        result: PaymentResult = await self._call(self.id, "create_payment", self.store, request, self.plugin)
        return result

    async def confirm(self, confirmation: PaymentConfirmation) -> PaymentResult:
        """:meth:`PaymentGateway.confirm`."""
        result: PaymentResult = await self._call(self.id, "confirm", self.store, confirmation, self.plugin)
        return result

    async def refund(self, request: RefundRequest) -> RefundResult:
        """:meth:`PaymentGateway.refund`."""
        result: RefundResult = await self._call(self.id, "refund", self.store, request, self.plugin)
        return result

    async def cancel(self, payment_ref: str) -> PaymentResult:
        """:meth:`PaymentGateway.cancel`."""
        result: PaymentResult = await self._call(self.id, "cancel", self.store, payment_ref, self.plugin)
        return result

    async def handle_event(self, event: PaymentEvent) -> None:
        """:meth:`PaymentGateway.handle_event`."""
        await self._call(self.id, "handle_event", self.store, event, self.plugin)


class BoundCarrier(Bound[ShippingCarrier]):
    """A shipping carrier of the store."""

    async def quote(self, request: ShippingRequest) -> list[ShippingQuote]:
        """:meth:`ShippingCarrier.quote`."""
        result: Sequence[ShippingQuote] = await self._call(self.id, "quote", self.store, request, self.plugin)
        return list(result)

    async def buy_label(self, request: LabelRequest) -> ShippingLabel | None:
        """:meth:`ShippingCarrier.buy_label`."""
        result: ShippingLabel | None = await self._call(self.id, "buy_label", self.store, request, self.plugin)
        return result


class BoundTaxCalculator(Bound[TaxCalculator]):
    """The store's tax calculator."""

    async def calculate(self, request: TaxRequest) -> TaxResult:
        """:meth:`TaxCalculator.calculate`."""
        result: TaxResult = await self._call(self.id, "calculate", self.store, request, self.plugin)
        return result


class StorePlugins:
    """One store's enabled plugins and providers, in priority order."""

    def __init__(self, plugins: Plugins, store: StoreContext, plugin_set: StorePluginSet) -> None:
        self._plugins = plugins
        self.store = store
        self.plugin_set = plugin_set

    def _bound(self, table: dict[str, Registered[Any]], kind: type[Bound[Any]]) -> list[Any]:
        found = []
        for enabled in self.plugin_set:
            for registered in table.values():
                if registered.plugin_id == enabled.plugin_id:
                    found.append(
                        kind(
                            registered.value,
                            self.store,
                            self._plugins.dispatcher.plugin_context(self.store, enabled),
                            self._plugins.dispatcher.timeout,
                            self._plugins.dispatcher.metrics,
                        )
                    )
        return found

    def payment_gateways(self) -> list[BoundGateway]:
        """Gateways of enabled plugins: the payment methods a customer may choose."""
        return self._bound(self._plugins.host.registrations.payment_gateways, BoundGateway)

    async def available_payment_gateways(self) -> list[BoundGateway]:
        """The gateways customers may pay with now (each asked :meth:`PaymentGateway.is_available`)."""
        return [gateway for gateway in self.payment_gateways() if await gateway.is_available()]

    def payment_gateway(self, gateway_id: str) -> BoundGateway:
        """The gateway ``gateway_id``.

        Raises:
            NotFound: it does not exist or its plugin is not enabled for the store.
        """
        for gateway in self.payment_gateways():
            if gateway.id == gateway_id:
                return gateway
        raise NotFound(f"payment method {gateway_id!r} is not available in this store")

    def context_of(self, plugin_id: str) -> PluginContext:
        """The context ``plugin_id``'s calls for this store get (its config, state and database access): what a
        plugin's own routes use.

        Raises:
            NotFound: the plugin is not enabled for the store.
        """
        enabled = self.plugin_set.get(plugin_id)
        if enabled is None:
            raise NotFound(f"plugin {plugin_id!r} is not enabled for this store")
        return self._plugins.dispatcher.plugin_context(self.store, enabled)

    def shipping_carriers(self) -> list[BoundCarrier]:
        """Carriers of enabled plugins."""
        return self._bound(self._plugins.host.registrations.shipping_carriers, BoundCarrier)

    def tax_calculator(self) -> BoundTaxCalculator | None:
        """The store's tax calculator: the one of its highest-priority enabled plugin that has one."""
        calculators: list[BoundTaxCalculator] = self._bound(
            self._plugins.host.registrations.tax_calculators,
            BoundTaxCalculator,
        )
        return calculators[0] if calculators else None

    def themes(self) -> list[Theme]:
        """Themes of enabled plugins."""
        return [bound.provider for bound in self._bound(self._plugins.host.registrations.themes, Bound)]

    async def check_checkout(self, checkout: CheckoutSummary) -> CheckoutRejection | None:
        """``tc_check_checkout``: the first rejection, or ``None``."""
        result: CheckoutRejection | None = await self._plugins.dispatcher.decide(
            "tc_check_checkout", self.store, self.plugin_set, checkout=checkout
        )
        return result

    async def collect_store_warnings(self) -> list[StoreWarning]:
        """``tc_collect_store_warnings``, each warning stamped with its plugin's id."""
        warnings: list[StoreWarning] = []
        dispatcher = self._plugins.dispatcher
        for enabled, impl in dispatcher.implementations("tc_collect_store_warnings", self.plugin_set):
            result = await dispatcher.call("tc_collect_store_warnings", self.store, enabled, impl, {})
            for warning in result or ():
                warnings.append(
                    StoreWarning(message=warning.message, severity=warning.severity, plugin_id=enabled.plugin_id)
                )
        return warnings


class Plugins:
    """The app's plugins: the host, per-store sets and the dispatcher (``runtime.plugins``)."""

    def __init__(self, host: PluginHost, database: Database, timeout: float, metrics: Metrics | None = None) -> None:
        self.host = host
        self.sets = StorePluginSets(host, database)
        self.dispatcher = Dispatcher(host, database, timeout, metrics)

    async def for_store(self, store: StoreContext) -> StorePlugins:
        """The facade for ``store`` (its plugin set comes from the cache)."""
        return StorePlugins(self, store, await self.sets.for_store(store))
