"""The gateway against the offline Stripe server: exactly what it sends, what it answers, and what it refuses."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from tenantcommerce.errors import BusinessRuleError, Conflict, InputError, PluginError, TenantCommerceError
from tenantcommerce.plugins import PaymentConfirmation, RefundRequest

from tenantcommerce_stripe import client as client_module
from tenantcommerce_stripe.client import StripeApi
from tenantcommerce_stripe.fees import FeePolicy
from tenantcommerce_stripe.gateway import StripeGateway
from tenantcommerce_stripe.settings import StripeSettings
from tenantcommerce_stripe.testing import FakeStripe

from .conftest import StripeStore, payment_request

MakeStore = Callable[..., Awaitable[StripeStore]]


def intent_requests(fake: FakeStripe) -> list[Any]:
    return fake.requests_to("POST", "/v1/payment_intents")


async def test_a_payment_is_a_destination_charge_with_exactly_these_parameters(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    request = payment_request("checkout:c1:v3", email="ada@example.com")

    result = await st_gateway.create_payment(store.ctx, request, store.plugin)

    [sent] = intent_requests(fake_stripe)
    assert sent.params == {
        "amount": "4250",
        "currency": "eur",
        "automatic_payment_methods": {"enabled": "true"},
        "transfer_data": {"destination": store.account},
        "application_fee_amount": "136",  # 2.5 % of 4250 = 106.25 -> 106, + 30
        "metadata": {"store_id": str(store.ctx.id), "checkout_id": str(request.checkout_id), "reference": "C-7K3Q"},
        "receipt_email": "ada@example.com",
        "description": "C-7K3Q",
    }
    assert sent.stripe_account is None, "destination charges are made on the platform account"
    assert sent.idempotency_key is not None
    assert sent.idempotency_key.startswith(f"tc-stripe:{store.ctx.id}:payment:")
    intent = fake_stripe.payment_intents[result.payment_ref]
    assert (result.status, result.amount_minor, result.currency) == ("requires_action", 4_250, "EUR")
    assert result.client_secret == intent["client_secret"]
    assert result.account == store.account


async def test_without_a_fee_or_an_email_those_parameters_are_left_out(
    st_settings: StripeSettings, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    gateway = StripeGateway(StripeApi(replace(st_settings, default_fee=FeePolicy())))
    store = await st_store("beans")

    await gateway.create_payment(store.ctx, payment_request(metadata={"channel": "web"}), store.plugin)

    [sent] = intent_requests(fake_stripe)
    assert "application_fee_amount" not in sent.params
    assert "receipt_email" not in sent.params
    assert sent.params["metadata"]["channel"] == "web", "the request's own metadata is passed on"


async def test_a_stores_own_fee_is_used(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    state = await store.plugin.get_state()
    await store.plugin.set_state({**state, "fee": {"percent_bp": 100, "fixed_minor": 0}})

    await st_gateway.create_payment(store.ctx, payment_request(), store.plugin)

    assert intent_requests(fake_stripe)[0].params["application_fee_amount"] == "43"  # 42.5 -> 43


async def test_the_same_key_answers_the_same_payment_without_a_second_intent(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    first = await st_gateway.create_payment(store.ctx, payment_request("k"), store.plugin)
    fake_stripe.succeed_payment_intent(first.payment_ref)

    again = await st_gateway.create_payment(store.ctx, payment_request("k"), store.plugin)

    assert (again.payment_ref, again.status) == (first.payment_ref, "succeeded")
    assert len(fake_stripe.payment_intents) == 1
    with pytest.raises(Conflict):
        await st_gateway.create_payment(store.ctx, payment_request("k", amount=999), store.plugin)
    with pytest.raises(InputError):
        await st_gateway.create_payment(store.ctx, payment_request("k" * 256), store.plugin)


async def test_the_idempotency_key_is_deterministic_per_store_and_key(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    a = await st_store("alpha")
    b = await st_store("bravo")
    checkout = payment_request("checkout:c1:v1")
    await st_gateway.create_payment(a.ctx, checkout, a.plugin)
    await st_gateway.create_payment(b.ctx, checkout, b.plugin)
    await st_gateway.create_payment(a.ctx, payment_request("checkout:c1:v2"), a.plugin)

    keys = [sent.idempotency_key for sent in intent_requests(fake_stripe)]
    assert len(set(keys)) == 3, "another store or another checkout version is another payment"
    assert len(fake_stripe.payment_intents) == 3


@pytest.mark.parametrize(
    ("account", "charges", "said"),
    [
        (False, True, "has not connected a Stripe account"),
        (True, False, "has not enabled charges"),
    ],
)
async def test_a_store_that_cannot_take_charges_gets_a_clear_422(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe, account: bool, charges: bool, said: str
) -> None:
    store = await st_store("beans", account=account, charges=charges)

    assert await st_gateway.is_available(store.ctx, store.plugin) is False
    with pytest.raises(BusinessRuleError) as refused:
        await st_gateway.create_payment(store.ctx, payment_request(), store.plugin)
    assert said in refused.value.detail
    assert [error.field for error in refused.value.errors] == ["payment_method"]
    assert intent_requests(fake_stripe) == []


async def test_an_unconfigured_platform_offers_nothing(st_store: MakeStore, fake_stripe: FakeStripe) -> None:
    gateway = StripeGateway(StripeApi(StripeSettings(secret_key=None, api_base=fake_stripe.api_base)))
    store = await st_store("beans")

    assert await gateway.is_available(store.ctx, store.plugin) is False
    with pytest.raises(BusinessRuleError, match="Stripe is not configured on this platform"):
        await gateway.create_payment(store.ctx, payment_request(), store.plugin)


async def test_only_the_stores_currency_is_taken(st_gateway: StripeGateway, st_store: MakeStore) -> None:
    store = await st_store("beans")
    with pytest.raises(BusinessRuleError) as refused:
        await st_gateway.create_payment(store.ctx, payment_request(currency="USD"), store.plugin)
    assert [error.field for error in refused.value.errors] == ["currency"]


async def test_stripes_refusal_is_a_422_with_its_message(st_gateway: StripeGateway, st_store: MakeStore) -> None:
    store = await st_store("beans")
    with pytest.raises(BusinessRuleError) as refused:
        await st_gateway.create_payment(store.ctx, payment_request(amount=0), store.plugin)
    assert "Amount must be at least 1 (amount_too_small)" in refused.value.detail
    assert refused.value.status_code == 422


async def test_a_wrong_key_or_an_unreachable_stripe_is_a_502(
    st_settings: StripeSettings, st_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await st_store("beans")
    wrong_key = StripeGateway(StripeApi(replace(st_settings, secret_key="sk_test_wrong")))
    with pytest.raises(PluginError, match="rejected the platform's API key") as failed:
        await wrong_key.create_payment(store.ctx, payment_request(), store.plugin)
    assert failed.value.status_code == 502

    monkeypatch.setattr(client_module, "NETWORK_RETRIES", 0)
    nowhere = StripeGateway(StripeApi(replace(st_settings, api_base="http://127.0.0.1:9")))
    with pytest.raises(PluginError, match=r"could not reach Stripe at http://127\.0\.0\.1:9"):
        await nowhere.create_payment(store.ctx, payment_request(), store.plugin)


async def test_a_declined_card_is_a_failed_payment(
    st_gateway: StripeGateway, st_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await st_store("beans")

    async def decline(params: Any, *, idempotency_key: str) -> Any:
        raise client_module.CardDeclined("Your card was declined.", code="card_declined", payment_intent="pi_3x")

    monkeypatch.setattr(st_gateway.api, "create_payment_intent", decline)
    result = await st_gateway.create_payment(store.ctx, payment_request(), store.plugin)

    assert (result.status, result.payment_ref, result.failure_reason) == ("failed", "pi_3x", "Your card was declined.")


# --- confirm ------------------------------------------------------------------------------------------------------


async def test_confirm_reads_the_intent_and_maps_its_status(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    payment = await st_gateway.create_payment(store.ctx, payment_request(), store.plugin)
    right = PaymentConfirmation(payment_ref=payment.payment_ref, amount_minor=4_250, currency="EUR")
    fake_stripe.clear_requests()

    assert (await st_gateway.confirm(store.ctx, right, store.plugin)).status == "requires_action"
    assert [(r.method, r.path) for r in fake_stripe.requests] == [("GET", f"/v1/payment_intents/{payment.payment_ref}")]

    fake_stripe.payment_intents[payment.payment_ref]["status"] = "processing"
    assert (await st_gateway.confirm(store.ctx, right, store.plugin)).status == "pending"

    fake_stripe.fail_payment_intent(payment.payment_ref, message="Insufficient funds.")
    failed_attempt = await st_gateway.confirm(store.ctx, right, store.plugin)
    assert (failed_attempt.status, failed_attempt.failure_reason) == ("requires_action", "Insufficient funds.")

    fake_stripe.succeed_payment_intent(payment.payment_ref)
    paid = await st_gateway.confirm(store.ctx, right, store.plugin)
    assert (paid.status, paid.account) == ("succeeded", store.account)


@pytest.mark.parametrize(
    ("amount", "currency", "wrong"), [(4_249, "EUR", ["amount_minor"]), (4_250, "USD", ["currency"])]
)
async def test_confirm_refuses_another_amount_or_currency(
    st_gateway: StripeGateway,
    st_store: MakeStore,
    fake_stripe: FakeStripe,
    amount: int,
    currency: str,
    wrong: list[str],
) -> None:
    store = await st_store("beans")
    payment = await st_gateway.create_payment(store.ctx, payment_request(), store.plugin)
    fake_stripe.succeed_payment_intent(payment.payment_ref)

    with pytest.raises(BusinessRuleError) as refused:
        await st_gateway.confirm(
            store.ctx, PaymentConfirmation(payment_ref=payment.payment_ref, amount_minor=amount, currency=currency),
            store.plugin,
        )  # fmt: skip
    assert [error.field for error in refused.value.errors] == wrong


async def test_another_stores_payment_is_unknown_exactly_like_a_missing_one(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    a = await st_store("alpha")
    b = await st_store("bravo")
    payment = await st_gateway.create_payment(a.ctx, payment_request(), a.plugin)
    fake_stripe.succeed_payment_intent(payment.payment_ref)
    answers = []
    for ref in (payment.payment_ref, "pi_3doesnotexist", "not-a-payment-id"):
        for call in (
            st_gateway.confirm(
                b.ctx, PaymentConfirmation(payment_ref=ref, amount_minor=4_250, currency="EUR"), b.plugin
            ),
            st_gateway.cancel(b.ctx, ref, b.plugin),
            st_gateway.refund(
                b.ctx, RefundRequest(payment_ref=ref, amount_minor=1, currency="EUR", idempotency_key="r"), b.plugin
            ),
        ):
            with pytest.raises(TenantCommerceError) as refused:
                await call
            answers.append((refused.value.status_code, refused.value.detail.replace(ref, "<ref>")))
    assert set(answers) == {(422, "no Stripe payment '<ref>' in this store")}
    assert fake_stripe.requests_to("POST", "/v1/refunds") == []
    assert fake_stripe.requests_to("POST", f"/v1/payment_intents/{payment.payment_ref}/cancel") == []


# --- refunds --------------------------------------------------------------------------------------------------------


async def test_a_refund_reverses_the_transfer_and_the_fee_with_exactly_these_parameters(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    request = payment_request()
    payment = await st_gateway.create_payment(store.ctx, request, store.plugin)
    fake_stripe.succeed_payment_intent(payment.payment_ref)
    refund = RefundRequest(
        payment_ref=payment.payment_ref, amount_minor=1_000, currency="EUR", idempotency_key="refund:o1:1",
        reason="damaged in transit",
    )  # fmt: skip

    result = await st_gateway.refund(store.ctx, refund, store.plugin)

    [sent] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert sent.params == {
        "payment_intent": payment.payment_ref,
        "amount": "1000",
        "reverse_transfer": "true",
        "refund_application_fee": "true",
        "metadata": {
            "store_id": str(store.ctx.id),
            "checkout_id": str(request.checkout_id),
            "idempotency_key": "refund:o1:1",
            "reason": "damaged in transit",
        },
    }
    assert sent.idempotency_key is not None
    assert sent.idempotency_key.startswith(f"tc-stripe:{store.ctx.id}:refund:")
    assert (result.status, result.amount_minor, result.currency) == ("succeeded", 1_000, "EUR")
    assert fake_stripe.refunds[result.refund_ref]["transfer_reversal"] is not None

    again = await st_gateway.refund(store.ctx, refund, store.plugin)
    assert again.refund_ref == result.refund_ref
    assert (
        fake_stripe.charges[fake_stripe.payment_intents[payment.payment_ref]["latest_charge"]]["amount_refunded"]
        == 1_000
    )


async def test_refunding_too_much_or_an_unpaid_payment_is_a_422_naming_the_field(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    payment = await st_gateway.create_payment(store.ctx, payment_request(), store.plugin)

    def refund(amount: int, key: str, currency: str = "EUR") -> RefundRequest:
        return RefundRequest(
            payment_ref=payment.payment_ref, amount_minor=amount, currency=currency, idempotency_key=key
        )

    with pytest.raises(BusinessRuleError) as unpaid:
        await st_gateway.refund(store.ctx, refund(100, "r1"), store.plugin)
    assert [e.field for e in unpaid.value.errors] == ["payment_ref"]
    fake_stripe.succeed_payment_intent(payment.payment_ref)
    with pytest.raises(BusinessRuleError) as too_much:
        await st_gateway.refund(store.ctx, refund(4_251, "r2"), store.plugin)
    assert [e.field for e in too_much.value.errors] == ["amount_minor"]
    with pytest.raises(BusinessRuleError) as currency:
        await st_gateway.refund(store.ctx, refund(100, "r3", "USD"), store.plugin)
    assert [e.field for e in currency.value.errors] == ["currency"]


# --- cancel ---------------------------------------------------------------------------------------------------------


async def test_cancel_cancels_once_and_refuses_money_taken(
    st_gateway: StripeGateway, st_store: MakeStore, fake_stripe: FakeStripe
) -> None:
    store = await st_store("beans")
    payment = await st_gateway.create_payment(store.ctx, payment_request("open"), store.plugin)

    first = await st_gateway.cancel(store.ctx, payment.payment_ref, store.plugin)
    second = await st_gateway.cancel(store.ctx, payment.payment_ref, store.plugin)

    assert (first.status, second.status) == ("cancelled", "cancelled")
    [sent] = fake_stripe.requests_to("POST", f"/v1/payment_intents/{payment.payment_ref}/cancel")
    assert sent.params == {}
    assert sent.idempotency_key == f"tc-stripe:{store.ctx.id}:cancel:" + _digest(payment.payment_ref)

    paid = await st_gateway.create_payment(store.ctx, payment_request("paid"), store.plugin)
    fake_stripe.succeed_payment_intent(paid.payment_ref)
    with pytest.raises(BusinessRuleError, match="refund it instead"):
        await st_gateway.cancel(store.ctx, paid.payment_ref, store.plugin)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]
