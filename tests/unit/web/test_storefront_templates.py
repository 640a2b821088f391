"""Every page of the default theme renders with empty, one and many items; escaping, CSRF fields, links under the
URL base, field errors next to their fields."""

from __future__ import annotations

import re

import jinja2
import pytest
from tenantcommerce_theme_default.plugin import THEME

from tenantcommerce.plugins.providers import THEME_TEMPLATES


def test_the_default_theme_has_every_template() -> None:
    missing = [name for name in THEME_TEMPLATES if not (THEME.templates / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("count", [0, 1, 9])
def test_home(page, samples, count) -> None:
    html = page("home.html", products=[samples.product(n) for n in range(count)])
    assert html.count('href="/s/shop/products/product-') == count
    assert ("No products yet" in html) == (count == 0)
    assert '<html lang="en">' in html
    assert "Cat &lt;Shop&gt;" in html
    assert "<Shop>" not in html
    assert "--primary: #112233; --primary-foreground: #ffffff;" in html
    assert "/static/themes/default/theme.css?v=" in html


SORTS = {"newest": "Newest", "price_asc": "Price: low to high", "price_desc": "Price: high to low", "name": "Name"}
LIST_DEFAULTS = {"q": "", "in_stock": False, "sort": "newest", "sorts": SORTS, "filters": {}}


@pytest.mark.parametrize("count", [0, 1, 12])
def test_products(page, samples, count) -> None:
    products = [samples.product(n, in_stock=n % 2 == 0) for n in range(count)]
    html = page(
        "products.html",
        products=products,
        total=count * 3,
        page=2 if count > 1 else 1,
        pages=3 if count > 1 else 1,
        **LIST_DEFAULTS,
    )
    assert html.count("<article") == count
    assert html.count("Sold out") == len([p for p in products if not p.variants[0].in_stock])
    if count > 1:
        assert 'href="/s/shop/products?page=1"' in html
        assert 'href="/s/shop/products?page=3"' in html
    else:
        assert "Page 1 of" not in html


def test_products_filters_are_kept_in_the_form_and_pagination(page, samples) -> None:
    query = 'a "b" & c'
    filters = {"q": query, "in_stock": "1", "sort": "price_desc"}
    context = {**LIST_DEFAULTS, "q": query, "in_stock": True, "sort": "price_desc", "filters": filters}
    html = page("products.html", products=[samples.product(1)], total=30, page=1, pages=3, **context)
    assert 'value="a &#34;b&#34; &amp; c"' in html
    assert 'name="in_stock" type="checkbox" value="1" checked' in html
    assert '<option value="price_desc" selected>Price: high to low</option>' in html
    assert 'href="/s/shop/products?page=2&amp;q=a+%22b%22+%26+c&amp;in_stock=1&amp;sort=price_desc"' in html
    empty = page("products.html", products=[], total=0, page=1, pages=1, **{**LIST_DEFAULTS, "q": "zzz"})
    assert "No product matches “zzz”." in empty
    assert "Show all products" in empty
    none_in_stock = page("products.html", products=[], total=0, page=1, pages=1,
                         **{**LIST_DEFAULTS, "in_stock": True})  # fmt: skip
    assert "No product is in stock right now." in none_in_stock
    both = page("products.html", products=[], total=0, page=1, pages=1,
                **{**LIST_DEFAULTS, "q": "zzz", "in_stock": True})  # fmt: skip
    assert "No product in stock matches “zzz”." in both


@pytest.mark.parametrize("images", [0, 1, 4])
def test_product(page, samples, images) -> None:
    product = samples.product(1, images=images)
    html = page("product.html", product=product)
    assert html.count('type="radio"') == 2
    assert html.count("<img") == images
    assert "No image" in html if images == 0 else 'alt="Photo 0"' in html
    assert f'value="{product.variants[0].id}" checked' in html
    assert "&lt;b&gt;fine&lt;/b&gt;" in html
    assert '<input type="hidden" name="_csrf_token" value="tok&lt;en&gt;">' in html
    assert "Only 3 left" in html


def test_product_sold_out_and_error_next_to_the_field(page, samples) -> None:
    product = samples.product(1, in_stock=False)
    html = page("product.html", product=product, errors={"qty": "at most 0 available"}, form_error="only 0 left",
                values={"qty": "4"})  # fmt: skip
    assert "disabled>Sold out</button>" in html.replace("\n", "")
    assert 'id="qty-error"' in html
    assert 'aria-describedby="qty-error"' in html
    assert 'value="4"' in html
    assert 'role="alert"' in html


@pytest.mark.parametrize("lines", [0, 1, 5])
def test_cart(page, samples, lines) -> None:
    cart = samples.cart(lines) if lines else None
    html = page("cart.html", cart=cart, cart_count=cart.item_count if cart else 0)
    assert html.count('action="/s/shop/cart/items/') == lines
    assert ("Your cart is empty" in html) == (lines == 0)
    if lines:
        assert 'action="/s/shop/checkout"' in html
        assert f"{cart.subtotal.amount_minor / 100:.2f} EUR" in html


def test_cart_empty_object_and_line_errors(page, samples) -> None:
    assert "Your cart is empty" in page("cart.html", cart=samples.cart(0))
    cart = samples.cart(2)
    name = f"qty-{cart.lines[1].variant_id}"
    html = page("cart.html", cart=cart, errors={name: "at most 1 available", "discount_code": "unknown code"},
                values={"discount_code": "NOPE"})  # fmt: skip
    assert f'id="{name}-error"' in html
    assert f'aria-describedby="{name}-error"' in html
    assert 'id="discount_code-error"' in html
    assert 'value="NOPE"' in html


@pytest.mark.parametrize(("lines", "quotes"), [(1, 0), (1, 1), (6, 3)])
def test_checkout(page, samples, lines, quotes) -> None:
    checkout = samples.checkout(lines, quotes=quotes)
    html = page("checkout.html", checkout=checkout, values={"email": "ada@example.com", "shipping": "rate-table|r0"})
    assert html.count('name="shipping"') == quotes
    assert ('value="rate-table|r0" checked' in html) == (quotes > 0)
    assert html.count('<li class="flex justify-between') == lines
    assert 'value="bank-transfer" checked' in html, "the only payment method is preselected"
    assert 'name="action" value="complete"' in html
    assert "Enter your address" in html if quotes == 0 else "Rate 0" in html


def test_checkout_errors_are_next_to_their_fields(page, samples) -> None:
    errors = {"email": "is required", "shipping_address.country": "unknown", "shipping": "pick one"}
    html = page("checkout.html", checkout=samples.checkout(1), errors=errors, form_error="the checkout is not ready")
    for ident in ("email-error", "shipping_address-country-error", "shipping-error"):
        assert f'id="{ident}"' in html
    assert "the checkout is not ready" in html


@pytest.mark.parametrize("lines", [1, 4])
def test_confirmation(page, samples, lines) -> None:
    html = page("confirmation.html", checkout=samples.checkout(lines, status="completed", placed=True), waiting=False)
    assert "Thank you for your order" in html
    assert "<strong>1001</strong>" in html
    assert "Pay to IBAN X" in html
    assert "hx-get" not in html
    checkout = samples.checkout(lines, status="awaiting_payment")
    waiting = page("confirmation.html", checkout=checkout, waiting=True)
    assert "Confirming your payment" in waiting
    assert f'hx-get="/s/shop/checkout/{checkout.id}/status" hx-trigger="every 2s"' in waiting
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in waiting
    expired = page("confirmation.html", checkout=samples.checkout(lines, status="expired"), waiting=False)
    assert "The time to pay ran out." in expired
    assert 'href="/s/shop/cart"' in expired


def test_payment_page_loads_stripe_only_with_a_key(page, samples) -> None:
    checkout = samples.checkout(1, status="awaiting_payment", placed=True)
    without = page("payment.html", checkout=checkout, publishable_key="", payment_failed=False)
    assert "js.stripe.com" not in without
    assert "did not go through" not in without
    with_key = page("payment.html", checkout=checkout, publishable_key="pk_test_1", payment_failed=True)
    assert "The payment did not go through" in with_key
    assert '<script src="https://js.stripe.com/v3/"></script>' in with_key
    assert 'data-publishable-key="pk_test_1"' in with_key


def test_sign_in_and_lookup_forms(page) -> None:
    html = page("sign_in.html", values={"email": "a@b.c"}, errors={"password": "wrong"})
    assert 'autocomplete="current-password"' in html
    assert 'id="password-error"' in html
    assert 'value="a@b.c"' in html
    lookup = page("lookup.html", values={}, errors={"order_number": "must be a number"})
    assert 'id="order_number-error"' in lookup
    assert 'action="/s/shop/orders/lookup"' in lookup


@pytest.mark.parametrize("count", [0, 1, 20])
def test_order_history(page, samples, count) -> None:
    html = page("orders.html", orders=[samples.order_summary(1001 + n) for n in range(count)], total=count, page=1,
                pages=2 if count == 20 else 1, customer=True)  # fmt: skip
    assert html.count('href="/s/shop/account/orders/10') == count
    assert ("You have no orders yet" in html) == (count == 0)
    assert 'action="/s/shop/account/sign-out"' in html


@pytest.mark.parametrize("items", [0, 1, 7])
def test_order(page, samples, items) -> None:
    html = page("order.html", order=samples.order(items))
    assert "Order #1001" in html
    assert html.count("<tr>") == items + 1  # the header row
    assert "Berlin" in html


def test_error_page(page) -> None:
    html = page("error.html", status=404, message="There is no such product in this store.")
    assert "Not found" in html
    assert "no such product" in html


def test_on_the_store_host_links_start_at_the_root(page, samples) -> None:
    html = page("home.html", products=[samples.product(1)], base="")
    assert 'href="/products/product-1"' in html
    assert 'href="/cart"' in html
    assert "/s/shop" not in html


def test_a_missing_variable_is_an_error(env) -> None:
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("default/home.html").render({})


def test_every_link_and_form_stays_under_the_base(page, samples) -> None:
    html = page("cart.html", cart=samples.cart(2))
    for target in re.findall(r'(?:href|action)="(/[^"]*)"', html):
        assert target.startswith(("/s/shop/", "/static/themes/")), target
