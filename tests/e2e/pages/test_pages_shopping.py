"""Shopping through the pages without JavaScript: cart, checkout with manual payment, confirmation, guest lookup,
customer sign-in and history; service errors come back next to their fields."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from tenantcommerce.plugins import PaymentEvent
from tenantcommerce.testing.accounts import TEST_PASSWORD, customer_register

ADDRESS = {
    "shipping_address.name": "Ada",
    "shipping_address.line1": "Unter den Linden 1",
    "shipping_address.postal_code": "10115",
    "shipping_address.city": "Berlin",
    "shipping_address.country": "de",
}


async def buy(shopper, variant_id, *, email="ada@example.com", qty=1):
    """Add, check out, fill the form, choose shipping and bank transfer, place the order; the confirmation page."""
    await shopper.get("/products/alpha-product-1")
    added = await shopper.submit(
        "/cart/items", {"variant_id": str(variant_id), "qty": str(qty), "product_slug": "alpha-product-1"}
    )
    assert added.status_code == 200, added.text
    started = await shopper.submit("/checkout", {"discount_code": ""}, follow=False)
    assert started.status_code == 303, started.text
    checkout_path = started.headers["location"].removeprefix(shopper.base)
    form = await shopper.get(checkout_path)
    assert form.status_code == 200, form.text
    saved = await shopper.submit(checkout_path, {"email": email, **ADDRESS, "action": "save"})
    assert saved.status_code == 200, saved.text
    assert 'value="rate-table|' in saved.text, "shipping quotes appear once the address is known"
    rate = saved.text.split('value="rate-table|', 1)[1].split('"', 1)[0]
    return await shopper.submit(
        checkout_path,
        {
            "email": email,
            **ADDRESS,
            "shipping": f"rate-table|{rate}",
            "payment_method": "bank-transfer",
            "action": "complete",
        },
    )


async def test_a_guest_buys_with_bank_transfer_and_finds_the_order(browser, shop, variant_of, admin_conn, text) -> None:
    shopper = browser("alpha")
    variant = await variant_of(shop.a)
    placed = await buy(shopper, variant, qty=2)
    assert placed.status_code == 200, placed.text
    shown = text(placed)
    assert "Thank you for your order" in shown
    assert "DE89370400440532013000" in shown, "the bank transfer instructions are shown"
    number = int(shown.split("Your order number is ", 1)[1].split(".", 1)[0])
    assert await admin_conn.fetchval("SELECT inventory FROM product_variants WHERE id = $1", variant) == 3
    # 2 x 10.00 + 5.00 shipping + 20 % tax on the goods
    assert "29.00 EUR" in shown
    cart = await shopper.get("/cart")
    assert "Your cart is empty" in text(cart)

    lookup = await shopper.get("/orders/lookup")
    assert lookup.status_code == 200
    wrong = await shopper.submit("/orders/lookup", {"order_number": str(number), "email": "eve@example.com"})
    assert wrong.status_code == 404
    assert "No order matches" in text(wrong)
    for typed in ("x", "\u00b2", "9" * 5000):  # a superscript two is a digit to str.isdigit, not to int()
        bad = await shopper.submit("/orders/lookup", {"order_number": typed, "email": "ada@example.com"})
        assert bad.status_code == 400, (typed[:10], bad.status_code)
        assert 'id="order_number-error"' in bad.text
    found = await shopper.submit("/orders/lookup", {"order_number": str(number), "email": "ADA@example.com"})
    assert found.status_code == 200, found.text
    assert f"Order #{number}" in text(found)
    assert "alpha product 1" in text(found)


async def test_cart_quantity_update_remove_and_errors_next_to_fields(browser, shop, variant_of, text) -> None:
    shopper = browser("alpha")
    variant = await variant_of(shop.a)
    await shopper.get("/products/alpha-product-1")
    too_many = await shopper.submit(
        "/cart/items", {"variant_id": str(variant), "qty": "9", "product_slug": "alpha-product-1"}
    )
    assert too_many.status_code == 422
    assert 'id="qty-error"' in too_many.text
    assert "at most 5 available" in text(too_many)
    assert 'aria-invalid="true"' in too_many.text
    junk = await shopper.submit("/cart/items", {"variant_id": "nope", "qty": "1", "product_slug": "alpha-product-1"})
    assert junk.status_code == 400
    assert 'id="variant_id-error"' in junk.text
    cart = await shopper.submit(
        "/cart/items", {"variant_id": str(variant), "qty": "1", "product_slug": "alpha-product-1"}
    )
    assert cart.status_code == 200
    assert "10.00 EUR" in text(cart)
    assert 'aria-label="1 items in the cart"' in cart.text
    more = await shopper.submit(f"/cart/items/{variant}", {"qty": "3", "action": "update"})
    assert "30.00 EUR" in text(more)
    over = await shopper.submit(f"/cart/items/{variant}", {"qty": "6", "action": "update"})
    assert over.status_code == 422
    assert f'id="qty-{variant}-error"' in over.text
    bad_code = await shopper.submit("/checkout", {"discount_code": "NOPE"})
    assert bad_code.status_code == 422, bad_code.text
    assert 'id="discount_code-error"' in bad_code.text
    assert 'value="NOPE"' in bad_code.text
    removed = await shopper.submit(f"/cart/items/{variant}", {"qty": "3", "action": "remove"})
    assert "Your cart is empty" in text(removed)


async def test_checkout_errors_are_next_to_their_fields(browser, shop, variant_of, text) -> None:
    shopper = browser("alpha")
    variant = await variant_of(shop.a)
    await shopper.get("/products/alpha-product-1")
    await shopper.submit("/cart/items", {"variant_id": str(variant), "qty": "1", "product_slug": "alpha-product-1"})
    started = await shopper.submit("/checkout", {"discount_code": ""})
    assert started.status_code == 200
    assert "Checkout" in text(started)
    path = str(started.url).split(shopper.base, 1)[1]
    bad_email = await shopper.submit(path, {"email": "not-an-email", "action": "save"})
    assert bad_email.status_code == 400
    assert 'id="email-error"' in bad_email.text
    not_ready = await shopper.submit(path, {"email": "ada@example.com", "action": "complete"})
    assert not_ready.status_code == 422, not_ready.text
    assert 'id="shipping_address-country-error"' in not_ready.text
    assert 'value="ada@example.com"' in not_ready.text


async def test_a_customer_signs_in_sees_the_order_history_and_signs_out(
    client, browser, shop, variant_of, text
) -> None:
    registered = await customer_register(client, "alpha", "cleo@example.com")
    assert registered.status_code == 202
    shopper = browser("alpha")
    await shopper.get("/account/orders")
    assert shopper.last.url.path.endswith("/account/sign-in")
    wrong = await shopper.submit("/account/sign-in", {"email": "cleo@example.com", "password": "wrong password!"})
    assert wrong.status_code == 401
    assert 'id="password-error"' in wrong.text
    assert 'value="cleo@example.com"' in wrong.text
    assert "wrong password" not in wrong.text
    signed_in = await shopper.submit("/account/sign-in", {"email": "cleo@example.com", "password": TEST_PASSWORD})
    assert signed_in.status_code == 200
    assert "You have no orders yet" in text(signed_in)
    placed = await buy(shopper, await variant_of(shop.a), email="cleo@example.com")
    assert "Thank you for your order" in text(placed)
    history = await shopper.get("/account/orders")
    assert "#1001" in text(history) or "#1" in text(history)
    number = text(history).split("#", 1)[1].split(" ", 1)[0]
    detail = await shopper.get(f"/account/orders/{number}")
    assert detail.status_code == 200
    assert "alpha product 1" in text(detail)
    assert (await shopper.get("/account/orders/999999")).status_code == 404
    other_store = await client.get("/s/bravo/account/orders", follow_redirects=False)
    assert other_store.status_code == 303, "a session of store a is not signed in at store b"
    out = await shopper.submit("/account/sign-out", {})
    assert "Sign in" in text(out)
    assert (await shopper.get("/account/orders")).url.path.endswith("/account/sign-in")


async def test_forms_without_the_csrf_token_are_refused(client, shop) -> None:
    await client.get("/s/alpha/")
    response = await client.post("/s/alpha/orders/lookup", data={"order_number": "1", "email": "a@b.c"})
    assert response.status_code == 403


async def pay_in_the_browser(shopper, shop, variant_of, method: str = "browser-pay") -> tuple[str, Any]:
    """A guest's checkout of one alpha product 1 completed with ``method``: the checkout's path and the answer."""
    variant = await variant_of(shop.a)
    await shopper.get("/products/alpha-product-1")
    await shopper.submit("/cart/items", {"variant_id": str(variant), "qty": "1", "product_slug": "alpha-product-1"})
    started = await shopper.submit("/checkout", {"discount_code": ""})
    path = str(started.url).split(shopper.base, 1)[1]
    saved = await shopper.submit(path, {"email": "ada@example.com", **ADDRESS, "action": "save"})
    rate = saved.text.split('value="rate-table|', 1)[1].split('"', 1)[0]
    assert f'value="{method}"' in saved.text
    paying = await shopper.submit(
        path,
        {
            "email": "ada@example.com",
            **ADDRESS,
            "shipping": f"rate-table|{rate}",
            "payment_method": method,
            "action": "complete",
        },
    )
    return path, paying


@pytest.mark.parametrize("key", [None, "pk_test_123"])
async def test_a_payment_finished_in_the_browser_gets_the_payment_page(
    browser, shop, variant_of, browser_payments, text, key
) -> None:
    await browser_payments(shop.a, key)
    shopper = browser("alpha")
    path, paying = await pay_in_the_browser(shopper, shop, variant_of)
    assert paying.status_code == 200, paying.text
    assert "Payment" in text(paying)
    if key is None:
        assert "js.stripe.com" not in paying.text
        assert "cannot offer yet" in text(paying)
    else:
        assert '<script src="https://js.stripe.com/v3/"></script>' in paying.text
        assert 'data-client-secret="browser-pay-payment-1_secret"' in paying.text
        assert 'data-publishable-key="pk_test_123"' in paying.text
        assert f'data-return-url="/s/alpha{path}/done?returned=1"' in paying.text
    home = await shopper.get("/")
    assert "js.stripe.com" not in home.text, "Stripe.js loads on the payment page only"


def succeeded(gateway: Any, checkout: Any, store_id: UUID, **extra: Any) -> PaymentEvent:
    return gateway.succeeded(store_id, UUID(checkout["id"]), checkout["total_minor"], "EUR", **extra)


async def checkout_row(admin_conn, path: str) -> Any:
    checkout_id = UUID(path.rsplit("/", 1)[1])
    return await admin_conn.fetchrow(
        "SELECT id::text, status, total_minor, payment_ref, payment_method FROM checkouts WHERE id = $1", checkout_id
    )


async def deliver(client, gateway, event: PaymentEvent) -> str:
    body, headers = gateway.webhook(event)
    response = await client.post("/api/payments/browser-payments/webhook", content=body, headers=headers)
    assert response.status_code == 200, response.text
    outcome: str = response.json()["outcome"]
    return outcome


async def test_back_from_paying_the_confirmation_waits_for_the_gateway_then_shows_the_order(
    client, browser, shop, variant_of, browser_payments, admin_conn, text
) -> None:
    gateway = await browser_payments(shop.a, "pk_test_123")
    shopper = browser("alpha")
    path, _ = await pay_in_the_browser(shopper, shop, variant_of)
    done, status = f"{path}/done", f"{path}/status"
    waiting = await shopper.get(f"{done}?returned=1&redirect_status=processing")
    assert waiting.status_code == 200
    assert "Confirming your payment" in text(waiting)
    assert f'hx-get="/s/alpha{status}" hx-trigger="every 2s" hx-swap="none"' in waiting.text
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in waiting.text
    assert "js.stripe.com" not in waiting.text
    still = await shopper.get(status)
    assert (still.status_code, still.text) == (204, "")
    assert "HX-Redirect" not in still.headers
    # Not back from paying, or back with the gateway saying it failed: the payment form again.
    assert "data-client-secret" in (await shopper.get(done)).text
    failed = await shopper.get(f"{done}?returned=1&redirect_status=failed")
    assert "data-client-secret" in failed.text
    assert "The payment did not go through" in text(failed)

    checkout = await checkout_row(admin_conn, path)
    assert await deliver(client, gateway, succeeded(gateway, checkout, shop.a.id)) == "applied"
    decided = await shopper.get(status)
    assert decided.status_code == 200
    assert decided.headers["HX-Redirect"] == f"/s/alpha{done}"
    confirmed = await shopper.get(f"{done}?returned=1&redirect_status=succeeded")
    assert "Thank you for your order" in text(confirmed)
    number = await admin_conn.fetchval("SELECT order_number FROM orders WHERE checkout_id = $1", UUID(checkout["id"]))
    assert f"<strong>{number}</strong>" in confirmed.text
    assert "hx-trigger" not in confirmed.text
    assert "http-equiv" not in confirmed.text
    # Without the shopper's cart cookie the checkout is nobody's: the same 404 as an unknown one.
    client.cookies.clear()
    assert (await shopper.get(status)).status_code == 404


async def test_a_cancelled_payment_sends_the_waiting_page_back_to_the_cart(
    client, browser, shop, variant_of, browser_payments, admin_conn, text
) -> None:
    gateway = await browser_payments(shop.a)
    shopper = browser("alpha")
    path, _ = await pay_in_the_browser(shopper, shop, variant_of)
    checkout = await checkout_row(admin_conn, path)
    event = PaymentEvent(event_id="evt_c", kind="payment.cancelled", store_id=shop.a.id,
                         checkout_id=UUID(checkout["id"]), payment_ref=gateway.payment_ref)  # fmt: skip
    assert await deliver(client, gateway, event) == "applied"
    decided = await shopper.get(f"{path}/status")
    assert decided.headers["HX-Redirect"] == f"/s/alpha{path}/done"
    back = await shopper.get(f"{path}/done?returned=1")
    assert "/checkout/" in str(back.url)
    assert "Place order" in text(back) or "Pay" in text(back), "the checkout is open again"


async def test_events_of_another_gateway_do_not_touch_the_checkout_or_its_order(
    client, browser, shop, variant_of, browser_payments, admin_conn
) -> None:
    """A payment is settled only by events of the gateway that took it, even when another gateway's event names
    the same checkout and the same payment reference."""
    own, other = await browser_payments(shop.a, also=("other-pay",))
    shopper = browser("alpha")
    path, _ = await pay_in_the_browser(shopper, shop, variant_of)
    checkout = await checkout_row(admin_conn, path)
    assert (checkout["payment_method"], checkout["payment_ref"]) == ("browser-pay", own.payment_ref)
    reserved = await admin_conn.fetchval("SELECT sum(reserved) FROM product_variants WHERE store_id = $1", shop.a.id)
    base = {"store_id": shop.a.id, "checkout_id": UUID(checkout["id"]), "payment_ref": own.payment_ref}
    for kind in ("payment.cancelled", "payment.failed"):
        event = PaymentEvent(event_id=f"evt_other_{kind}", kind=kind, **base)
        assert await deliver(client, other, event) == "ignored", kind
    after = await checkout_row(admin_conn, path)
    assert after["status"] == "awaiting_payment"
    assert (
        await admin_conn.fetchval("SELECT payment->>'status' FROM checkouts WHERE id = $1", UUID(checkout["id"]))
        != "failed"
    )
    assert (
        await admin_conn.fetchval("SELECT sum(reserved) FROM product_variants WHERE store_id = $1", shop.a.id)
        == reserved
    )
    stolen = succeeded(own, checkout, shop.a.id, event_id="evt_other_paid")
    assert await deliver(client, other, stolen) == "flagged"
    assert await admin_conn.fetchval("SELECT count(*) FROM orders WHERE store_id = $1", shop.a.id) == 0

    assert await deliver(client, own, succeeded(own, checkout, shop.a.id)) == "applied"
    refunded = PaymentEvent(event_id="evt_other_refund", kind="payment.refunded", amount_minor=100, currency="EUR",
                            **base)  # fmt: skip
    assert await deliver(client, other, refunded) == "ignored"
    assert await admin_conn.fetchval("SELECT count(*) FROM refunds WHERE store_id = $1", shop.a.id) == 0
    assert await deliver(client, own, msgspec.structs.replace(refunded, event_id="evt_own_refund")) == "applied"
    assert await admin_conn.fetchval("SELECT count(*) FROM refunds WHERE store_id = $1", shop.a.id) == 1


async def test_the_cart_works_on_the_store_host_too(browser, shop, variant_of, text) -> None:
    shopper = browser("alpha", on_host=True)
    variant = await variant_of(shop.a)
    page = await shopper.get("/products/alpha-product-1")
    assert 'action="/cart/items"' in page.text
    cart = await shopper.submit(
        "/cart/items", {"variant_id": str(variant), "qty": "2", "product_slug": "alpha-product-1"}
    )
    assert cart.status_code == 200, cart.text
    assert str(cart.url) == "http://alpha.shop.test/cart"
    assert "20.00 EUR" in text(cart)
    assert 'aria-label="2 items in the cart"' in cart.text


async def test_a_forged_test_card_webhook_is_400_and_places_nothing(
    client, browser, shop, variant_of, browser_payments, admin_conn
) -> None:
    gateway = await browser_payments(shop.a)
    path, _ = await pay_in_the_browser(browser("alpha"), shop, variant_of)
    checkout = await checkout_row(admin_conn, path)
    body, headers = gateway.webhook(succeeded(gateway, checkout, shop.a.id))
    forged = body.replace(b'"amount_minor":', b'"amount_minor":1')
    response = await client.post("/api/payments/browser-payments/webhook", content=forged, headers=headers)
    assert response.status_code == 400, response.text
    assert "signature" in response.json()["detail"]
    assert await admin_conn.fetchval("SELECT count(*) FROM orders WHERE store_id = $1", shop.a.id) == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM payment_events WHERE store_id = $1", shop.a.id) == 0
    assert (await checkout_row(admin_conn, path))["status"] == "awaiting_payment"


async def test_refund_and_dispute_events_of_another_gateway_leave_the_order_alone(
    client, browser, shop, variant_of, browser_payments, admin_conn
) -> None:
    """A pending refund is settled, and an order flagged as disputed, only by events of the gateway that took the
    payment, even when another gateway's event carries the same references."""
    own, other = await browser_payments(shop.a, also=("other-pay",))
    path, _ = await pay_in_the_browser(browser("alpha"), shop, variant_of)
    checkout = await checkout_row(admin_conn, path)
    assert await deliver(client, own, succeeded(own, checkout, shop.a.id)) == "applied"
    order_id, payment_id = await admin_conn.fetchrow(
        "SELECT o.id, p.id FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.checkout_id = $1",
        UUID(checkout["id"]),
    )
    refund_id = uuid4()
    await admin_conn.execute(
        "INSERT INTO refunds (id, store_id, order_id, payment_id, amount_minor, currency, status, refund_ref)"
        " VALUES ($1, $2, $3, $4, 100, 'EUR', 'pending', 're_pending')",
        refund_id, shop.a.id, order_id, payment_id,
    )  # fmt: skip
    refs = {"store_id": shop.a.id, "payment_ref": own.payment_ref}
    settled = PaymentEvent(event_id="evt_other_settled", kind="refund.succeeded", refund_ref="re_pending", **refs)
    disputed = PaymentEvent(event_id="evt_other_dispute", kind="dispute.created", reason="fraudulent", **refs)
    assert await deliver(client, other, settled) == "ignored"
    assert await deliver(client, other, disputed) == "ignored"
    assert await admin_conn.fetchval("SELECT status FROM refunds WHERE id = $1", refund_id) == "pending"
    assert "disputed" not in await admin_conn.fetchval("SELECT flags::text FROM orders WHERE id = $1", order_id)

    assert await deliver(client, own, msgspec.structs.replace(settled, event_id="evt_own_settled")) == "applied"
    assert await deliver(client, own, msgspec.structs.replace(disputed, event_id="evt_own_dispute")) == "flagged"
    assert await admin_conn.fetchval("SELECT status FROM refunds WHERE id = $1", refund_id) == "succeeded"
    assert "disputed" in await admin_conn.fetchval("SELECT flags::text FROM orders WHERE id = $1", order_id)
