"""End to end through the app's HTTP API and the core's webhook endpoint, against the offline Stripe server: cart ->
checkout -> PaymentIntent -> signed webhooks -> exactly one order, one stock decrement, one payment row.

Every webhook is signed with the stripe library's own helper (``sign_webhook``) and posted to
``/api/payments/stripe/webhook``; the database is inspected as the superuser.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.app import runtime_of
from tenantcommerce.auth.mailer import RecordingMailer
from tenantcommerce.checkout.expiry import release_expired_checkouts
from tenantcommerce.db.database import Database
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.plugins import enable_plugin, plugin_context
from tenantcommerce.testing.stores import StoreFixture, TwoStores
from tenantcommerce_shipping_rates.rates import RateInput
from tenantcommerce_shipping_rates.storage import create_rate

from tenantcommerce_stripe.gateway import idempotency_key
from tenantcommerce_stripe.settings import StripeSettings
from tenantcommerce_stripe.state import AccountState, with_account
from tenantcommerce_stripe.testing import FakeStripe, sign_webhook

pytestmark = pytest.mark.usefixtures("st_env")

WEBHOOK = "/api/payments/stripe/webhook"
SHIPPING_MINOR = 500
ADDRESS = {"country": "DE", "postal_code": "10115", "city": "Berlin", "line1": "Unter den Linden 1", "name": "Ada"}
WRITTEN_TABLES = ("orders", "order_items", "payments", "payment_events", "inventory_adjustments", "outbox_events")


@dataclass(frozen=True)
class Shop:
    """A store selling through Stripe: its connected account in the fake, and a browser of a guest."""

    store: StoreFixture
    account: str
    new_guest: Callable[[], httpx.AsyncClient]
    """A new guest's browser (a cookie jar of its own)."""


