"""Checkout schemas (msgspec) of the storefront API, and the snapshots a checkout row keeps in jsonb."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tenantcommerce.fields import NO_NUL, Email
from tenantcommerce.money import Money
from tenantcommerce.plugins.providers import Address

_Line = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
_Short = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
DiscountCode = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=NO_NUL)]


class AddressInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A postal address: ``country`` is ISO 3166-1 alpha-2 (``DE``), ``region`` ISO 3166-2 (``US-CA``)."""

    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, upper case.")]
    region: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")] | None = None
    postal_code: Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=NO_NUL)] | None = None
    city: _Short | None = None
    line1: _Line | None = None
    line2: _Line | None = None
    name: _Line | None = None

    def to_address(self) -> Address:
        """The providers' :class:`Address`."""
        return msgspec.convert(msgspec.to_builtins(self), Address)


class ShippingSelection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A quote the customer picked (from ``shipping_quotes``)."""

    carrier_id: _Short
    rate_id: _Line


class CheckoutCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Start checking out the caller's cart."""

    email: Email | None = None


class CheckoutUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the customer chose; absent fields stay, ``null`` clears."""

    email: Email | msgspec.UnsetType = msgspec.UNSET
    shipping_address: AddressInput | msgspec.UnsetType | None = msgspec.UNSET
    billing_address: AddressInput | msgspec.UnsetType | None = msgspec.UNSET
    shipping: ShippingSelection | msgspec.UnsetType | None = msgspec.UNSET
    discount_code: DiscountCode | msgspec.UnsetType | None = msgspec.UNSET
    payment_method: _Short | msgspec.UnsetType | None = msgspec.UNSET


class CompleteInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Place the order: reserve the stock and create the payment (``payment_method`` may be chosen here)."""

    payment_method: _Short | None = None


class LineSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A cart line frozen into the checkout (kept in ``checkouts.lines``)."""

    variant_id: UUID
    product_id: UUID
    sku: str
    product_name: str
    variant_title: str
    qty: int
    unit_price_minor: int
    weight_grams: int | None = None


class ShippingChoice(msgspec.Struct, frozen=True, kw_only=True):
    """The quote chosen (kept in ``checkouts.shipping_choice`` and ``orders.shipping_choice``)."""

    carrier_id: str
    rate_id: str
    name: str
    amount_minor: int
    estimated_days: int | None = None


class PricedLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line through the pipeline: its subtotal, its share of the discount, its tax."""

    variant_id: UUID
    sku: str
    qty: int
    unit_price_minor: int
    subtotal_minor: int
    discount_minor: int
    tax_minor: int


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """The pipeline's result: ``total = subtotal - discount + shipping + tax`` (tax added only when prices exclude
    it; with ``prices_include_tax`` the tax is the part of the prices that is tax)."""

    currency: str
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    prices_include_tax: bool
    shipping_tax_minor: int
    lines: list[PricedLine]
    free_shipping: bool = False


class CheckoutLineOut(msgspec.Struct, frozen=True, kw_only=True):
    """A line as the customer sees it."""

    variant_id: UUID
    sku: str
    product_name: str
    variant_title: str
    qty: int
    unit_price: Money
    line_total: Money


class QuoteOut(msgspec.Struct, frozen=True, kw_only=True):
    """A shipping option."""

    carrier_id: str
    rate_id: str
    name: str
    amount: Money
    estimated_days: int | None = None


class PaymentMethodOut(msgspec.Struct, frozen=True, kw_only=True):
    """A way to pay in this store."""

    id: str
    name: str


class TotalsOut(msgspec.Struct, frozen=True, kw_only=True):
    """Totals from the pipeline subtotal -> discounts -> shipping -> tax -> total."""

    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money
    prices_include_tax: bool
    free_shipping: bool


class PaymentOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the customer needs to pay."""

    method: str
    status: str
    payment_ref: str
    instructions: str | None = None
    client_secret: str | None = None
    client_options: dict[str, str] | None = None
    """What the browser needs besides ``client_secret`` (Stripe: ``publishable_key`` for Stripe.js)."""
    failure_reason: str | None = None
    """Why the last attempt failed (the customer may try again with the same payment)."""


class OrderRef(msgspec.Struct, frozen=True, kw_only=True):
    """The order a checkout became."""

    id: UUID
    number: int
    payment_status: str


class CheckoutOut(msgspec.Struct, frozen=True, kw_only=True):
    """A checkout: its lines, the customer's choices, the options, the totals and where it stands."""

    id: UUID
    status: str
    version: int
    currency: str
    email: str | None
    lines: list[CheckoutLineOut]
    shipping_address: Address | None
    billing_address: Address | None
    shipping: ShippingChoice | None
    shipping_quotes: list[QuoteOut]
    discount_code: str | None
    payment_method: str | None
    payment_methods: list[PaymentMethodOut]
    totals: TotalsOut
    payment: PaymentOut | None
    order: OrderRef | None
    expires_at: datetime.datetime | None
