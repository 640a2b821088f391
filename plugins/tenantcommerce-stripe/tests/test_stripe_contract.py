"""The gateway passes the core's payment gateway contract against the offline Stripe server (real Postgres, two
stores: ``a`` has a connected account with charges enabled, ``b`` none)."""

from __future__ import annotations

import pytest
from tenantcommerce.plugins import PaymentResult
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.testing.contracts import PaymentGatewayContract

from tenantcommerce_stripe.gateway import StripeGateway
from tenantcommerce_stripe.testing import FakeStripe

from .conftest import connected_account, record_account


class TestStripeGatewayContract(PaymentGatewayContract):
    plugin_id = "stripe"

    @pytest.fixture(autouse=True)
    def _fake(self, fake_stripe: FakeStripe) -> None:
        self.fake = fake_stripe

    @pytest.fixture
    def provider(self, st_gateway: StripeGateway) -> StripeGateway:
        return st_gateway

    async def prepare(self, ctx: StoreContext, plugin: PluginContext) -> None:
        await record_account(plugin, connected_account(self.fake, store_id=ctx.id))

    async def pay_at_provider(self, payment: PaymentResult) -> None:
        self.fake.succeed_payment_intent(payment.payment_ref)
