"""``parse_webhook`` (signatures of both endpoints, the translation of each event) and ``handle_event`` (the
account's flags kept current whatever the order of deliveries). Events are built by the fake and signed with the
stripe library's own helper."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest
from tenantcommerce.errors import InputError
from tenantcommerce.plugins import PaymentEvent, RefundRequest, WebhookRequest

from tenantcommerce_stripe.gateway import StripeGateway
from tenantcommerce_stripe.state import account_of
from tenantcommerce_stripe.testing import FakeStripe, sign_webhook

from .conftest import CONNECT_SECRET, PLATFORM_SECRET, StripeStore, connected_account, payment_request

MakeStore = Callable[..., Awaitable[StripeStore]]
STORE = UUID("01900000-0000-7000-8000-0000000000aa")
CHECKOUT = UUID("01900000-0000-7000-8000-0000000000cc")


def delivery(event: dict[str, Any], secret: str = PLATFORM_SECRET, *, timestamp: int | None = None) -> WebhookRequest:
    signed = sign_webhook(event, secret, timestamp=timestamp)
    return WebhookRequest(headers={k.lower(): v for k, v in signed.headers.items()}, body=signed.payload)


def intent(fake: FakeStripe, *, metadata: dict[str, str] | None = None, amount: int = 4_250) -> dict[str, Any]:
    """A PaymentIntent made in the fake as the gateway makes them (a destination charge with metadata)."""
    account = connected_account(fake)
    created = fake.client().v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "eur",
            "automatic_payment_methods": {"enabled": True},
            "transfer_data": {"destination": account},
            "application_fee_amount": 136,
            "metadata": {"store_id": str(STORE), "checkout_id": str(CHECKOUT)} if metadata is None else metadata,
        }
    )
    return fake.payment_intents[created.id]


# --- signatures -----------------------------------------------------------------------------------------------------


async def test_either_endpoints_secret_verifies_a_delivery(st_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_payment_intent(intent(fake_stripe)["id"]))
    for secret in (PLATFORM_SECRET, CONNECT_SECRET):
        parsed = await st_gateway.parse_webhook(delivery(event, secret))
        assert parsed is not None
        assert parsed.event_id == event["id"]


@pytest.mark.parametrize("case", ["other secret", "expired", "altered body", "missing header", "garbled header"])
async def test_a_delivery_no_secret_verifies_is_a_400(
    st_gateway: StripeGateway, fake_stripe: FakeStripe, case: str
) -> None:
    event = fake_stripe.event("payment_intent.succeeded", intent(fake_stripe))
    webhook = delivery(event)
    if case == "other secret":
        webhook = delivery(event, "whsec_someone_else")
    elif case == "expired":
        webhook = delivery(event, timestamp=int(time.time()) - 301)
    elif case == "altered body":
        webhook = WebhookRequest(headers=webhook.headers, body=webhook.body.replace(b"4250", b"1"))
    elif case == "missing header":
        webhook = WebhookRequest(headers={"content-type": "application/json"}, body=webhook.body)
    else:
        webhook = WebhookRequest(headers={"stripe-signature": "nonsense"}, body=webhook.body)

    with pytest.raises(InputError) as refused:
        await st_gateway.parse_webhook(webhook)

    assert refused.value.status_code == 400
    assert [error.field for error in refused.value.errors] == ["stripe-signature"]
    if case != "missing header":
        assert refused.value.detail.startswith("invalid or expired Stripe signature")


async def test_a_recent_signature_within_the_tolerance_is_accepted(
    st_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = fake_stripe.event("payment_intent.canceled", intent(fake_stripe))
    assert await st_gateway.parse_webhook(delivery(event, timestamp=int(time.time()) - 240)) is not None


async def test_a_signed_body_that_is_not_an_event_is_a_400(st_gateway: StripeGateway) -> None:
    with pytest.raises(InputError, match="not a Stripe event"):
        await st_gateway.parse_webhook(delivery({"hello": "world"}))  # type: ignore[arg-type]


# --- translation ----------------------------------------------------------------------------------------------------


async def test_payment_intent_events(st_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi = intent(fake_stripe)
    account = pi["transfer_data"]["destination"]
    failed = fake_stripe.fail_payment_intent(pi["id"], message="Your card has insufficient funds.")
    paid = fake_stripe.succeed_payment_intent(pi["id"])
    common = {"store_id": STORE, "checkout_id": CHECKOUT, "payment_ref": pi["id"], "currency": "EUR"}

    got_failed = await st_gateway.parse_webhook(
        delivery(fake_stripe.event("payment_intent.payment_failed", failed, event_id="evt_1", created=100))
    )
    got_paid = await st_gateway.parse_webhook(
        delivery(fake_stripe.event("payment_intent.succeeded", paid, event_id="evt_2", created=101))
    )
    cancelled_object = {**pi, "status": "canceled", "cancellation_reason": "abandoned"}
    got_cancelled = await st_gateway.parse_webhook(
        delivery(fake_stripe.event("payment_intent.canceled", cancelled_object, event_id="evt_3", created=102))
    )

    assert got_failed == PaymentEvent(
        event_id="evt_1", kind="payment.failed", amount_minor=4_250, account=account, created=100,
        reason="Your card has insufficient funds.", **common,
    )  # fmt: skip
    assert got_paid == PaymentEvent(
        event_id="evt_2", kind="payment.succeeded", amount_minor=4_250, account=account, created=101, **common
    )
    assert got_cancelled == PaymentEvent(
        event_id="evt_3", kind="payment.cancelled", amount_minor=4_250, account=account, created=102,
        reason="abandoned", **common,
    )  # fmt: skip


async def test_ids_that_are_not_uuids_route_nowhere(st_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi = intent(fake_stripe, metadata={"store_id": "s1", "checkout_id": "../x"})
    parsed = await st_gateway.parse_webhook(delivery(fake_stripe.event("payment_intent.succeeded", pi)))
    assert parsed is not None
    assert (parsed.store_id, parsed.checkout_id, parsed.payment_ref) == (None, None, pi["id"])


async def test_charge_refunded_carries_the_cumulative_amount(
    st_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi = fake_stripe.succeed_payment_intent(intent(fake_stripe)["id"])
    client = fake_stripe.client()
    client.v1.refunds.create(params={"payment_intent": pi["id"], "amount": 1_000})
    client.v1.refunds.create(params={"payment_intent": pi["id"], "amount": 250})
    charge = fake_stripe.charges[pi["latest_charge"]]

    parsed = await st_gateway.parse_webhook(delivery(fake_stripe.event("charge.refunded", charge, event_id="evt_r")))

    assert parsed == PaymentEvent(
        event_id="evt_r", kind="payment.refunded", store_id=STORE, checkout_id=CHECKOUT, payment_ref=pi["id"],
        amount_minor=1_250, currency="EUR", account=pi["transfer_data"]["destination"], created=parsed.created,
    )  # fmt: skip


async def test_a_charge_without_metadata_is_routed_through_its_payment_intent(
    st_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi = fake_stripe.succeed_payment_intent(intent(fake_stripe)["id"])
    charge = {**fake_stripe.charges[pi["latest_charge"]], "metadata": {}, "amount_refunded": 4_250}
    fake_stripe.clear_requests()

    parsed = await st_gateway.parse_webhook(delivery(fake_stripe.event("charge.refunded", charge)))

    assert parsed is not None
    assert (parsed.store_id, parsed.checkout_id, parsed.amount_minor) == (STORE, CHECKOUT, 4_250)
    assert [(r.method, r.path) for r in fake_stripe.requests] == [("GET", f"/v1/payment_intents/{pi['id']}")]


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("refund.created", "succeeded", "refund.succeeded"),
        ("refund.updated", "succeeded", "refund.succeeded"),
        ("refund.updated", "canceled", "refund.failed"),
        ("refund.failed", "failed", "refund.failed"),
        ("refund.created", "pending", None),
        ("refund.updated", "requires_action", None),
    ],
)
async def test_refund_events_by_status(
    st_gateway: StripeGateway,
    st_store: MakeStore,
    fake_stripe: FakeStripe,
    event_type: str,
    status: str,
    kind: str | None,
) -> None:
    store = await st_store("beans")
    request = payment_request()
    payment = await st_gateway.create_payment(store.ctx, request, store.plugin)
    fake_stripe.succeed_payment_intent(payment.payment_ref)
    refunded = await st_gateway.refund(
        store.ctx,
        RefundRequest(payment_ref=payment.payment_ref, amount_minor=500, currency="EUR", idempotency_key="r1"),
        store.plugin,
    )
    refund = {**fake_stripe.refunds[refunded.refund_ref], "status": status}
    if status == "failed":
        refund["failure_reason"] = "expired_or_canceled_card"
    fake_stripe.clear_requests()

    parsed = await st_gateway.parse_webhook(delivery(fake_stripe.event(event_type, refund, event_id="evt_x")))

    assert fake_stripe.requests == [], "the refund's own metadata names the store"
    if kind is None:
        assert parsed is None
        return
    assert parsed == PaymentEvent(
        event_id="evt_x", kind=kind, store_id=store.ctx.id, checkout_id=request.checkout_id,  # type: ignore[arg-type]
        payment_ref=payment.payment_ref, refund_ref=refunded.refund_ref, amount_minor=500, currency="EUR",
        reason="expired_or_canceled_card" if status == "failed" else None, created=parsed.created,
    )  # fmt: skip


async def test_a_dispute_is_routed_through_its_payment_intent(
    st_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi = fake_stripe.succeed_payment_intent(intent(fake_stripe)["id"])
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 4_250,
        "currency": "eur",
        "charge": pi["latest_charge"],
        "payment_intent": pi["id"],
        "reason": "fraudulent",
        "status": "needs_response",
        "metadata": {},
    }

    parsed = await st_gateway.parse_webhook(
        delivery(fake_stripe.event("charge.dispute.created", dispute, event_id="e"))
    )

    assert parsed == PaymentEvent(
        event_id="e", kind="dispute.created", store_id=STORE, checkout_id=CHECKOUT, payment_ref=pi["id"],
        amount_minor=4_250, currency="EUR", account=pi["transfer_data"]["destination"], reason="fraudulent",
        created=parsed.created,
    )  # fmt: skip


async def test_a_dispute_of_a_payment_stripe_does_not_know_routes_nowhere(
    st_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    dispute = {"id": "dp_2", "amount": 100, "currency": "usd", "payment_intent": "pi_3unknown", "reason": "general"}
    parsed = await st_gateway.parse_webhook(delivery(fake_stripe.event("charge.dispute.created", dispute)))
    assert parsed is not None
    assert (parsed.kind, parsed.store_id, parsed.account) == ("dispute.created", None, None)


async def test_account_updated_names_the_account_and_its_store(
    st_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    account_id = connected_account(fake_stripe, store_id=STORE)
    event = fake_stripe.event(
        "account.updated", fake_stripe.accounts[account_id], account=account_id, event_id="evt_a", created=7
    )

    parsed = await st_gateway.parse_webhook(delivery(event, CONNECT_SECRET))

    assert parsed == PaymentEvent(
        event_id="evt_a", kind="account.updated", store_id=STORE, account=account_id, created=7
    )


@pytest.mark.parametrize(
    "event_type", ["payment_intent.created", "payout.paid", "customer.created", "charge.succeeded"]
)
async def test_other_events_are_not_needed(st_gateway: StripeGateway, fake_stripe: FakeStripe, event_type: str) -> None:
    assert await st_gateway.parse_webhook(delivery(fake_stripe.event(event_type, {"id": "x_1"}))) is None


async def test_a_verified_event_without_the_fields_it_needs_is_a_400(st_gateway: StripeGateway) -> None:
    event = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "created": 1, "data": {"object": {}}}
    with pytest.raises(InputError, match="does not carry a valid Intent"):
        await st_gateway.parse_webhook(delivery(event))
    garbled = WebhookRequest(headers=delivery(event).headers, body=json.dumps(event).encode() + b"\xff")
    with pytest.raises(InputError):
        await st_gateway.parse_webhook(garbled)


# --- handle_event ---------------------------------------------------------------------------------------------------


def account_event(account_id: str, created: int) -> PaymentEvent:
    return PaymentEvent(event_id=f"evt_{created}", kind="account.updated", account=account_id, created=created)


async def test_account_updates_keep_the_flags_current_whatever_their_order(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans", charges=False, payouts=False)
    assert store.account is not None
    older = account_event(store.account, created=100)  # sent while charges were still off
    fake_stripe.enable_account(store.account, charges_enabled=True, payouts_enabled=False)
    newer = account_event(store.account, created=200)

    await st_gateway.handle_event(store.ctx, newer, store.plugin)
    after_newer = account_of(await store.plugin.get_state())
    await st_gateway.handle_event(store.ctx, older, store.plugin)  # arrives late
    await st_gateway.handle_event(store.ctx, newer, store.plugin)  # and again
    after_all = account_of(await store.plugin.get_state())

    assert after_newer is not None
    assert after_all is not None
    assert (after_all.charges_enabled, after_all.payouts_enabled, after_all.details_submitted) == (True, False, True)
    assert (after_newer.charges_enabled, after_newer.payouts_enabled) == (True, False)
    assert await st_gateway.is_available(store.ctx, store.plugin) is True
    gets = fake_stripe.requests_to("GET", f"/v1/accounts/{store.account}")
    assert len(gets) == 3, "each delivery reads the account from Stripe"


async def test_events_about_other_accounts_or_kinds_change_nothing(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans", charges=False)
    assert store.account is not None
    other = connected_account(fake_stripe)
    fake_stripe.enable_account(store.account)
    before = await store.plugin.get_state()
    fake_stripe.clear_requests()

    await st_gateway.handle_event(store.ctx, account_event(other, created=1), store.plugin)
    await st_gateway.handle_event(
        store.ctx,
        PaymentEvent(event_id="e", kind="payment.succeeded", account=store.account, payment_ref="pi_3x"),
        store.plugin,
    )

    assert await store.plugin.get_state() == before
    assert fake_stripe.requests == []


async def test_a_store_without_an_account_ignores_account_updates(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans", account=False)
    await st_gateway.handle_event(store.ctx, account_event("acct_1x", created=1), store.plugin)
    assert account_of(await store.plugin.get_state()) is None
    assert fake_stripe.requests == []


async def test_a_store_never_learns_of_another_stores_account(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    a = await st_store("alpha", charges=False)
    b = await st_store("bravo", charges=False)
    assert a.account is not None
    fake_stripe.enable_account(a.account)

    await st_gateway.handle_event(b.ctx, account_event(a.account, created=1), b.plugin)

    b_account = account_of(await b.plugin.get_state())
    assert b_account is not None
    assert (b_account.id, b_account.charges_enabled) == (b.account, False)
    a_account = account_of(await a.plugin.get_state())
    assert a_account is not None
    assert a_account.charges_enabled is False, "only a's own delivery syncs a"
