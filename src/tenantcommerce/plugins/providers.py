"""The typed providers plugins register: payment gateways, shipping carriers, tax calculators, themes.

Every provider is an object with an ``id`` (unique among providers of its kind, shown to merchants and stored on
orders) and a ``name``. Its methods take ``ctx`` (the store), a frozen request Struct and ``plugin`` (the calling
plugin's config, state and database access) and return frozen Structs. The core calls them only through the facade
(:mod:`tenantcommerce.plugins.facade`), which applies ``TC_PLUGIN_TIMEOUT`` and turns failures into a clear
:class:`~tenantcommerce.errors.PluginError`. ``tenantcommerce.testing.contracts`` holds a behaviour suite for each
kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, runtime_checkable
from uuid import UUID

import msgspec

if TYPE_CHECKING:
    from tenantcommerce.plugins.context import PluginContext
    from tenantcommerce.tenancy.context import StoreContext

Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Minor = Annotated[int, msgspec.Meta(ge=0)]
"""An amount in minor units (cents), never negative."""


class Address(msgspec.Struct, frozen=True, kw_only=True):
    """A postal address; ``country`` is ISO 3166-1 alpha-2, ``region`` an ISO 3166-2 subdivision code (``US-CA``)."""

    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
    region: str | None = None
    postal_code: str | None = None
    city: str | None = None
    line1: str | None = None
    line2: str | None = None
    name: str | None = None


# --- payments -----------------------------------------------------------------------------------------------------

PaymentStatus = Literal["pending", "requires_action", "succeeded", "failed", "cancelled"]


class PaymentRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Create a payment for a checkout."""

    checkout_id: UUID
    amount_minor: Minor
    currency: Currency
    reference: str
    """What the customer and the merchant see (e.g. the checkout's short reference)."""
    idempotency_key: str
    """The same key must never create a second payment at the provider."""
    customer_email: str | None = None
    metadata: Mapping[str, str] = msgspec.field(default_factory=dict)


class PaymentResult(msgspec.Struct, frozen=True, kw_only=True):
    """Where a payment stands after a gateway call."""

    status: PaymentStatus
    payment_ref: str
    """The provider's id of the payment (a PaymentIntent id, a bank-transfer reference)."""
    amount_minor: Minor
    currency: Currency
    instructions: str | None = None
    """What the customer must do next (pay by bank transfer to ..., pay the courier)."""
    client_secret: str | None = None
    """For gateways that finish payment in the browser."""
    failure_reason: str | None = None
    account: str | None = None
    """The provider account the money goes to (a Stripe connected account), if any: the checkout keeps it, and a
    webhook about this payment must name the same account."""
    client_options: Mapping[str, str] = msgspec.field(default_factory=dict)
    """What a browser needs besides ``client_secret`` to finish the payment (Stripe: ``publishable_key``); public
    values only, shown to the customer's storefront."""


class PaymentConfirmation(msgspec.Struct, frozen=True, kw_only=True):
    """Confirm a payment: the money has arrived (manual gateways) or the provider should capture it."""

    payment_ref: str
    amount_minor: Minor
    currency: Currency
    note: str | None = None


RefundStatus = Literal["pending", "succeeded", "failed"]


class RefundRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Refund all or part of a payment."""

    payment_ref: str
    amount_minor: Annotated[int, msgspec.Meta(gt=0)]
    currency: Currency
    idempotency_key: str
    reason: str | None = None


class RefundResult(msgspec.Struct, frozen=True, kw_only=True):
    """Where a refund stands."""

    status: RefundStatus
    refund_ref: str
    amount_minor: Minor
    currency: Currency
    instructions: str | None = None
    failure_reason: str | None = None


class WebhookRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's webhook call as received (headers lower-cased)."""

    headers: Mapping[str, str]
    body: bytes


PaymentEventKind = Literal[
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "payment.refunded",
    "refund.succeeded",
    "refund.failed",
    "dispute.created",
    "account.updated",
]
"""What a provider event means to the core:

* ``payment.succeeded`` / ``payment.failed`` / ``payment.cancelled``: a payment (``payment_ref``) of a checkout
  (``checkout_id``) for ``amount_minor`` ``currency`` into ``account``;
* ``payment.refunded``: ``amount_minor`` is now the payment's *total* refunded at the provider (refunds made there
  are recorded on the order);
* ``refund.succeeded`` / ``refund.failed``: refund ``refund_ref`` of ``payment_ref`` settled;
* ``dispute.created``: the customer disputes ``payment_ref`` (``reason``); the order is flagged;
* ``account.updated``: ``account`` changed; only the gateway's :meth:`PaymentGateway.handle_event` acts on it.
"""


class PaymentEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified provider event, in the core's terms. ``store_id`` routes it to its store (from metadata the
    gateway attached when it created the object); events without one are acknowledged and ignored."""

    event_id: str
    """The provider's event id: each is processed once per store."""
    kind: PaymentEventKind
    store_id: UUID | None = None
    checkout_id: UUID | None = None
    payment_ref: str | None = None
    refund_ref: str | None = None
    amount_minor: Minor | None = None
    currency: Currency | None = None
    account: str | None = None
    """The provider account the event is about (the connected account a payment pays into)."""
    reason: str | None = None
    """Why a payment failed, or why a dispute was opened."""
    created: int | None = None
    """When the provider made the event (Unix seconds): lets :meth:`PaymentGateway.handle_event` ignore stale
    deliveries."""


@runtime_checkable
class PaymentGateway(Protocol):
    """Takes money for a store. Register with ``tc_register_payment_gateways``."""

    id: str
    name: str

    async def is_available(self, ctx: StoreContext, plugin: PluginContext) -> bool:
        """Whether customers of the store may pay this way now (its settings name it, its account is ready).
        Checkouts offer only available methods and refuse the others with 422."""
        ...

    async def create_payment(self, ctx: StoreContext, request: PaymentRequest, plugin: PluginContext) -> PaymentResult:
        """Start a payment. The same ``idempotency_key`` returns the same payment."""
        ...

    async def confirm(
        self, ctx: StoreContext, confirmation: PaymentConfirmation, plugin: PluginContext
    ) -> PaymentResult:
        """Mark a payment as paid (manual gateways) or capture it; confirming twice is harmless.

        Raises:
            BusinessRuleError: the payment is unknown, or the amount or currency differ from the payment's.
        """
        ...

    async def refund(self, ctx: StoreContext, request: RefundRequest, plugin: PluginContext) -> RefundResult:
        """Refund up to what was paid and not yet refunded.

        Raises:
            BusinessRuleError: the payment is unknown or the amount exceeds what is left.
        """
        ...

    async def cancel(self, ctx: StoreContext, payment_ref: str, plugin: PluginContext) -> PaymentResult:
        """Cancel a payment that has not succeeded (its checkout expired, or its order was cancelled before the money
        came); cancelling again is harmless.

        Raises:
            BusinessRuleError: the payment is unknown, or it succeeded (refund it instead).
        """
        ...

    async def parse_webhook(self, webhook: WebhookRequest) -> PaymentEvent | None:
        """Verify and translate a webhook posted to ``/api/payments/<plugin id>/webhook``; ``None`` for events the
        core does not need. Called before any store is known (no ``ctx``, no ``plugin``): keep the secrets the
        signature needs in the environment.

        Raises:
            InputError: the signature or the body is invalid (answered 400; nothing is written).
        """
        ...

    async def handle_event(self, ctx: StoreContext, event: PaymentEvent, plugin: PluginContext) -> None:
        """The gateway's own bookkeeping for a verified event routed to ``ctx`` (a connected account's status in the
        plugin's state), called before the core applies the event. It runs again if the core's part fails and the
        provider delivers the event again, and deliveries come in any order: make it idempotent, and ignore an event
        older (``created``) than what it recorded."""
        ...


# --- shipping -----------------------------------------------------------------------------------------------------


class ShippingLine(msgspec.Struct, frozen=True, kw_only=True):
    """One cart line, as a carrier sees it."""

    sku: str
    quantity: Annotated[int, msgspec.Meta(gt=0)]
    unit_price_minor: Minor
    weight_grams: Annotated[int, msgspec.Meta(ge=0)] | None = None


class ShippingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to quote for: the destination and the lines (``subtotal_minor`` after discounts)."""

    currency: Currency
    destination: Address
    lines: Sequence[ShippingLine]
    subtotal_minor: Minor


class ShippingQuote(msgspec.Struct, frozen=True, kw_only=True):
    """One way to ship, with its price. ``rate_id`` is stable, so a customer's choice can be checked later."""

    rate_id: str
    name: str
    amount_minor: Minor
    currency: Currency
    estimated_days: Annotated[int, msgspec.Meta(ge=0)] | None = None


class LabelRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Buy a label for (part of) an order."""

    order_id: UUID
    order_number: int
    rate_id: str
    destination: Address
    lines: Sequence[ShippingLine]


class ShippingLabel(msgspec.Struct, frozen=True, kw_only=True):
    """A bought label."""

    tracking_number: str
    label_url: str | None = None
    tracking_url: str | None = None


@runtime_checkable
class ShippingCarrier(Protocol):
    """Quotes (and optionally buys labels for) shipping. Register with ``tc_register_shipping_carriers``."""

    id: str
    name: str

    async def quote(
        self, ctx: StoreContext, request: ShippingRequest, plugin: PluginContext
    ) -> Sequence[ShippingQuote]:
        """Every rate that applies to ``request`` (none: this carrier does not ship there). Quotes are in
        ``request.currency``."""
        ...

    async def buy_label(self, ctx: StoreContext, request: LabelRequest, plugin: PluginContext) -> ShippingLabel | None:
        """Buy a label; ``None`` when this carrier does not sell labels (the merchant ships by hand)."""
        ...


# --- tax ------------------------------------------------------------------------------------------------------------


class TaxLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line to tax: ``amount_minor`` is the line's total after discounts (as priced: gross when prices include
    tax)."""

    key: str
    """Identifies the line in the result (e.g. the variant id)."""
    sku: str
    quantity: Annotated[int, msgspec.Meta(gt=0)]
    amount_minor: Minor
    tax_code: str | None = None


class TaxRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to tax: lines and shipping, for a destination."""

    currency: Currency
    destination: Address
    lines: Sequence[TaxLine]
    shipping_minor: Minor = 0


class TaxComponent(msgspec.Struct, frozen=True, kw_only=True):
    """One tax applied to a line (e.g. state and county taxes are two components)."""

    name: str
    rate_bp: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    """Rate in basis points: 2000 is 20 %."""
    amount_minor: Minor


class TaxedLine(msgspec.Struct, frozen=True, kw_only=True):
    """The tax of one line, rounded per line, with its breakdown (components add up to ``tax_minor``)."""

    key: str
    tax_minor: Minor
    components: Sequence[TaxComponent] = ()


class TaxResult(msgspec.Struct, frozen=True, kw_only=True):
    """The tax of a request. With ``prices_include_tax`` the tax is already inside the amounts (the total does
    not grow); otherwise it is added on top."""

    prices_include_tax: bool
    lines: Sequence[TaxedLine]
    shipping_tax_minor: Minor = 0
    shipping_components: Sequence[TaxComponent] = ()

    @property
    def total_tax_minor(self) -> int:
        """Tax of every line plus shipping."""
        return sum(line.tax_minor for line in self.lines) + self.shipping_tax_minor


@runtime_checkable
class TaxCalculator(Protocol):
    """Computes tax. A store uses its one highest-priority enabled calculator. Register with
    ``tc_register_tax_calculators``."""

    id: str
    name: str

    async def calculate(self, ctx: StoreContext, request: TaxRequest, plugin: PluginContext) -> TaxResult:
        """Tax per line (one :class:`TaxedLine` per request line, same keys) and for shipping."""
        ...


# --- themes ---------------------------------------------------------------------------------------------------------


@runtime_checkable
class Theme(Protocol):
    """A storefront look: Jinja templates and static files. Register with ``tc_register_themes``; a store picks
    one in its settings (``theme``)."""

    id: str
    name: str
    templates: Path
    """Directory of the Jinja templates (see ``THEME_TEMPLATES`` for the ones every theme provides)."""
    static: Path | None
    """Directory of static files served under ``/static/themes/<id>/``, if any."""


THEME_TEMPLATES = (
    "base.html",
    "home.html",
    "products.html",
    "product.html",
    "cart.html",
    "checkout.html",
    "confirmation.html",
    "payment.html",
    "sign_in.html",
    "orders.html",
    "order.html",
    "lookup.html",
    "error.html",
)
"""Templates every theme provides (the storefront pages render them)."""

ProviderKind = Literal["payment_gateway", "shipping_carrier", "tax_calculator", "theme"]
Provider = PaymentGateway | ShippingCarrier | TaxCalculator | Theme