@pytest_asyncio.fixture
async def admin(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: arranges and inspects rows of every store."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


async def _sell_through_stripe(database: Database, fake: FakeStripe, store: StoreFixture) -> str:
    """Flat-rate shipping and the Stripe plugin, with a connected account that finished onboarding; its id."""
    await enable_plugin(database, store.id, "shipping-rates")
    async with database.store_transaction(store.id, readonly=False) as conn:
        await create_rate(conn, store.id, RateInput(name="Standard", amount_minor=SHIPPING_MINOR), store.store.currency)
    await enable_plugin(database, store.id, "stripe")
    account = fake.client().v1.accounts.create(
        params={
            "type": "express",
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "metadata": {"store_id": str(store.id)},
        }
    )
    fake.enable_account(account.id)
    plugin = plugin_context(database, store.id, "stripe")
    await plugin.set_state(with_account({}, AccountState(id=account.id, charges_enabled=True, payouts_enabled=True)))
    return str(account.id)


@pytest_asyncio.fixture
async def shop(
    tc_database: Database, two_stores: TwoStores, fake_stripe: FakeStripe, app: Litestar, client: Any
) -> Shop:
    """Store ``alpha`` (EUR) selling through Stripe, and a guest's browser."""
    account = await _sell_through_stripe(tc_database, fake_stripe, two_stores.a)

    def new_guest() -> httpx.AsyncClient:
        guest: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        guest.blocking_portal = client.blocking_portal
        return guest

    return Shop(store=two_stores.a, account=account, new_guest=new_guest)


@dataclass
class Checkout:
    """A completed checkout waiting for its card payment."""

    id: str
    payment_intent: str
    total_minor: int
    body: dict[str, Any]
    headers: dict[str, str]
    guest: httpx.AsyncClient


async def _variant(admin: asyncpg.Connection, store: StoreFixture, sku_suffix: str = "1-s") -> UUID:
    found: UUID = await admin.fetchval(
        "SELECT id FROM product_variants WHERE store_id = $1 AND sku = $2", store.id, f"{store.slug}-{sku_suffix}"
    )
    return found


async def _stock(admin: asyncpg.Connection, variant: UUID) -> tuple[int, int]:
    row = await admin.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", variant)
    return row["inventory"], row["reserved"]


async def _counts(admin: asyncpg.Connection) -> dict[str, int]:
    return {table: await admin.fetchval(f"SELECT count(*) FROM {table}") for table in WRITTEN_TABLES}


async def _pay_by_card(shop: Shop, variant: UUID, qty: int = 2) -> Checkout:
    """Cart -> checkout -> address, shipping, ``stripe`` -> complete: the storefront gets a client secret."""
    url = f"/api/storefront/{shop.store.slug}"
    guest = shop.new_guest()
    added = await guest.post(f"{url}/cart/items", json={"variant_id": str(variant), "qty": qty})
    assert added.status_code == 200, added.text
    headers = {"X-Cart-Token": added.json()["token"]}
    created = await guest.post(f"{url}/checkout", json={"email": "ada@example.com"}, headers=headers)
    assert created.status_code == 201, created.text
    checkout_id = created.json()["id"]
    addressed = await guest.patch(f"{url}/checkout/{checkout_id}", json={"shipping_address": ADDRESS}, headers=headers)
    quote = addressed.json()["shipping_quotes"][0]
    chosen = await guest.patch(
        f"{url}/checkout/{checkout_id}",
        json={"shipping": {"carrier_id": quote["carrier_id"], "rate_id": quote["rate_id"]}, "payment_method": "stripe"},
        headers=headers,
    )
    assert chosen.status_code == 200, chosen.text
    assert "stripe" in [method["id"] for method in chosen.json()["payment_methods"]]
    completed = await guest.post(f"{url}/checkout/{checkout_id}/complete", headers=headers)
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["status"] == "awaiting_payment"
    assert body["payment"]["client_secret"].startswith(body["payment"]["payment_ref"] + "_secret_")
    assert body["payment"]["client_options"] == {"publishable_key": "pk_test_offline"}, "Stripe.js needs the key"
    return Checkout(
        checkout_id, body["payment"]["payment_ref"], body["totals"]["total"]["amount_minor"], body, headers, guest
    )


async def _deliver(
    client: Any, event: dict[str, Any], secret: str, *, timestamp: int | None = None, tamper: bool = False
) -> httpx.Response:
    signed = sign_webhook(event, secret, timestamp=timestamp)
    payload = signed.payload.replace(b'"livemode":false', b'"livemode":true') if tamper else signed.payload
    if tamper:
        assert payload != signed.payload
    response: httpx.Response = await client.post(
        WEBHOOK, content=payload, headers={**signed.headers, "content-type": "application/json"}
    )
    return response


async def test_a_card_payment_becomes_one_order_however_often_and_in_whatever_order_stripe_calls(
    shop: Shop,
    fake_stripe: FakeStripe,
    client: Any,
    admin: asyncpg.Connection,
    st_env: StripeSettings,
    tc_mailer: RecordingMailer,
) -> None:
    variant = await _variant(admin, shop.store)
    inventory_before, _ = await _stock(admin, variant)
    checkout = await _pay_by_card(shop, variant, qty=2)
    assert await _stock(admin, variant) == (inventory_before, 2), "completing holds the stock"

    sent = fake_stripe.requests_to("POST", "/v1/payment_intents")[-1]
    fee = (checkout.total_minor * 250 + 5_000) // 10_000 + 30  # the tests' platform fee: 2.5 % + 0.30
    assert sent.params == {
        "amount": str(checkout.total_minor),
        "currency": "eur",
        "automatic_payment_methods": {"enabled": "true"},
        "transfer_data": {"destination": shop.account},
        "application_fee_amount": str(fee),
        "metadata": {
            "store_id": str(shop.store.id),
            "checkout_id": checkout.id,
            "reference": sent.params["metadata"]["reference"],
        },
        "receipt_email": "ada@example.com",
        "description": sent.params["metadata"]["reference"],
    }
    version_key = f"checkout:{checkout.id}:v{checkout.body['version']}"
    assert sent.idempotency_key == idempotency_key(shop.store.id, "payment", version_key)

    failed = fake_stripe.event(
        "payment_intent.payment_failed",
        fake_stripe.fail_payment_intent(checkout.payment_intent),
        created=int(time.time()) - 60,
    )
    succeeded = fake_stripe.event(
        "payment_intent.succeeded", fake_stripe.succeed_payment_intent(checkout.payment_intent)
    )
    unrelated = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})
    secret = st_env.webhook_secret
    assert secret is not None
    outcomes = []
    for event in (succeeded, failed, unrelated, succeeded, succeeded):
        response = await _deliver(client, event, secret)
        assert response.status_code == 200, response.text
        outcomes.append(response.json()["outcome"])
    assert outcomes == ["applied", "ignored", "ignored", "duplicate", "duplicate"]

    orders = await admin.fetch("SELECT id, order_number, payment_status FROM orders WHERE store_id = $1", shop.store.id)
    assert len(orders) == 1
    assert orders[0]["payment_status"] == "paid"
    payments = await admin.fetch(
        "SELECT transaction_id, status, amount_minor FROM payments WHERE order_id = $1", orders[0]["id"]
    )
    assert [tuple(row) for row in payments] == [(checkout.payment_intent, "succeeded", checkout.total_minor)]
    assert await _stock(admin, variant) == (inventory_before - 2, 0), "one decrement, the hold used up"
    sales = await admin.fetch("SELECT delta FROM inventory_adjustments WHERE variant_id = $1 AND delta < 0", variant)
    assert [row["delta"] for row in sales] == [-2]
    events = await admin.fetch(
        "SELECT event_id, outcome FROM payment_events WHERE store_id = $1 ORDER BY created_at", shop.store.id
    )
    assert [(row["event_id"], row["outcome"]) for row in events] == [
        (succeeded["id"], "applied"),
        (failed["id"], "ignored"),
    ]
    paid_events = await admin.fetchval(
        "SELECT count(*) FROM outbox_events WHERE store_id = $1 AND name = 'order.paid'", shop.store.id
    )
    assert paid_events == 1
    assert len([mail for mail in tc_mailer.outbox if mail.kind == "order-confirmation"]) == 1

    shown = await checkout.guest.get(
        f"/api/storefront/{shop.store.slug}/checkout/{checkout.id}", headers=checkout.headers
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "completed"
    assert shown.json()["order"]["number"] == orders[0]["order_number"]


async def _checkout_row(admin: asyncpg.Connection, checkout: Checkout) -> asyncpg.Record:
    row: asyncpg.Record = await admin.fetchrow(
        "SELECT status, payment, metadata::text AS metadata, order_id FROM checkouts WHERE id = $1", UUID(checkout.id)
    )
    return row


async def test_a_bad_expired_or_altered_signature_answers_400_and_writes_nothing(
    shop: Shop, fake_stripe: FakeStripe, client: Any, admin: asyncpg.Connection, st_env: StripeSettings
) -> None:
    variant = await _variant(admin, shop.store)
    checkout = await _pay_by_card(shop, variant)
    succeeded = fake_stripe.event(
        "payment_intent.succeeded", fake_stripe.succeed_payment_intent(checkout.payment_intent)
    )
    secret = st_env.webhook_secret
    assert secret is not None
    before = await _counts(admin)
    stock_before = await _stock(admin, variant)

    expired = await _deliver(client, succeeded, secret, timestamp=int(time.time()) - 301)
    altered = await _deliver(client, succeeded, secret, tamper=True)
    wrong_secret = await _deliver(client, succeeded, "whsec_someone_else")
    unsigned = await client.post(WEBHOOK, content=b'{"id": "evt_1"}', headers={"content-type": "application/json"})

    for response in (expired, altered, wrong_secret, unsigned):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await _counts(admin) == before
    assert await _stock(admin, variant) == stock_before
    assert (await _checkout_row(admin, checkout))["status"] == "awaiting_payment"

    just_in_time = await _deliver(client, succeeded, secret, timestamp=int(time.time()) - 290)
    assert just_in_time.json()["outcome"] == "applied", "within the 300 s tolerance the same event is accepted"


async def test_a_success_whose_amount_or_account_differs_places_no_order_and_is_flagged(
    shop: Shop, fake_stripe: FakeStripe, client: Any, admin: asyncpg.Connection, st_env: StripeSettings
) -> None:
    variant = await _variant(admin, shop.store)
    checkout = await _pay_by_card(shop, variant)
    intent = fake_stripe.succeed_payment_intent(checkout.payment_intent)
    secret = st_env.webhook_secret
    assert secret is not None
    cheaper = fake_stripe.event("payment_intent.succeeded", {**intent, "amount": 100, "amount_received": 100})
    elsewhere = fake_stripe.event(
        "payment_intent.succeeded", {**intent, "transfer_data": {"destination": "acct_1SomebodyElse"}}
    )
    for event, field in ((cheaper, "amount"), (elsewhere, "account")):
        response = await _deliver(client, event, secret)
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "flagged"
        assert field in response.json()["detail"]
    assert await admin.fetchval("SELECT count(*) FROM orders WHERE store_id = $1", shop.store.id) == 0
    row = await _checkout_row(admin, checkout)
    assert row["status"] == "awaiting_payment"
    assert row["order_id"] is None
    assert [flag["event_id"] for flag in json.loads(row["metadata"])["flags"]] == [
        cheaper["id"],
        elsewhere["id"],
    ]
    audited = await admin.fetchval(
        "SELECT count(*) FROM audit_log WHERE store_id = $1 AND action = 'payment.flagged'", shop.store.id
    )
    assert audited == 2

    right = await _deliver(client, fake_stripe.event("payment_intent.succeeded", intent), secret)
    assert right.json()["outcome"] == "applied"
    assert await admin.fetchval("SELECT count(*) FROM orders WHERE store_id = $1", shop.store.id) == 1


async def test_a_failed_attempt_keeps_the_hold_and_a_cancelled_payment_gives_it_back(
    shop: Shop, fake_stripe: FakeStripe, client: Any, admin: asyncpg.Connection, st_env: StripeSettings
) -> None:
    secret = st_env.webhook_secret
    assert secret is not None
    variant = await _variant(admin, shop.store)
    inventory, _ = await _stock(admin, variant)
    first = await _pay_by_card(shop, variant, qty=1)
    declined = fake_stripe.event("payment_intent.payment_failed", fake_stripe.fail_payment_intent(first.payment_intent))
    assert (await _deliver(client, declined, secret)).json()["outcome"] == "applied"
    assert await _stock(admin, variant) == (inventory, 1), "the customer may try again: the stock stays held"
    shown = await first.guest.get(f"/api/storefront/{shop.store.slug}/checkout/{first.id}", headers=first.headers)
    assert shown.json()["payment"]["status"] == "failed"
    assert shown.json()["payment"]["failure_reason"] == "Your card was declined."
    retried = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_payment_intent(first.payment_intent))
    assert (await _deliver(client, retried, secret)).json()["outcome"] == "applied"
    assert await _stock(admin, variant) == (inventory - 1, 0)

    second = await _pay_by_card(shop, variant, qty=1)
    assert await _stock(admin, variant) == (inventory - 1, 1)
    cancelled_intent = fake_stripe.client().v1.payment_intents.cancel(second.payment_intent)
    cancelled = fake_stripe.event("payment_intent.canceled", cancelled_intent.to_dict())
    assert (await _deliver(client, cancelled, secret)).json()["outcome"] == "applied"
    assert await _stock(admin, variant) == (inventory - 1, 0)
    assert (await _checkout_row(admin, second))["status"] == "open"


