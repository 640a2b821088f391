"""A card gateway for tests: payments finished in the browser and settled by signed webhooks, like Stripe's, offline.

:class:`TestCardGateway` answers ``requires_action`` with a ``client_secret`` (so checkouts go to the theme's payment
page) and takes no money itself: a test decides what happened by delivering a webhook made with
:meth:`TestCardGateway.webhook` to ``POST /api/payments/<plugin id>/webhook``. Register :class:`TestCardPayments`
under a plugin id of your choice and enable it for a store::

    gateway = TestCardGateway()
    app = create_app(settings, plugins={"test-card": TestCardPayments(gateway)})
    ...
    body, headers = gateway.webhook(gateway.succeeded(store_id, checkout_id, total_minor, "EUR"))
    await client.post("/api/payments/test-card/webhook", content=body, headers=headers)

Never enable it on a real deployment: anyone who knows :data:`WEBHOOK_SECRET` (it is in this source) can mark a
checkout paid.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import msgspec

from tenantcommerce.errors import BusinessRuleError, InputError
from tenantcommerce.plugins import (
    PaymentConfirmation,
    PaymentEvent,
    PaymentRequest,
    PaymentResult,
    PluginContext,
    RefundRequest,
    RefundResult,
    WebhookRequest,
    hookimpl,
)
from tenantcommerce.tenancy.context import StoreContext

WEBHOOK_SECRET = b"tenantcommerce-test-card-webhook"
"""The key of the webhooks' HMAC-SHA256 signature (a test value, public on purpose)."""
GATEWAY_HEADER = "x-test-gateway"
SIGNATURE_HEADER = "x-test-signature"


class TestCardGateway:
    """A payment gateway whose payments the browser finishes and webhooks settle (see the module).

    Args:
        gateway_id: the gateway's id (the checkout's ``payment_method``); two gateways of one plugin need two ids.
        publishable_key: handed to the browser in ``client_options`` when given (the default theme then loads
            Stripe.js, so leave it out offline).
    """

    __test__ = False  # not a pytest test class
    name = "Card (test)"

    def __init__(self, gateway_id: str = "test-card", publishable_key: str | None = None) -> None:
        self.id = gateway_id
        self.publishable_key = publishable_key
        self.payment_ref = f"{gateway_id}-payment-1"
        """The reference of every payment it starts (tests name it in their webhooks)."""

    async def is_available(self, ctx: StoreContext, plugin: PluginContext) -> bool:
        return True

    async def create_payment(self, ctx: StoreContext, request: PaymentRequest, plugin: PluginContext) -> PaymentResult:
        return PaymentResult(
            status="requires_action",
            payment_ref=self.payment_ref,
            amount_minor=request.amount_minor,
            currency=request.currency,
            client_secret=f"{self.payment_ref}_secret",
            client_options={"publishable_key": self.publishable_key} if self.publishable_key else {},
        )

    async def confirm(
        self, ctx: StoreContext, confirmation: PaymentConfirmation, plugin: PluginContext
    ) -> PaymentResult:
        raise BusinessRuleError("the test card's payments are settled by webhook, not confirmed")

    async def refund(self, ctx: StoreContext, request: RefundRequest, plugin: PluginContext) -> RefundResult:
        raise BusinessRuleError("the test card takes no money, so it refunds none")

    async def cancel(self, ctx: StoreContext, payment_ref: str, plugin: PluginContext) -> PaymentResult:
        return PaymentResult(status="cancelled", payment_ref=payment_ref, amount_minor=0, currency=ctx.currency)

    async def parse_webhook(self, webhook: WebhookRequest) -> PaymentEvent | None:
        """The event of a webhook addressed to this gateway (``None`` for another's).

        Raises:
            InputError: the signature does not match the body, or the body is not a payment event.
        """
        if webhook.headers.get(GATEWAY_HEADER) != self.id:
            return None
        expected = hmac.new(WEBHOOK_SECRET, webhook.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(webhook.headers.get(SIGNATURE_HEADER, ""), expected):
            raise InputError("the test card webhook's signature does not match its body")
        try:
            return msgspec.json.decode(webhook.body, type=PaymentEvent)
        except msgspec.DecodeError as exc:
            raise InputError(f"the test card webhook's body is not a payment event: {exc}") from exc

    async def handle_event(self, ctx: StoreContext, event: PaymentEvent, plugin: PluginContext) -> None:
        return None

    def webhook(self, event: PaymentEvent) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a webhook delivering ``event`` from this gateway."""
        body = msgspec.json.encode(event)
        signature = hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
        return body, {GATEWAY_HEADER: self.id, SIGNATURE_HEADER: signature, "content-type": "application/json"}

    def succeeded(
        self, store_id: UUID, checkout_id: UUID, amount_minor: int, currency: str, **extra: Any
    ) -> PaymentEvent:
        """A ``payment.succeeded`` event for this gateway's payment of ``checkout_id`` (``extra``: other fields)."""
        values: dict[str, Any] = {
            "event_id": f"evt_{uuid4().hex}",
            "kind": "payment.succeeded",
            "store_id": store_id,
            "checkout_id": checkout_id,
            "payment_ref": self.payment_ref,
            "amount_minor": amount_minor,
            "currency": currency,
            **extra,
        }
        return PaymentEvent(**values)


class TestCardPayments:
    """The plugin object registering :class:`TestCardGateway` objects (one by default)."""

    __test__ = False

    def __init__(self, *gateways: TestCardGateway) -> None:
        self.gateways = list(gateways) or [TestCardGateway()]

    @hookimpl
    def tc_register_payment_gateways(self, register: Callable[[Any], None]) -> None:
        for gateway in self.gateways:
            register(gateway)
