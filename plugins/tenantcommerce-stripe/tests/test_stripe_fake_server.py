"""The offline Stripe server, driven through the real ``stripe`` library."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from typing import Any

import pytest
import stripe

from tenantcommerce_stripe.testing import DEFAULT_SECRET_KEY, FakeStripe, parse_form, sign_webhook

WEBHOOK_SECRET = "whsec_test_offline"


def _enabled_account(fake: FakeStripe, client: stripe.StripeClient) -> str:
    account = client.v1.accounts.create(
        params={"type": "express", "country": "DE", "capabilities": {"transfers": {"requested": True}}}
    )
    fake.enable_account(account.id)
    return account.id


def _intent(client: stripe.StripeClient, destination: str, **extra: Any) -> stripe.PaymentIntent:
    params: dict[str, Any] = {
        "amount": 4250,
        "currency": "eur",
        "automatic_payment_methods": {"enabled": True},
        "transfer_data": {"destination": destination},
        "application_fee_amount": 170,
        "metadata": {"store_id": "s1", "checkout_id": "c1"},
        **extra,
    }
    return client.v1.payment_intents.create(params=params)


def _raw(fake: FakeStripe, method: str, path: str, body: str = "", headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        fake.api_base + path, data=body.encode() if method == "POST" else None, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_parse_form_bracket_notation() -> None:
    parsed = parse_form("a=1&b[c][d]=x&b[c][e]=y&l[0]=p&l[1]=q&m[]=1&m[]=2&metadata[0]=zero&e=&n[0][k]=v&n[1][k]=w")
    assert parsed == {
        "a": "1",
        "b": {"c": {"d": "x", "e": "y"}},
        "l": ["p", "q"],
        "m": ["1", "2"],
        "metadata": {"0": "zero"},
        "e": "",
        "n": [{"k": "v"}, {"k": "w"}],
    }


def test_create_and_retrieve_account(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    account = stripe_client.v1.accounts.create(
        params={
            "type": "express",
            "country": "DE",
            "email": "owner@example.com",
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "metadata": {"store_id": "s1"},
        }
    )
    assert isinstance(account, stripe.Account)
    assert re.fullmatch(r"acct_1[A-Za-z0-9]{15}", account.id)
    assert account.type == "express"
    assert account.charges_enabled is False
    assert account.payouts_enabled is False
    assert account.capabilities is not None
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert account.metadata.to_dict() == {"store_id": "s1"}
    assert account.default_currency == "eur"

    recorded = fake_stripe.requests_to("POST", "/v1/accounts")
    assert len(recorded) == 1
    assert recorded[0].params == {
        "type": "express",
        "country": "DE",
        "email": "owner@example.com",
        "capabilities": {"card_payments": {"requested": "true"}, "transfers": {"requested": "true"}},
        "metadata": {"store_id": "s1"},
    }
    assert recorded[0].headers["authorization"] == f"Bearer {DEFAULT_SECRET_KEY}"
    assert recorded[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert recorded[0].idempotency_key  # the library sends one on every POST
    assert recorded[0].status == 200

    fake_stripe.enable_account(account.id)
    again = stripe_client.v1.accounts.retrieve(account.id)
    assert again.id == account.id
    assert (again.charges_enabled, again.payouts_enabled, again.details_submitted) == (True, True, True)
    assert again.capabilities is not None
    assert again.capabilities.to_dict() == {"card_payments": "active", "transfers": "active"}
    last = fake_stripe.last_request()
    assert (last.method, last.path, last.params) == ("GET", f"/v1/accounts/{account.id}", {})


def test_account_link(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    account = stripe_client.v1.accounts.create(params={"type": "express"})
    link = stripe_client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "https://shop.example/refresh",
            "return_url": "https://shop.example/return",
            "type": "account_onboarding",
        }
    )
    assert isinstance(link, stripe.AccountLink)
    assert link.object == "account_link"
    assert link.expires_at == link.created + 300
    assert link.url.startswith(fake_stripe.api_base + "/connect/setup/" + account.id + "/")
    assert fake_stripe.last_request().params == {
        "account": account.id,
        "refresh_url": "https://shop.example/refresh",
        "return_url": "https://shop.example/return",
        "type": "account_onboarding",
    }

    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.account_links.create(
            params={
                "account": "acct_1nope",
                "type": "account_onboarding",
                "refresh_url": "https://r",
                "return_url": "https://r",
            }
        )
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (400, "resource_missing", "account")


def test_payment_intent_lifecycle(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    destination = _enabled_account(fake_stripe, stripe_client)
    fake_stripe.clear_requests()
    intent = _intent(stripe_client, destination, receipt_email="buyer@example.com")
    assert isinstance(intent, stripe.PaymentIntent)
    assert re.fullmatch(r"pi_3[A-Za-z0-9]{23}", intent.id)
    assert intent.client_secret is not None
    assert re.fullmatch(re.escape(intent.id) + r"_secret_[A-Za-z0-9]{25}", intent.client_secret)
    assert (intent.amount, intent.currency, intent.status) == (4250, "eur", "requires_payment_method")
    assert intent.application_fee_amount == 170
    assert intent.transfer_data is not None
    assert intent.transfer_data.destination == destination
    assert intent.automatic_payment_methods is not None
    assert intent.automatic_payment_methods.enabled is True
    assert intent.metadata.to_dict() == {"store_id": "s1", "checkout_id": "c1"}
    assert intent.receipt_email == "buyer@example.com"
    assert fake_stripe.last_request().params == {
        "amount": "4250",
        "currency": "eur",
        "automatic_payment_methods": {"enabled": "true"},
        "transfer_data": {"destination": destination},
        "application_fee_amount": "170",
        "metadata": {"store_id": "s1", "checkout_id": "c1"},
        "receipt_email": "buyer@example.com",
    }

    fake_stripe.fail_payment_intent(intent.id)
    failed = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error is not None
    assert failed.last_payment_error.code == "card_declined"

    fake_stripe.succeed_payment_intent(intent.id)
    paid = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert (paid.status, paid.amount_received) == ("succeeded", 4250)
    assert paid.latest_charge is not None
    charge = fake_stripe.charges[str(paid.latest_charge)]
    assert (charge["destination"], charge["application_fee_amount"]) == (destination, 170)

    with pytest.raises(stripe.InvalidRequestError) as cannot:
        stripe_client.v1.payment_intents.cancel(intent.id)
    assert cannot.value.code == "payment_intent_unexpected_state"


def test_cancel_payment_intent(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    destination = _enabled_account(fake_stripe, stripe_client)
    intent = _intent(stripe_client, destination)
    canceled = stripe_client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at is not None
    last = fake_stripe.last_request()
    assert (last.method, last.path, last.params) == (
        "POST",
        f"/v1/payment_intents/{intent.id}/cancel",
        {"cancellation_reason": "abandoned"},
    )


def test_destination_must_be_able_to_receive_transfers(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    account = stripe_client.v1.accounts.create(
        params={"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    with pytest.raises(stripe.InvalidRequestError) as error:
        _intent(stripe_client, account.id)
    assert error.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        _intent(stripe_client, "acct_1missing")
    assert (missing.value.code, missing.value.param) == ("resource_missing", "transfer_data[destination]")


def test_refunds_full_and_partial(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    destination = _enabled_account(fake_stripe, stripe_client)
    intent = _intent(stripe_client, destination)
    with pytest.raises(stripe.InvalidRequestError) as unpaid:
        stripe_client.v1.refunds.create(params={"payment_intent": intent.id})
    assert unpaid.value.code == "charge_not_refundable"
    fake_stripe.succeed_payment_intent(intent.id)

    partial = stripe_client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 1000,
            "reverse_transfer": True,
            "refund_application_fee": True,
            "metadata": {"order_id": "o1"},
        }
    )
    assert isinstance(partial, stripe.Refund)
    assert re.fullmatch(r"re_3[A-Za-z0-9]{23}", partial.id)
    assert (partial.amount, partial.currency, partial.status, partial.payment_intent) == (
        1000,
        "eur",
        "succeeded",
        intent.id,
    )
    assert partial.transfer_reversal is not None
    assert partial.metadata.to_dict() == {"order_id": "o1"}
    assert fake_stripe.last_request().params == {
        "payment_intent": intent.id,
        "amount": "1000",
        "reverse_transfer": "true",
        "refund_application_fee": "true",
        "metadata": {"order_id": "o1"},
    }

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe_client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 4000})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")

    rest = stripe_client.v1.refunds.create(params={"payment_intent": intent.id, "reverse_transfer": True})
    assert rest.amount == 3250
    assert stripe_client.v1.refunds.retrieve(rest.id).amount == 3250
    assert fake_stripe.charges[str(rest.charge)]["refunded"] is True


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"amount": 100, "currency": "eur", "colour": "red"}, "parameter_unknown", "colour"),
        (
            {"amount": 100, "currency": "eur", "transfer_data": {"destination": "acct_1x", "bogus": "1"}},
            "parameter_unknown",
            "transfer_data[bogus]",
        ),
        ({"currency": "eur"}, "parameter_missing", "amount"),
        (
            {"amount": 100, "currency": "eur", "automatic_payment_methods": {"allow_redirects": "never"}},
            "parameter_missing",
            "automatic_payment_methods[enabled]",
        ),
        ({"amount": "lots", "currency": "eur"}, "parameter_invalid_integer", "amount"),
    ],
)
def test_parameter_errors(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    assert error.value.http_status == 400
    assert error.value.code == code
    assert error.value.param == param
    body = error.value.json_body
    assert body is not None
    assert body["error"]["type"] == "invalid_request_error"
    assert (body["error"]["code"], body["error"]["param"]) == (code, param)
    if code == "parameter_unknown":
        assert body["error"]["message"] == f"Received unknown parameter: {param}"
    if code == "parameter_missing":
        assert body["error"]["message"] == f"Missing required param: {param}."
    assert fake_stripe.last_request().status == 400
    assert fake_stripe.payment_intents == {}


def test_unknown_capability_and_missing_account_type(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.accounts.create(params={"type": "express", "capabilities": {"teleport": {"requested": True}}})  # type: ignore[typeddict-unknown-key]
    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "capabilities[teleport]")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.accounts.create(params={"country": "DE"})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "type")


def test_unknown_ids_are_404(stripe_client: stripe.StripeClient) -> None:
    for call in (
        lambda: stripe_client.v1.payment_intents.retrieve("pi_3nope"),
        lambda: stripe_client.v1.payment_intents.cancel("pi_3nope"),
        lambda: stripe_client.v1.accounts.retrieve("acct_1nope"),
        lambda: stripe_client.v1.refunds.retrieve("re_3nope"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            call()
        assert (error.value.http_status, error.value.code) == (404, "resource_missing")
        body = error.value.json_body
        assert body is not None
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["message"].startswith("No such ")


def test_authentication(fake_stripe: FakeStripe) -> None:
    bad = fake_stripe.client("sk_test_wrong_key_1234")
    with pytest.raises(stripe.AuthenticationError) as invalid:
        bad.v1.accounts.retrieve("acct_1x")
    assert invalid.value.http_status == 401
    assert invalid.value.json_body == {
        "error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_************1234"}
    }

    status, body = _raw(fake_stripe, "GET", "/v1/accounts/acct_1x")
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("You did not provide an API key.")

    basic = base64.b64encode(f"{DEFAULT_SECRET_KEY}:".encode()).decode()
    status, body = _raw(fake_stripe, "POST", "/v1/accounts", "type=express", {"Authorization": f"Basic {basic}"})
    assert status == 200
    assert body["object"] == "account"
    assert fake_stripe.last_request().params == {"type": "express"}


def test_idempotency_replay_and_mismatch(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    destination = _enabled_account(fake_stripe, stripe_client)
    options: Any = {"idempotency_key": "checkout-c1-v3"}
    first = stripe_client.v1.payment_intents.create(
        params={"amount": 4250, "currency": "eur", "transfer_data": {"destination": destination}}, options=options
    )
    second = stripe_client.v1.payment_intents.create(
        params={"amount": 4250, "currency": "eur", "transfer_data": {"destination": destination}}, options=options
    )
    assert second.id == first.id
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert first.last_response is not None
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert second.last_response.request_id == first.last_response.request_id
    assert len(fake_stripe.payment_intents) == 1
    recorded = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert [(r.idempotency_key, r.replayed) for r in recorded] == [("checkout-c1-v3", False), ("checkout-c1-v3", True)]

    with pytest.raises(stripe.IdempotencyError) as mismatch:
        stripe_client.v1.payment_intents.create(
            params={"amount": 5000, "currency": "eur", "transfer_data": {"destination": destination}}, options=options
        )
    assert mismatch.value.http_status == 400
    body = mismatch.value.json_body
    assert body is not None
    assert body["error"]["type"] == "idempotency_error"
    assert "checkout-c1-v3" in body["error"]["message"]
    assert len(fake_stripe.payment_intents) == 1

    # Errors raised once the endpoint ran are replayed too; validation errors are not saved.
    cancel_options: Any = {"idempotency_key": "cancel-1"}
    stripe_client.v1.payment_intents.cancel(first.id, options=cancel_options)
    again = stripe_client.v1.payment_intents.cancel(first.id, options=cancel_options)
    assert again.status == "canceled"
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"


def test_stripe_account_header(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    connected = _enabled_account(fake_stripe, stripe_client)
    direct = stripe_client.v1.payment_intents.create(
        params={"amount": 900, "currency": "eur", "application_fee_amount": 50},
        options={"stripe_account": connected},
    )
    last = fake_stripe.last_request()
    assert last.stripe_account == connected
    assert direct.last_response is not None
    assert direct.last_response.headers["Stripe-Account"] == connected
    # The direct charge belongs to the connected account: the platform does not see it.
    with pytest.raises(stripe.InvalidRequestError) as hidden:
        stripe_client.v1.payment_intents.retrieve(direct.id)
    assert hidden.value.code == "resource_missing"
    assert stripe_client.v1.payment_intents.retrieve(direct.id, options={"stripe_account": connected}).id == direct.id

    with pytest.raises(stripe.PermissionError) as unknown:
        stripe_client.v1.payment_intents.retrieve(direct.id, options={"stripe_account": "acct_1unknown"})
    assert unknown.value.http_status == 403
    assert unknown.value.json_body is not None
    assert unknown.value.json_body["error"]["code"] == "account_invalid"

    with pytest.raises(stripe.InvalidRequestError) as platform_fee:
        stripe_client.v1.payment_intents.create(params={"amount": 900, "currency": "eur", "application_fee_amount": 5})
    assert platform_fee.value.param == "application_fee_amount"


def test_signed_webhook_verifies_with_the_library(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    destination = _enabled_account(fake_stripe, stripe_client)
    intent = _intent(stripe_client, destination)
    paid = fake_stripe.succeed_payment_intent(intent.id)
    event = fake_stripe.event("payment_intent.succeeded", paid)
    signed = sign_webhook(event, WEBHOOK_SECRET)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signed.header)
    assert signed.headers["Stripe-Signature"] == signed.header

    verified = stripe.Webhook.construct_event(signed.payload, signed.header, WEBHOOK_SECRET)
    assert verified.id == event["id"]
    assert verified.type == "payment_intent.succeeded"
    obj = verified.data.object
    assert isinstance(obj, stripe.PaymentIntent)
    assert (obj.id, obj.amount_received, obj.status) == (intent.id, 4250, "succeeded")

    connect = fake_stripe.event(
        "account.updated", fake_stripe.enable_account(destination), account=destination, previous_attributes={}
    )
    connect_signed = sign_webhook(connect, "whsec_connect")
    assert stripe_client.construct_event(connect_signed.payload, connect_signed.header, "whsec_connect").account == (
        destination
    )

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(signed.payload, signed.header, "whsec_other")
    expired = sign_webhook(event, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(expired.payload, expired.header, WEBHOOK_SECRET, tolerance=300)
    altered = signed.payload.replace(b"4250", b"4251")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(altered, signed.header, WEBHOOK_SECRET)


def test_context_manager_stops(stripe_client: stripe.StripeClient) -> None:
    with FakeStripe() as fake:
        base = fake.api_base
        assert fake.client().v1.accounts.create(params={"type": "express"}).object == "account"
    with pytest.raises(RuntimeError):
        _ = fake.api_base
    assert base.startswith("http://127.0.0.1:")


def test_validation_errors_are_not_saved_for_replay(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    options: Any = {"idempotency_key": "acct-s1"}
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.accounts.create(params={"country": "DE"}, options=options)
    account = stripe_client.v1.accounts.create(params={"type": "express", "country": "DE"}, options=options)
    assert account.last_response is not None
    assert "Idempotent-Replayed" not in account.last_response.headers
    assert [r.status for r in fake_stripe.requests_to("POST", "/v1/accounts")] == [400, 200]