async def _expire(client: Any, admin: asyncpg.Connection, checkout: Checkout) -> None:
    """The checkout's hold runs out and the worker's release job runs."""
    await admin.execute(
        "UPDATE checkouts SET expires_at = now() - interval '1 minute' WHERE id = $1", UUID(checkout.id)
    )
    await admin.execute(
        "UPDATE inventory_reservations SET expires_at = now() - interval '1 minute' WHERE checkout_id = $1",
        UUID(checkout.id),
    )
    runtime = runtime_of(client.app)
    released = await asyncio.to_thread(client.blocking_portal.call, partial(release_expired_checkouts, runtime))
    assert released == 1


async def test_a_success_after_expiry_takes_the_stock_again_or_is_refunded_and_flagged(
    shop: Shop, fake_stripe: FakeStripe, client: Any, admin: asyncpg.Connection, st_env: StripeSettings
) -> None:
    secret = st_env.webhook_secret
    assert secret is not None
    variant = await _variant(admin, shop.store)
    inventory, _ = await _stock(admin, variant)

    late = await _pay_by_card(shop, variant, qty=1)
    paid = fake_stripe.succeed_payment_intent(late.payment_intent)  # paid at Stripe, the webhook not yet arrived
    await _expire(client, admin, late)
    assert await _stock(admin, variant) == (inventory, 0), "the expiry gave the hold back"
    response = await _deliver(client, fake_stripe.event("payment_intent.succeeded", paid), secret)
    assert response.json()["outcome"] == "applied"
    order = await admin.fetchrow(
        "SELECT status, flags::text AS flags FROM orders WHERE checkout_id = $1", UUID(late.id)
    )
    assert order["status"] != "cancelled"
    assert '"paid_after_expiry"' in order["flags"]
    assert await _stock(admin, variant) == (inventory - 1, 0), "the stock was taken again"

    gone = await _pay_by_card(shop, variant, qty=1)
    paid = fake_stripe.succeed_payment_intent(gone.payment_intent)
    await _expire(client, admin, gone)
    await admin.execute("UPDATE product_variants SET inventory = 0 WHERE id = $1", variant)
    fake_stripe.clear_requests()
    response = await _deliver(client, fake_stripe.event("payment_intent.succeeded", paid), secret)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "flagged"
    order = await admin.fetchrow(
        "SELECT status, payment_status, refunded_minor, total_minor, flags::text AS flags FROM orders "
        "WHERE checkout_id = $1",
        UUID(gone.id),
    )
    assert '"paid_after_expiry_out_of_stock"' in order["flags"]
    assert (order["status"], order["payment_status"]) == ("cancelled", "refunded")
    assert order["refunded_minor"] == order["total_minor"] == gone.total_minor
    refunds = fake_stripe.requests_to("POST", "/v1/refunds")
    assert len(refunds) == 1
    assert refunds[0].params["payment_intent"] == gone.payment_intent
    assert refunds[0].params["amount"] == str(gone.total_minor)
    assert refunds[0].params["reverse_transfer"] == "true"
    assert refunds[0].params["refund_application_fee"] == "true"
    assert await _stock(admin, variant) == (0, 0), "nothing was taken, nothing put back"


