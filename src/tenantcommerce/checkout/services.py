"""Checkouts of the store in context: create from a cart, show options and totals, change, complete.

Completing runs in three steps, so no row lock is held while a payment provider is called:

1. one transaction checks the checkout is ready, prices it, asks ``tc_check_checkout``, reserves the stock, claims
   the discount's use, and marks the checkout ``awaiting_payment`` until ``expires_at``;
2. the store's gateway creates the payment, with an idempotency key made of the checkout's id and version;
3. one transaction places the order (the payment succeeded, or settles later) or records the payment to finish in
   the browser (the order then comes from the provider's webhook).

If step 2 fails, the reservation and the claim are given back. If the process dies between the steps, the hold
expires and the release job gives them back.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import select

from tenantcommerce.cart.services import CartOwner, read_cart, require_cart
from tenantcommerce.catalog.models import ProductVariant
from tenantcommerce.checkout import pricing
from tenantcommerce.checkout.models import Checkout
from tenantcommerce.checkout.schemas import (
    CheckoutLineOut,
    CheckoutOut,
    CheckoutUpdate,
    LineSnapshot,
    OrderRef,
    PaymentMethodOut,
    PaymentOut,
    QuoteOut,
    ShippingChoice,
    ShippingSelection,
    Totals,
    TotalsOut,
)
from tenantcommerce.customers.models import StoreCustomer
from tenantcommerce.discounts import services as discounts
from tenantcommerce.discounts import usage
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound, PluginError
from tenantcommerce.inventory import reservations
from tenantcommerce.money import Money
from tenantcommerce.orders.models import Order
from tenantcommerce.orders.placement import PlacedOrder, place_order
from tenantcommerce.plugins.providers import Address, PaymentRequest, PaymentResult, ShippingLine, ShippingRequest
from tenantcommerce.plugins.types import CheckoutLine, CheckoutSummary
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.plugins.facade import StorePlugins


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _lines(checkout: Checkout) -> list[LineSnapshot]:
    return msgspec.convert(checkout.lines, list[LineSnapshot])


def _address(raw: dict[str, Any] | None) -> Address | None:
    return msgspec.convert(raw, Address) if raw is not None else None


def _choice(checkout: Checkout) -> ShippingChoice | None:
    return msgspec.convert(checkout.shipping_choice, ShippingChoice) if checkout.shipping_choice else None


async def create_checkout(session: AsyncSession, owner: CartOwner, email: str | None) -> Checkout:
    """A checkout frozen from the owner's cart; every line must be purchasable as it stands (else 422 naming it)."""
    cart = await require_cart(session, owner, lock=True)
    shown = await read_cart(session, cart)
    if not shown.lines:
        raise BusinessRuleError("the cart is empty: add items first", errors=[FieldError("cart", "is empty")])
    blocked = [line for line in shown.lines if not line.purchasable]
    if blocked:
        raise BusinessRuleError(
            "some lines cannot be bought as they stand: read the cart to see what changed",
            errors=[FieldError(f"lines.{line.variant_id}", f"only {line.available} available") for line in blocked],
        )
    rows = await session.execute(
        select(ProductVariant.id, ProductVariant.weight_grams).where(
            ProductVariant.id.in_([line.variant_id for line in shown.lines])
        )
    )
    weights = {row.id: row.weight_grams for row in rows}
    if email is None and owner.customer_id is not None:
        email = await session.scalar(select(StoreCustomer.email).where(StoreCustomer.id == owner.customer_id))
    checkout = Checkout(
        cart_id=cart.id,
        customer_id=owner.customer_id,
        cart_token_hash=owner.token_hash if owner.customer_id is None else None,
        currency=shown.currency,
        email=email,
        lines=[
            msgspec.to_builtins(
                LineSnapshot(
                    variant_id=line.variant_id,
                    product_id=line.product_id,
                    sku=line.sku,
                    product_name=line.product_name,
                    variant_title=line.variant_title,
                    qty=line.qty,
                    unit_price_minor=line.unit_price.amount_minor,
                    weight_grams=weights.get(line.variant_id),
                )
            )
            for line in shown.lines
        ],
    )
    session.add(checkout)
    await session.flush()
    return checkout


