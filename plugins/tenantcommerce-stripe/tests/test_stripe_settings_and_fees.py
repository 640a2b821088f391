"""The deployment's settings (``TC_STRIPE_*``), the fee arithmetic and how Stripe's failures are reported. No
database."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
import stripe
from tenantcommerce.errors import BusinessRuleError, Conflict, PluginError

from tenantcommerce_stripe.client import CardDeclined, StripeApi, StripeRefused
from tenantcommerce_stripe.fees import EffectiveFee, FeePolicy, effective
from tenantcommerce_stripe.settings import DEFAULT_API_BASE, StripeSettings

COMPLETE = {
    "TC_STRIPE_SECRET_KEY": "sk_test_abc123",
    "TC_STRIPE_WEBHOOK_SECRET": "whsec_platform",
    "TC_STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_connect",
}


def test_complete_settings_have_no_problem_and_defaults() -> None:
    settings = StripeSettings.from_env(COMPLETE)
    assert settings.problems() == []
    assert settings.configured
    assert settings.api_base == DEFAULT_API_BASE
    assert settings.default_fee == FeePolicy(percent_bp=0, fixed_minor=0)
    assert settings.webhook_secrets == ("whsec_platform", "whsec_connect")


def test_every_missing_variable_is_a_problem_and_empty_counts_as_unset() -> None:
    settings = StripeSettings.from_env({"TC_STRIPE_SECRET_KEY": "  ", "TC_STRIPE_WEBHOOK_SECRET": ""})
    assert settings.problems() == [
        "TC_STRIPE_SECRET_KEY is not set",
        "TC_STRIPE_WEBHOOK_SECRET is not set",
        "TC_STRIPE_CONNECT_WEBHOOK_SECRET is not set",
    ]
    assert not settings.configured
    assert settings.webhook_secrets == ()


def test_fee_and_api_base_are_read() -> None:
    settings = StripeSettings.from_env(
        {
            **COMPLETE,
            "TC_STRIPE_FEE_BP": "250",
            "TC_STRIPE_FEE_FIXED": "30",
            "TC_STRIPE_API_BASE": "http://127.0.0.1:12111/",
        }
    )
    assert settings.problems() == []
    assert settings.default_fee == FeePolicy(percent_bp=250, fixed_minor=30)
    assert settings.api_base == "http://127.0.0.1:12111"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TC_STRIPE_FEE_BP", "10001", "TC_STRIPE_FEE_BP must be a whole number from 0 to 10000"),
        ("TC_STRIPE_FEE_BP", "2.5", "TC_STRIPE_FEE_BP must be a whole number from 0 to 10000"),
        ("TC_STRIPE_FEE_BP", "-1", "TC_STRIPE_FEE_BP must be a whole number from 0 to 10000"),
        ("TC_STRIPE_FEE_FIXED", "abc", "TC_STRIPE_FEE_FIXED must be a whole number from 0 to 100000000"),
        ("TC_STRIPE_SECRET_KEY", "pk_test_abc", "TC_STRIPE_SECRET_KEY must be a Stripe secret key"),
        ("TC_STRIPE_WEBHOOK_SECRET", "secret", "TC_STRIPE_WEBHOOK_SECRET must be a webhook signing secret"),
        ("TC_STRIPE_API_BASE", "api.stripe.com", "TC_STRIPE_API_BASE must be an http(s) address"),
        ("TC_STRIPE_API_BASE", "https://api.stripe.com/v1", "TC_STRIPE_API_BASE must be an http(s) address"),
        ("TC_STRIPE_PUBLISHABLE_KEY", "sk_test_abc", "TC_STRIPE_PUBLISHABLE_KEY must be a Stripe publishable key"),
    ],
)
def test_malformed_values_are_problems(name: str, value: str, expected: str) -> None:
    settings = StripeSettings.from_env({**COMPLETE, name: value})
    [problem] = settings.problems()
    assert problem.startswith(expected), problem
    assert not settings.configured


@pytest.mark.parametrize(
    ("percent_bp", "fixed", "amount", "fee"),
    [
        (250, 30, 4_250, 136),  # 106.25 -> 106, + 30
        (250, 0, 100, 3),  # 2.5 -> 3: half rounds up
        (250, 0, 99, 2),  # 2.475 -> 2
        (150, 0, 1, 0),  # 0.015 -> 0
        (5_000, 0, 3, 2),  # 1.5 -> 2
        (0, 0, 4_250, 0),
        (0, 500, 300, 300),  # never more than the amount
        (10_000, 1, 4_250, 4_250),
        (290, 30, 0, 0),
    ],
)
def test_the_fee_is_a_rounded_percentage_plus_the_fixed_part_at_most_the_amount(
    percent_bp: int, fixed: int, amount: int, fee: int
) -> None:
    assert FeePolicy(percent_bp=percent_bp, fixed_minor=fixed).fee_for(amount) == fee


def test_a_stores_own_fee_wins_over_the_default() -> None:
    default = FeePolicy(percent_bp=250, fixed_minor=30)
    assert effective(default, {}) == EffectiveFee(percent_bp=250, fixed_minor=30, source="default")
    assert effective(default, {"fee": {"percent_bp": 0, "fixed_minor": 10}}) == EffectiveFee(
        percent_bp=0, fixed_minor=10, source="store"
    )


@pytest.mark.parametrize("body", [{"percent_bp": 10_001}, {"fixed_minor": -1}, {"percent_bp": 1, "extra": 2}])
def test_fee_policies_are_validated(body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(body, FeePolicy)


def _api() -> StripeApi:
    return StripeApi(StripeSettings.from_env(COMPLETE))


def _raise(api: StripeApi, exc: Exception) -> None:
    with api._failures("create the PaymentIntent"):
        raise exc


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (stripe.AuthenticationError("Invalid API Key provided: sk_test_****"), "rejected the platform's API key"),
        (stripe.PermissionError("The provided key does not have access"), "is not allowed to create the PaymentIntent"),
        (stripe.APIConnectionError("Network error: A ConnectTimeout was raised"), "could not reach Stripe"),
        (stripe.RateLimitError("Too many requests"), "rate-limiting the platform"),
        (stripe.APIError("Something went wrong on Stripe's end"), "Stripe failed to create the PaymentIntent"),
    ],
)
def test_stripes_own_failures_are_plugin_errors_saying_what_happened(exc: Exception, said: str) -> None:
    with pytest.raises(PluginError) as failed:
        _raise(_api(), exc)
    assert failed.value.status_code == 502
    assert said in failed.value.detail
    assert str(exc.args[0]) in failed.value.detail


def test_a_refused_request_is_a_422_with_stripes_message_and_code() -> None:
    exc = stripe.InvalidRequestError("Amount must be at least 50 cents", "amount", code="amount_too_small")
    with pytest.raises(StripeRefused) as refused:
        _raise(_api(), exc)
    assert isinstance(refused.value, BusinessRuleError)
    assert refused.value.status_code == 422
    assert refused.value.detail == (
        "Stripe refused to create the PaymentIntent: Amount must be at least 50 cents (amount_too_small)"
    )
    assert (refused.value.code, refused.value.param) == ("amount_too_small", "amount")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("amount", "amount_too_small: Amount must be at least 50 cents")
    ]


def test_a_reused_idempotency_key_is_a_conflict_and_a_declined_card_is_reported() -> None:
    with pytest.raises(Conflict):
        _raise(_api(), stripe.IdempotencyError("Keys for idempotent requests can only be used with the same ..."))
    body = {"error": {"type": "card_error", "code": "card_declined", "payment_intent": {"id": "pi_3abc"}}}
    declined = stripe.CardError("Your card was declined.", None, "card_declined", json_body=body)
    with pytest.raises(CardDeclined) as card:
        _raise(_api(), declined)
    assert (card.value.message, card.value.code, card.value.payment_intent) == (
        "Your card was declined.",
        "card_declined",
        "pi_3abc",
    )


def test_without_a_secret_key_no_client_is_made() -> None:
    api = StripeApi(StripeSettings.from_env({}))

    async def client() -> None:
        api.client()

    with pytest.raises(PluginError, match="TC_STRIPE_SECRET_KEY is not set"):
        asyncio.run(client())


def test_one_client_per_event_loop() -> None:
    api = _api()

    async def client() -> stripe.StripeClient:
        first = api.client()
        assert api.client() is first
        return first

    assert asyncio.run(client()) is not asyncio.run(client())