async def _owner_browser(shop: Shop, admin: asyncpg.Connection, new_browser: Any) -> tuple[Any, dict[str, str]]:
    from tenantcommerce.testing.accounts import TEST_PASSWORD, csrf_headers, sign_in
    from tenantcommerce.testing.accounts import password_hash as kit_password_hash

    await admin.execute(
        "UPDATE users SET password_hash = $2 WHERE email = $1",
        f"owner@{shop.store.slug}.test",
        kit_password_hash(TEST_PASSWORD),
    )
    browser = new_browser()
    signed_in = await sign_in(browser, f"owner@{shop.store.slug}.test")
    assert signed_in.status_code == 200, signed_in.text
    return browser, await csrf_headers(browser)


async def test_refunds_reverse_the_transfer_and_fee_and_stripe_side_refunds_and_disputes_are_recorded(
    shop: Shop,
    fake_stripe: FakeStripe,
    client: Any,
    admin: asyncpg.Connection,
    st_env: StripeSettings,
    st_browser: Any,
) -> None:
    secret = st_env.webhook_secret
    assert secret is not None
    variant = await _variant(admin, shop.store)
    checkout = await _pay_by_card(shop, variant, qty=2)
    paid = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_payment_intent(checkout.payment_intent))
    assert (await _deliver(client, paid, secret)).json()["outcome"] == "applied"
    order_id = await admin.fetchval("SELECT id FROM orders WHERE checkout_id = $1", UUID(checkout.id))
    owner, headers = await _owner_browser(shop, admin, st_browser)

    fake_stripe.clear_requests()
    refunded = await owner.post(
        f"/api/admin/{shop.store.slug}/orders/{order_id}/refunds", json={"amount_minor": 700}, headers=headers
    )
    assert refunded.status_code in (200, 201), refunded.text
    sent = fake_stripe.requests_to("POST", "/v1/refunds")
    assert len(sent) == 1
    assert {
        key: sent[0].params[key] for key in ("payment_intent", "amount", "reverse_transfer", "refund_application_fee")
    } == {
        "payment_intent": checkout.payment_intent,
        "amount": "700",
        "reverse_transfer": "true",
        "refund_application_fee": "true",
    }
    assert await admin.fetchval("SELECT refunded_minor FROM orders WHERE id = $1", order_id) == 700

    # The merchant refunds 300 more in Stripe's dashboard: charge.refunded says 1000 in all.
    charge_id = fake_stripe.payment_intents[checkout.payment_intent]["latest_charge"]
    charge = {**fake_stripe.charges[charge_id], "amount_refunded": 1_000, "refunded": False}
    event = fake_stripe.event("charge.refunded", charge)
    assert (await _deliver(client, event, secret)).json()["outcome"] == "applied"
    assert (await _deliver(client, event, secret)).json()["outcome"] == "duplicate"
    assert await admin.fetchval("SELECT refunded_minor FROM orders WHERE id = $1", order_id) == 1_000
    amounts = await admin.fetch("SELECT amount_minor FROM refunds WHERE order_id = $1 ORDER BY created_at", order_id)
    assert [row["amount_minor"] for row in amounts] == [700, 300]

    dispute = {
        "id": "dp_1Offline",
        "object": "dispute",
        "amount": checkout.total_minor,
        "currency": "eur",
        "charge": charge_id,
        "payment_intent": checkout.payment_intent,
        "reason": "fraudulent",
        "status": "needs_response",
        "metadata": {},
    }
    response = await _deliver(client, fake_stripe.event("charge.dispute.created", dispute), secret)
    assert response.json()["outcome"] == "flagged"
    flags = await admin.fetchval("SELECT flags::text FROM orders WHERE id = $1", order_id)
    assert '"disputed"' in flags
    assert "fraudulent" in flags