async def get_checkout(session: AsyncSession, owner: CartOwner, checkout_id: UUID, *, lock: bool = False) -> Checkout:
    """The owner's checkout ``checkout_id``; anyone else's (or another store's) answers 404."""
    query = select(Checkout).where(Checkout.id == checkout_id)
    if lock:
        query = query.with_for_update()
    checkout = await session.scalar(query)
    mine = checkout is not None and (
        (owner.customer_id is not None and checkout.customer_id == owner.customer_id)
        or (owner.token_hash is not None and checkout.cart_token_hash == owner.token_hash)
    )
    if checkout is None or not mine:
        raise NotFound("no such checkout")
    return checkout


async def _quotes(plugins: StorePlugins, checkout: Checkout, lines: list[LineSnapshot]) -> list[QuoteOut]:
    destination = _address(checkout.shipping_address)
    if destination is None:
        return []
    request = ShippingRequest(
        currency=checkout.currency,
        destination=destination,
        lines=[
            ShippingLine(
                sku=line.sku, quantity=line.qty, unit_price_minor=line.unit_price_minor, weight_grams=line.weight_grams
            )
            for line in lines
        ],
        subtotal_minor=sum(line.unit_price_minor * line.qty for line in lines),
    )
    quotes: list[QuoteOut] = []
    for carrier in plugins.shipping_carriers():
        for quote in await carrier.quote(request):
            if quote.currency != checkout.currency:
                raise PluginError(
                    f"carrier {carrier.id!r} quoted in {quote.currency}", plugin_id=carrier.plugin.plugin_id
                )
            quotes.append(
                QuoteOut(
                    carrier_id=carrier.id,
                    rate_id=quote.rate_id,
                    name=quote.name,
                    amount=Money(quote.amount_minor, quote.currency),
                    estimated_days=quote.estimated_days,
                )
            )
    return quotes


def _pick(quotes: list[QuoteOut], selection: ShippingSelection) -> ShippingChoice:
    for quote in quotes:
        if quote.carrier_id == selection.carrier_id and quote.rate_id == selection.rate_id:
            return ShippingChoice(
                carrier_id=quote.carrier_id,
                rate_id=quote.rate_id,
                name=quote.name,
                amount_minor=quote.amount.amount_minor,
                estimated_days=quote.estimated_days,
            )
    raise BusinessRuleError(
        "this shipping option is not offered for this checkout: pick one of shipping_quotes",
        errors=[FieldError("shipping", "is not one of the offered quotes")],
    )


async def _discount(session: AsyncSession, checkout: Checkout, subtotal_minor: int) -> tuple[UUID | None, int, bool]:
    if checkout.discount_code is None:
        return None, 0, False
    found = await discounts.find_usable(session, checkout.discount_code, subtotal_minor=subtotal_minor, now=_now())
    applied = discounts.apply(found, subtotal_minor)
    return applied.discount_id, applied.amount_minor, applied.free_shipping


async def _price(session: AsyncSession, plugins: StorePlugins, checkout: Checkout) -> Totals:
    lines = _lines(checkout)
    subtotal = sum(line.unit_price_minor * line.qty for line in lines)
    discount_id, discount_minor, free_shipping = await _discount(session, checkout, subtotal)
    checkout.discount_id = discount_id
    choice = _choice(checkout)
    calculator = plugins.tax_calculator()
    return await pricing.price(
        lines,
        checkout.currency,
        discount_minor=discount_minor,
        free_shipping=free_shipping,
        shipping_minor=choice.amount_minor if choice else None,
        destination=_address(checkout.shipping_address),
        tax=calculator.calculate if calculator else None,
        tax_plugin_id=calculator.plugin.plugin_id if calculator else "tax",
    )


