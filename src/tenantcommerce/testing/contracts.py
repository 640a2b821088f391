"""Contract suites for providers: behaviour every payment gateway, shipping carrier, tax calculator and theme must
show, negative cases included, run on real Postgres against any implementation.

Subclass one in your plugin's tests (the class name must start with ``Test``) and give it the fixtures it names::

    from tenantcommerce.testing.contracts import ShippingCarrierContract

    class TestFlatRates(ShippingCarrierContract):
        plugin_id = "shipping-rates"

        @pytest.fixture
        def provider(self):
            return RateTableCarrier()

        @pytest.fixture
        def plugin_config(self):
            return {}

        async def prepare(self, ctx, plugin):
            ...  # give store ``ctx`` what the provider needs (rate rows, an account)

        @pytest.fixture
        def shippable(self):
            return ShippingRequest(...)   # in the EUR store (``contract_stores.a``)

Each test gets two stores (``contract_stores``): ``a`` (EUR) is prepared with :meth:`prepare`, ``b`` (USD) has the
plugin enabled with the same config but nothing prepared, so nothing of ``a`` may show there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
import pytest_asyncio

from tenantcommerce.errors import TenantCommerceError
from tenantcommerce.plugins.providers import (
    THEME_TEMPLATES,
    Address,
    PaymentConfirmation,
    PaymentGateway,
    PaymentRequest,
    PaymentResult,
    RefundRequest,
    ShippingCarrier,
    ShippingRequest,
    TaxCalculator,
    TaxLine,
    TaxRequest,
    Theme,
)
from tenantcommerce.testing.plugins import enable_plugin, plugin_context, store_context

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database
    from tenantcommerce.plugins.context import PluginContext
    from tenantcommerce.tenancy.context import StoreContext


@dataclass(frozen=True)
class ContractStore:
    """A store of a contract test, with the ``plugin`` context its provider calls get."""

    ctx: StoreContext
    plugin: PluginContext


@dataclass(frozen=True)
class ContractStores:
    """``a`` (EUR, prepared) and ``b`` (USD, plugin enabled, nothing prepared)."""

    a: ContractStore
    b: ContractStore


class _ProviderContract:
    """What every contract shares: the plugin, its config, two stores."""

    plugin_id: ClassVar[str]

    @pytest.fixture
    def plugin_config(self) -> dict[str, Any]:
        """The store config the provider runs with (override for a plugin with required settings)."""
        return {}

    async def prepare(self, ctx: StoreContext, plugin: PluginContext) -> None:
        """Give store ``ctx`` what the provider needs (rows in the plugin's tables, state); default: nothing."""

    def decode_config(self, config: dict[str, Any]) -> Any:
        """The config as the provider receives it (override when the plugin has a settings Struct)."""
        return None

    @pytest_asyncio.fixture
    async def contract_stores(self, tc_database: Database, plugin_config: dict[str, Any]) -> ContractStores:
        from tenantcommerce.tenancy.services import create_store

        stores = []
        for slug, currency in (("contract-a", "EUR"), ("contract-b", "USD")):
            created = await create_store(
                tc_database, slug=slug, name=slug.title(), currency=currency, owner_email=f"owner@{slug}.test"
            )
            await enable_plugin(tc_database, created.id, self.plugin_id, config=plugin_config)
            ctx = await store_context(tc_database, created.id)
            plugin = plugin_context(tc_database, ctx.id, self.plugin_id, self.decode_config(plugin_config))
            stores.append(ContractStore(ctx, plugin))
        await self.prepare(stores[0].ctx, stores[0].plugin)
        return ContractStores(a=stores[0], b=stores[1])


# --- payments -------------------------------------------------------------------------------------------------------


class PaymentGatewayContract(_ProviderContract):
    """Fixture to provide: ``provider`` (the gateway)."""

    def payment_request(self, key: str = "key-1", amount: int = 4_250, currency: str = "EUR") -> PaymentRequest:
        from uuid_utils.compat import uuid7

        return PaymentRequest(
            checkout_id=uuid7(), amount_minor=amount, currency=currency, reference=f"R-{key}", idempotency_key=key
        )

    async def pay_at_provider(self, payment: PaymentResult) -> None:
        """Make the customer pay ``payment`` at the provider, before ``confirm`` is asked (a card gateway: the
        customer finished in the browser). Default: nothing (manual gateways are confirmed by an admin)."""

    async def _paid(self, provider: PaymentGateway, store: ContractStore, payment: PaymentResult) -> PaymentResult:
        await self.pay_at_provider(payment)
        confirmation = PaymentConfirmation(
            payment_ref=payment.payment_ref, amount_minor=payment.amount_minor, currency=payment.currency
        )
        return await provider.confirm(store.ctx, confirmation, store.plugin)

    async def test_it_is_a_payment_gateway(self, provider: Any) -> None:
        assert isinstance(provider, PaymentGateway)
        assert provider.id
        assert provider.name

    async def test_a_payment_carries_the_amount_and_currency_asked_for(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        result = await provider.create_payment(a.ctx, self.payment_request(), a.plugin)
        assert (result.amount_minor, result.currency) == (4_250, "EUR")
        assert result.payment_ref
        assert result.status in {"pending", "requires_action", "succeeded"}

    async def test_the_same_idempotency_key_gives_the_same_payment(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        first = await provider.create_payment(a.ctx, self.payment_request("same"), a.plugin)
        again = await provider.create_payment(a.ctx, self.payment_request("same"), a.plugin)
        other = await provider.create_payment(a.ctx, self.payment_request("other"), a.plugin)
        assert again.payment_ref == first.payment_ref
        assert other.payment_ref != first.payment_ref

    async def test_confirming_checks_amount_and_currency_and_is_harmless_twice(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        payment = await provider.create_payment(a.ctx, self.payment_request(), a.plugin)
        await self.pay_at_provider(payment)
        wrong = PaymentConfirmation(payment_ref=payment.payment_ref, amount_minor=1, currency="EUR")
        with pytest.raises(TenantCommerceError) as refused:
            await provider.confirm(a.ctx, wrong, a.plugin)
        assert 400 <= refused.value.status_code < 500
        right = PaymentConfirmation(payment_ref=payment.payment_ref, amount_minor=4_250, currency="EUR")
        assert (await provider.confirm(a.ctx, right, a.plugin)).status == "succeeded"
        assert (await provider.confirm(a.ctx, right, a.plugin)).status == "succeeded"

    async def test_it_says_whether_it_is_available(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        assert await provider.is_available(a.ctx, a.plugin) is True, "the contract's store config must offer it"

    async def test_cancelling_is_harmless_twice_and_never_cancels_money_taken(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        open_payment = await provider.create_payment(a.ctx, self.payment_request("to-cancel"), a.plugin)
        assert (await provider.cancel(a.ctx, open_payment.payment_ref, a.plugin)).status == "cancelled"
        assert (await provider.cancel(a.ctx, open_payment.payment_ref, a.plugin)).status == "cancelled"
        with pytest.raises(TenantCommerceError) as confirm:
            await provider.confirm(
                a.ctx,
                PaymentConfirmation(payment_ref=open_payment.payment_ref, amount_minor=4_250, currency="EUR"),
                a.plugin,
            )
        assert 400 <= confirm.value.status_code < 500, "a cancelled payment must not be confirmed"
        paid = await provider.create_payment(a.ctx, self.payment_request("paid"), a.plugin)
        await self._paid(provider, a, paid)
        with pytest.raises(TenantCommerceError) as refused:
            await provider.cancel(a.ctx, paid.payment_ref, a.plugin)
        assert 400 <= refused.value.status_code < 500
        with pytest.raises(TenantCommerceError) as unknown:
            await provider.cancel(a.ctx, "nope", a.plugin)
        assert 400 <= unknown.value.status_code < 500

    async def test_an_unknown_payment_cannot_be_confirmed_or_refunded(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        with pytest.raises(TenantCommerceError) as confirm:
            await provider.confirm(
                a.ctx, PaymentConfirmation(payment_ref="nope", amount_minor=1, currency="EUR"), a.plugin
            )
        with pytest.raises(TenantCommerceError) as refund:
            await provider.refund(
                a.ctx,
                RefundRequest(payment_ref="nope", amount_minor=1, currency="EUR", idempotency_key="r1"),
                a.plugin,
            )
        assert 400 <= confirm.value.status_code < 500
        assert 400 <= refund.value.status_code < 500

    async def test_refunds_never_exceed_what_was_paid(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        payment = await provider.create_payment(a.ctx, self.payment_request(), a.plugin)
        await self._paid(provider, a, payment)
        part = RefundRequest(payment_ref=payment.payment_ref, amount_minor=4_000, currency="EUR", idempotency_key="r1")
        refund = await provider.refund(a.ctx, part, a.plugin)
        assert refund.status in {"pending", "succeeded"}
        assert refund.amount_minor == 4_000
        too_much = RefundRequest(
            payment_ref=payment.payment_ref, amount_minor=251, currency="EUR", idempotency_key="r2"
        )
        with pytest.raises(TenantCommerceError) as refused:
            await provider.refund(a.ctx, too_much, a.plugin)
        assert 400 <= refused.value.status_code < 500
        again = await provider.refund(a.ctx, part, a.plugin)
        assert again.refund_ref == refund.refund_ref, "the same refund key must not refund twice"

    async def test_another_store_cannot_reach_a_payment(
        self, provider: PaymentGateway, contract_stores: ContractStores
    ) -> None:
        a, b = contract_stores.a, contract_stores.b
        payment = await provider.create_payment(a.ctx, self.payment_request(), a.plugin)
        await self.pay_at_provider(payment)
        with pytest.raises(TenantCommerceError) as refused:
            await provider.confirm(
                b.ctx,
                PaymentConfirmation(payment_ref=payment.payment_ref, amount_minor=4_250, currency="EUR"),
                b.plugin,
            )
        assert 400 <= refused.value.status_code < 500


# --- shipping -------------------------------------------------------------------------------------------------------


class ShippingCarrierContract(_ProviderContract):
    """Fixtures to provide: ``provider`` (the carrier), ``shippable`` (a EUR request store ``a`` quotes for) and
    ``unshippable`` (a EUR request it does not ship)."""

    async def test_it_is_a_shipping_carrier(self, provider: Any) -> None:
        assert isinstance(provider, ShippingCarrier)
        assert provider.id
        assert provider.name

    async def test_quotes_are_in_the_request_currency_with_distinct_rate_ids(
        self, provider: ShippingCarrier, contract_stores: ContractStores, shippable: ShippingRequest
    ) -> None:
        a = contract_stores.a
        quotes = list(await provider.quote(a.ctx, shippable, a.plugin))
        assert quotes, "the prepared store quotes for `shippable`"
        assert all(quote.currency == shippable.currency and quote.amount_minor >= 0 for quote in quotes)
        assert len({quote.rate_id for quote in quotes}) == len(quotes)
        assert list(await provider.quote(a.ctx, shippable, a.plugin)) == quotes, "quotes are deterministic"

    async def test_no_quote_where_it_does_not_ship(
        self, provider: ShippingCarrier, contract_stores: ContractStores, unshippable: ShippingRequest
    ) -> None:
        a = contract_stores.a
        assert list(await provider.quote(a.ctx, unshippable, a.plugin)) == []

    async def test_another_store_sees_none_of_the_prepared_rates(
        self, provider: ShippingCarrier, contract_stores: ContractStores, shippable: ShippingRequest
    ) -> None:
        a, b = contract_stores.a, contract_stores.b
        quoted_in_a = {quote.rate_id for quote in await provider.quote(a.ctx, shippable, a.plugin)}
        in_b = ShippingRequest(
            currency="USD",
            destination=shippable.destination,
            lines=shippable.lines,
            subtotal_minor=shippable.subtotal_minor,
        )
        quoted_in_b = {quote.rate_id for quote in await provider.quote(b.ctx, in_b, b.plugin)}
        assert not quoted_in_a & quoted_in_b


# --- tax --------------------------------------------------------------------------------------------------------------


class TaxCalculatorContract(_ProviderContract):
    """Fixture to provide: ``provider`` (the calculator) and ``taxable`` (a EUR request with tax in store ``a``)."""

    async def test_it_is_a_tax_calculator(self, provider: Any) -> None:
        assert isinstance(provider, TaxCalculator)
        assert provider.id
        assert provider.name

    async def test_one_taxed_line_per_line_with_components_adding_up(
        self, provider: TaxCalculator, contract_stores: ContractStores, taxable: TaxRequest
    ) -> None:
        a = contract_stores.a
        result = await provider.calculate(a.ctx, taxable, a.plugin)
        assert [line.key for line in result.lines] == [line.key for line in taxable.lines]
        assert result.total_tax_minor > 0, "the prepared store taxes `taxable`"
        for line in result.lines:
            assert line.tax_minor >= 0
            if line.components:
                assert sum(component.amount_minor for component in line.components) == line.tax_minor
        if result.prices_include_tax:
            for line, asked in zip(result.lines, taxable.lines, strict=True):
                assert line.tax_minor <= asked.amount_minor, "included tax is part of the price"
        assert await provider.calculate(a.ctx, taxable, a.plugin) == result, "tax is deterministic"

    async def test_zero_amounts_carry_zero_tax(
        self, provider: TaxCalculator, contract_stores: ContractStores, taxable: TaxRequest
    ) -> None:
        a = contract_stores.a
        free = TaxRequest(
            currency=taxable.currency,
            destination=taxable.destination,
            lines=[
                TaxLine(key=line.key, sku=line.sku, quantity=line.quantity, amount_minor=0) for line in taxable.lines
            ],
            shipping_minor=0,
        )
        assert (await provider.calculate(a.ctx, free, a.plugin)).total_tax_minor == 0

    async def test_another_store_does_not_get_the_prepared_rates(
        self, provider: TaxCalculator, contract_stores: ContractStores, taxable: TaxRequest
    ) -> None:
        b = contract_stores.b
        in_b = TaxRequest(
            currency="USD", destination=taxable.destination, lines=taxable.lines, shipping_minor=taxable.shipping_minor
        )
        assert (await provider.calculate(b.ctx, in_b, b.plugin)).total_tax_minor == 0

    async def test_an_empty_request_is_taxed_nothing(
        self, provider: TaxCalculator, contract_stores: ContractStores
    ) -> None:
        a = contract_stores.a
        empty = TaxRequest(currency="EUR", destination=Address(country="DE"), lines=[])
        result = await provider.calculate(a.ctx, empty, a.plugin)
        assert list(result.lines) == []
        assert result.total_tax_minor == 0


# --- themes -----------------------------------------------------------------------------------------------------------


class ThemeContract:
    """Fixture to provide: ``provider`` (the theme)."""

    def test_it_is_a_theme_with_every_template(self, provider: Any) -> None:
        """The default theme provides every page; another theme only what it overrides (the rest falls back)."""
        from tenantcommerce.web.rendering import DEFAULT_THEME

        assert isinstance(provider, Theme)
        assert provider.templates.is_dir()
        if provider.id == DEFAULT_THEME:
            missing = [name for name in THEME_TEMPLATES if not (provider.templates / name).is_file()]
            assert not missing, f"theme {provider.id!r} lacks {missing}"

    def test_every_template_parses(self, provider: Theme) -> None:
        """Every template compiles in the environment pages render with (its filters and globals)."""
        from tenantcommerce.web.rendering import Themes, environment

        env = environment(Themes({provider.id: provider}))
        names = sorted(path.relative_to(provider.templates).as_posix() for path in provider.templates.rglob("*.html"))
        assert names, f"theme {provider.id!r} has no templates"
        for name in names:
            env.get_template(f"{provider.id}/{name}")  # raises TemplateSyntaxError

    def test_static_files_exist_when_declared(self, provider: Theme) -> None:
        if provider.static is not None:
            assert provider.static.is_dir()