async def test_connect_events_keep_the_account_current_and_a_store_without_charges_cannot_take_cards(
    shop: Shop,
    fake_stripe: FakeStripe,
    client: Any,
    admin: asyncpg.Connection,
    st_env: StripeSettings,
    tc_database: Database,
) -> None:
    secret = st_env.connect_webhook_secret
    assert secret is not None
    disabled = fake_stripe.enable_account(shop.account, charges_enabled=False, payouts_enabled=False)
    event = fake_stripe.event("account.updated", disabled, account=shop.account)
    response = await _deliver(client, event, secret)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    state = await plugin_context(tc_database, shop.store.id, "stripe").get_state()
    assert state["account"]["charges_enabled"] is False

    variant = await _variant(admin, shop.store)
    url = f"/api/storefront/{shop.store.slug}"
    guest = shop.new_guest()
    added = await guest.post(f"{url}/cart/items", json={"variant_id": str(variant), "qty": 1})
    headers = {"X-Cart-Token": added.json()["token"]}
    created = await guest.post(f"{url}/checkout", json={"email": "ada@example.com"}, headers=headers)
    assert "stripe" not in [method["id"] for method in created.json()["payment_methods"]]
    refused = await guest.patch(
        f"{url}/checkout/{created.json()['id']}", json={"payment_method": "stripe"}, headers=headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "payment_method"


async def test_an_expired_hold_cancels_its_payment_intent_and_the_cancel_event_changes_nothing_more(
    shop: Shop, fake_stripe: FakeStripe, client: Any, admin: asyncpg.Connection, st_env: StripeSettings
) -> None:
    secret = st_env.webhook_secret
    assert secret is not None
    variant = await _variant(admin, shop.store)
    inventory, _ = await _stock(admin, variant)
    checkout = await _pay_by_card(shop, variant, qty=1)
    await _expire(client, admin, checkout)
    intent = fake_stripe.payment_intents[checkout.payment_intent]
    assert intent["status"] == "canceled", "the release job cancels the PaymentIntent at Stripe"
    assert await _stock(admin, variant) == (inventory, 0)
    assert (await _checkout_row(admin, checkout))["status"] == "expired"

    cancelled = fake_stripe.event("payment_intent.canceled", intent)
    response = await _deliver(client, cancelled, secret)
    assert response.json()["outcome"] == "ignored", "the hold is gone already"
    assert await _stock(admin, variant) == (inventory, 0)
    assert await admin.fetchval("SELECT count(*) FROM orders WHERE store_id = $1", shop.store.id) == 0