async def update_checkout(
    session: AsyncSession, plugins: StorePlugins, checkout: Checkout, data: CheckoutUpdate
) -> None:
    """Apply the customer's choices (only while the checkout is open); each change raises ``version``."""
    if checkout.status != "open":
        raise Conflict(f"this checkout is {checkout.status}: it can no longer change")
    if data.email is not msgspec.UNSET:
        checkout.email = data.email.lower()
    if data.shipping_address is not msgspec.UNSET:
        checkout.shipping_address = (
            msgspec.to_builtins(data.shipping_address.to_address()) if data.shipping_address else None
        )
        checkout.shipping_choice = None  # quotes depend on the destination
    if data.billing_address is not msgspec.UNSET:
        checkout.billing_address = (
            msgspec.to_builtins(data.billing_address.to_address()) if data.billing_address else None
        )
    if data.discount_code is not msgspec.UNSET:
        checkout.discount_code = discounts.normalise_code(data.discount_code) if data.discount_code else None
        subtotal = sum(line.unit_price_minor * line.qty for line in _lines(checkout))
        checkout.discount_id = (await _discount(session, checkout, subtotal))[0]
    if data.shipping is not msgspec.UNSET:
        if data.shipping is None:
            checkout.shipping_choice = None
        else:
            if checkout.shipping_address is None:
                raise BusinessRuleError(
                    "set shipping_address before choosing shipping",
                    errors=[FieldError("shipping_address", "is required to choose shipping")],
                )
            quotes = await _quotes(plugins, checkout, _lines(checkout))
            checkout.shipping_choice = msgspec.to_builtins(_pick(quotes, data.shipping))
    if data.payment_method is not msgspec.UNSET:
        if data.payment_method is not None:
            await _gateway(plugins, data.payment_method)
        checkout.payment_method = data.payment_method
    checkout.version += 1
    await session.flush()


async def _gateway(plugins: StorePlugins, method: str) -> Any:
    gateway = None
    with contextlib.suppress(NotFound):
        gateway = plugins.payment_gateway(method)
    if gateway is None or not await gateway.is_available():
        raise BusinessRuleError(
            f"payment method {method!r} is not available in this store",
            errors=[FieldError("payment_method", "is not one of payment_methods")],
        )
    return gateway


async def describe(session: AsyncSession, plugins: StorePlugins, checkout: Checkout) -> CheckoutOut:
    """The checkout with its options (shipping quotes while open, payment methods) and totals."""
    lines = _lines(checkout)
    currency = checkout.currency
    if checkout.status == "open":
        quotes = await _quotes(plugins, checkout, lines)
        totals = await _price(session, plugins, checkout)
    else:
        quotes = []
        totals = msgspec.convert(checkout.totals, Totals)
    order = None
    if checkout.order_id is not None:
        row = (
            await session.execute(
                select(Order.id, Order.order_number, Order.payment_status).where(Order.id == checkout.order_id)
            )
        ).first()
        if row is not None:
            order = OrderRef(id=row.id, number=row.order_number, payment_status=row.payment_status)
    payment = msgspec.convert(checkout.payment, PaymentOut) if checkout.payment else None
    return CheckoutOut(
        id=checkout.id,
        status=checkout.status,
        version=checkout.version,
        currency=currency,
        email=checkout.email,
        lines=[
            CheckoutLineOut(
                variant_id=line.variant_id,
                sku=line.sku,
                product_name=line.product_name,
                variant_title=line.variant_title,
                qty=line.qty,
                unit_price=Money(line.unit_price_minor, currency),
                line_total=Money(line.unit_price_minor * line.qty, currency),
            )
            for line in lines
        ],
        shipping_address=_address(checkout.shipping_address),
        billing_address=_address(checkout.billing_address),
        shipping=_choice(checkout),
        shipping_quotes=quotes,
        discount_code=checkout.discount_code,
        payment_method=checkout.payment_method,
        payment_methods=[
            PaymentMethodOut(id=gateway.id, name=gateway.name) for gateway in await plugins.available_payment_gateways()
        ],
        totals=TotalsOut(
            subtotal=Money(totals.subtotal_minor, currency),
            discount=Money(totals.discount_minor, currency),
            shipping=Money(totals.shipping_minor, currency),
            tax=Money(totals.tax_minor, currency),
            total=Money(totals.total_minor, currency),
            prices_include_tax=totals.prices_include_tax,
            free_shipping=totals.free_shipping,
        ),
        payment=payment,
        order=order,
        expires_at=checkout.expires_at,
    )


def _missing(checkout: Checkout) -> list[FieldError]:
    missing = []
    if not checkout.email:
        missing.append(FieldError("email", "is required"))
    if checkout.shipping_address is None:
        missing.append(FieldError("shipping_address", "is required"))
    if checkout.shipping_choice is None:
        missing.append(FieldError("shipping", "choose one of shipping_quotes"))
    if checkout.payment_method is None:
        missing.append(FieldError("payment_method", "choose one of payment_methods"))
    return missing


