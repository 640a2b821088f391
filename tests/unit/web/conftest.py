"""Rendering the default theme's templates without a server: the environment of :mod:`tenantcommerce.web.rendering`
with the default theme, and sample data built from the API's own schemas."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

import jinja2
import pytest
from tenantcommerce_theme_default.plugin import THEME

from tenantcommerce.cart.schemas import CartLine, CartOut
from tenantcommerce.catalog.schemas import StorefrontMedia, StorefrontProduct, StorefrontVariant
from tenantcommerce.checkout.schemas import (
    CheckoutLineOut,
    CheckoutOut,
    OrderRef,
    PaymentMethodOut,
    PaymentOut,
    QuoteOut,
    TotalsOut,
)
from tenantcommerce.money import Money
from tenantcommerce.orders.schemas import CustomerOrder, CustomerOrderItem, CustomerOrderSummary
from tenantcommerce.storefront.pages.base import StoreLook
from tenantcommerce.web.rendering import Themes, environment, render

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def product(index: int, *, in_stock: bool = True, images: int = 1) -> StorefrontProduct:
    return StorefrontProduct(
        id=uuid.uuid4(),
        slug=f"product-{index}",
        name=f"Product {index}",
        description="A <b>fine</b> thing",
        variants=[
            StorefrontVariant(
                id=uuid.uuid4(), sku=f"P{index}-S", title="Small", price=eur(1000 + index), in_stock=in_stock,
                available=3 if in_stock else 0, attributes={},
            ),
            StorefrontVariant(
                id=uuid.uuid4(), sku=f"P{index}-L", title="Large", price=eur(1500), in_stock=False, available=0,
                attributes={},
            ),
        ],
        media=[
            StorefrontMedia(
                id=uuid.uuid4(), url=f"/api/storefront/shop/media/{n}", alt=f"Photo {n}", width=800, height=800,
                variant_id=None, content_type="image/jpeg",
            )
            for n in range(images)
        ],
    )  # fmt: skip


def cart(lines: int) -> CartOut:
    items = [
        CartLine(
            variant_id=uuid.uuid4(), product_id=uuid.uuid4(), product_slug=f"product-{n}", product_name=f"Product {n}",
            variant_title="Small", sku=f"P{n}", qty=n + 1, unit_price=eur(1000), line_total=eur(1000 * (n + 1)),
            available=5, purchasable=True,
        )
        for n in range(lines)
    ]  # fmt: skip
    total = sum(item.line_total.amount_minor for item in items)
    return CartOut(
        id=uuid.uuid4(), token=None, currency="EUR", lines=items, subtotal=eur(total),
        item_count=sum(item.qty for item in items), changes=[], checkout_ready=True,
    )  # fmt: skip


def checkout(lines: int, *, status: str = "open", quotes: int = 1, placed: bool = False) -> CheckoutOut:
    return CheckoutOut(
        id=uuid.uuid4(), status=status, version=1, currency="EUR", email="ada@example.com",
        lines=[
            CheckoutLineOut(
                variant_id=uuid.uuid4(), sku=f"P{n}", product_name=f"Product {n}", variant_title="Small", qty=1,
                unit_price=eur(1000), line_total=eur(1000),
            )
            for n in range(lines)
        ],
        shipping_address=None, billing_address=None, shipping=None,
        shipping_quotes=[
            QuoteOut(carrier_id="rate-table", rate_id=f"r{n}", name=f"Rate {n}", amount=eur(500), estimated_days=3)
            for n in range(quotes)
        ],
        discount_code=None, payment_method=None,
        payment_methods=[PaymentMethodOut(id="bank-transfer", name="Bank transfer")],
        totals=TotalsOut(
            subtotal=eur(1000 * lines), discount=eur(0), shipping=eur(500), tax=eur(200),
            total=eur(1000 * lines + 700), prices_include_tax=False, free_shipping=False,
        ),
        payment=PaymentOut(method="bank-transfer", status="pending", payment_ref="MP-1", instructions="Pay to IBAN X")
        if placed else None,
        order=OrderRef(id=uuid.uuid4(), number=1001, payment_status="pending") if placed else None,
        expires_at=None,
    )  # fmt: skip


def order_summary(number: int) -> CustomerOrderSummary:
    return CustomerOrderSummary(
        order_number=number, status="open", payment_status="pending", fulfillment_status="unfulfilled",
        currency="EUR", total_minor=1700, refunded_minor=0, item_count=1, placed_at=NOW,
    )  # fmt: skip


def order(items: int) -> CustomerOrder:
    return CustomerOrder(
        order_number=1001, email="ada@example.com", status="open", payment_status="pending",
        fulfillment_status="unfulfilled", currency="EUR", subtotal_minor=1000 * items, discount_minor=0,
        shipping_minor=500, tax_minor=200, total_minor=1000 * items + 700, refunded_minor=0, shipping_method="Standard",
        shipping_address={"country": "DE", "city": "Berlin", "name": "Ada"},
        items=[
            CustomerOrderItem(
                sku=f"P{n}", product_name=f"Product {n}", variant_title="Small", qty=1, unit_price_minor=1000,
                total_price_minor=1000, discount_minor=0, tax_minor=200, shipped_qty=0,
            )
            for n in range(items)
        ],
        shipments=[], placed_at=NOW, cancelled_at=None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    """The environment with the default theme."""
    return environment(Themes({"default": THEME}))


def base_context(**extra: Any) -> dict[str, Any]:
    """What every page gets (see ``storefront/pages/base.py``)."""
    return {
        "store": StoreLook(slug="shop", name="Cat <Shop>", currency="EUR", primary_color="#112233"),
        "theme": THEME,
        "base": "/s/shop",
        "path": "/s/shop/",
        "cart_count": 0,
        "customer": False,
        "csrf_token": "tok<en>",
        "lang": "en",
        "errors": {},
        "form_error": None,
        "values": {},
        "notice": None,
        **extra,
    }


@pytest.fixture
def page(env: jinja2.Environment) -> Callable[..., str]:
    """``page("cart.html", cart=...)``: the rendered page."""

    def render_page(name: str, **extra: Any) -> str:
        return render(env, f"default/{name}", base_context(**extra))

    return render_page


@pytest.fixture
def samples() -> Any:
    """The sample builders of this module."""
    import types

    return types.SimpleNamespace(
        product=product, cart=cart, checkout=checkout, order=order, order_summary=order_summary, eur=eur
    )