async def hold(
    session: AsyncSession, plugins: StorePlugins, checkout: Checkout, payment_method: str | None, hold_seconds: int
) -> bool:
    """Step 1 of completing (see the module's docstring). ``False`` when there is nothing to do: the checkout is
    already completed or awaiting its payment (completing again answers what it answered)."""
    if checkout.status in {"completed", "awaiting_payment"}:
        return False
    if checkout.status != "open":
        raise Conflict(f"this checkout is {checkout.status}: start again from the cart")
    if payment_method is not None:
        await _gateway(plugins, payment_method)
        checkout.payment_method = payment_method
    missing = _missing(checkout)
    if missing:
        raise BusinessRuleError(
            "the checkout is not ready to complete: "
            + ", ".join(f"{error.field} {error.message}" for error in missing),
            errors=missing,
        )
    assert checkout.payment_method is not None
    await _gateway(plugins, checkout.payment_method)  # still turned on since it was chosen
    lines = _lines(checkout)
    choice = _choice(checkout)
    assert choice is not None
    current = _pick(
        await _quotes(plugins, checkout, lines), ShippingSelection(carrier_id=choice.carrier_id, rate_id=choice.rate_id)
    )
    checkout.shipping_choice = msgspec.to_builtins(current)
    totals = await _price(session, plugins, checkout)
    rejection = await plugins.check_checkout(
        CheckoutSummary(
            checkout_id=checkout.id,
            currency=checkout.currency,
            lines=[
                CheckoutLine(sku=line.sku, quantity=line.qty, unit_price_minor=line.unit_price_minor) for line in lines
            ],
            subtotal_minor=totals.subtotal_minor,
            total_minor=totals.total_minor,
            destination=_address(checkout.shipping_address),
            customer_email=checkout.email,
        )
    )
    if rejection is not None:
        raise BusinessRuleError(
            rejection.message, errors=[FieldError(rejection.field or "checkout", rejection.message)]
        )
    expires_at = _now() + datetime.timedelta(seconds=hold_seconds)
    await reservations.reserve(session, checkout.id, [(line.variant_id, line.qty) for line in lines], expires_at)
    if checkout.discount_id is not None:
        await usage.claim(session, checkout.discount_id, now=_now())
    checkout.totals = msgspec.to_builtins(totals)
    checkout.total_minor = totals.total_minor
    checkout.status = "awaiting_payment"
    checkout.expires_at = expires_at
    await session.flush()
    return True


def payment_request(checkout: Checkout) -> PaymentRequest:
    """What the gateway is asked for; the idempotency key changes with the checkout's version."""
    return PaymentRequest(
        checkout_id=checkout.id,
        amount_minor=checkout.total_minor or 0,
        currency=checkout.currency,
        reference=f"CO-{checkout.id.hex[-10:].upper()}",
        idempotency_key=f"checkout:{checkout.id}:v{checkout.version}",
        customer_email=checkout.email,
        metadata={"store_id": str(current_store().id), "checkout_id": str(checkout.id)},
    )


async def unhold(session: AsyncSession, checkout: Checkout, *, status: str = "open") -> None:
    """Give back what :func:`hold` took (stock and the discount's use); the checkout becomes ``status``."""
    if checkout.status != "awaiting_payment":
        return
    await reservations.release(session, checkout.id)
    if checkout.discount_id is not None:
        await usage.give_back(session, checkout.discount_id)
    checkout.status = status
    checkout.expires_at = None
    checkout.version += 1  # a new attempt asks the gateway with a new idempotency key
    await session.flush()


async def settle(session: AsyncSession, checkout: Checkout, result: PaymentResult) -> PlacedOrder | None:
    """Step 3: place the order when the payment succeeded or settles later; keep what the browser needs when the
    payment must be finished there. A failed payment gives the hold back and answers 422."""
    checkout.payment_ref = result.payment_ref
    if result.account is not None:
        checkout.metadata_ = {**checkout.metadata_, "payment_account": result.account}
    checkout.payment = msgspec.to_builtins(
        PaymentOut(
            method=checkout.payment_method or "",
            status=result.status,
            payment_ref=result.payment_ref,
            instructions=result.instructions,
            client_secret=result.client_secret,
            client_options=dict(result.client_options) or None,
        )
    )
    if result.status in {"succeeded", "pending"}:
        return await place_order(session, checkout, result)
    if result.status in {"failed", "cancelled"}:
        await unhold(session, checkout)
        return None
    await session.flush()
    return None
