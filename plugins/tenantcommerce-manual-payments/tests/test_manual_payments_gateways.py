"""The rules of the two gateways, called as the core calls them, on real Postgres."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tenantcommerce.errors import BusinessRuleError, Conflict, InputError, TenantCommerceError
from tenantcommerce.plugins.providers import (
    PaymentConfirmation,
    PaymentGateway,
    PaymentRequest,
    RefundRequest,
    WebhookRequest,
)
from tenantcommerce.testing.plugins import plugin_context

from tenantcommerce_manual_payments.gateways import BankTransferGateway, CashOnDeliveryGateway
from tenantcommerce_manual_payments.plugin import tc_collect_store_warnings
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

bank = BankTransferGateway()
cod = CashOnDeliveryGateway()

MakeStore = Callable[..., Awaitable[Any]]
MakeRequest = Callable[..., PaymentRequest]


def paid(ref: str, amount: int = 4_250, currency: str = "EUR", note: str | None = None) -> PaymentConfirmation:
    return PaymentConfirmation(payment_ref=ref, amount_minor=amount, currency=currency, note=note)


def refund_of(ref: str, amount: int, key: str, currency: str = "EUR", reason: str | None = None) -> RefundRequest:
    return RefundRequest(payment_ref=ref, amount_minor=amount, currency=currency, idempotency_key=key, reason=reason)


@pytest.fixture
async def shop(mp_store: MakeStore, mp_config: dict[str, Any]) -> Any:
    return await mp_store("beans", config=mp_config)


async def payment_rows(shop: Any) -> list[Any]:
    return await shop.fetch("SELECT * FROM manual_payments ORDER BY created_at")


# --- create_payment ---------------------------------------------------------------------------------------------------


async def test_a_bank_transfer_is_pending_with_bank_details_amount_and_reference(
    shop: Any, mp_request: MakeRequest
) -> None:
    result = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)

    assert result.status == "pending"
    assert (result.amount_minor, result.currency) == (4_250, "EUR")
    assert re.fullmatch(r"BEANS-[23456789A-HJ-NP-Z]{8}", result.payment_ref), result.payment_ref
    instructions = result.instructions or ""
    for expected in ("42.50 EUR", "Beans GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", result.payment_ref,
                     "We ship once the money arrives."):  # fmt: skip
        assert expected in instructions, f"{expected!r} missing from {instructions!r}"
    [row] = await payment_rows(shop)
    assert (row["method"], row["status"], row["reference"]) == ("bank_transfer", "pending", result.payment_ref)
    assert (row["amount_minor"], row["currency"], row["refunded_minor"], row["paid_at"]) == (4_250, "EUR", 0, None)
    assert row["customer_email"] == "ada@example.com"


async def test_pay_on_delivery_tells_the_customer_to_pay_the_courier(shop: Any, mp_request: MakeRequest) -> None:
    result = await cod.create_payment(shop.ctx, mp_request(), shop.plugin)

    assert result.status == "pending"
    instructions = result.instructions or ""
    assert "courier" in instructions
    assert "42.50 EUR" in instructions
    assert result.payment_ref in instructions
    assert "Cash or card at the door." in instructions
    assert "IBAN" not in instructions
    [row] = await payment_rows(shop)
    assert row["method"] == "cash_on_delivery"


async def test_each_payment_gets_its_own_reference(shop: Any, mp_request: MakeRequest) -> None:
    refs = {(await bank.create_payment(shop.ctx, mp_request(f"k{i}"), shop.plugin)).payment_ref for i in range(20)}
    assert len(refs) == 20


async def test_the_default_reference_prefix_is_pay(mp_store: MakeStore, mp_request: MakeRequest) -> None:
    store = await mp_store("plain", config={"cash_on_delivery": True})
    result = await cod.create_payment(store.ctx, mp_request(), store.plugin)
    assert result.payment_ref.startswith("PAY-")


async def test_the_same_idempotency_key_returns_the_same_record(shop: Any, mp_request: MakeRequest) -> None:
    first = await bank.create_payment(shop.ctx, mp_request("same"), shop.plugin)
    again = await bank.create_payment(shop.ctx, mp_request("same"), shop.plugin)

    assert again == first
    assert len(await payment_rows(shop)) == 1


async def test_the_same_idempotency_key_at_the_same_moment_makes_one_payment(
    shop: Any, mp_request: MakeRequest
) -> None:
    results = await asyncio.gather(*(bank.create_payment(shop.ctx, mp_request("race"), shop.plugin) for _ in range(2)))
    assert results[0].payment_ref == results[1].payment_ref
    assert len(await payment_rows(shop)) == 1


@pytest.mark.parametrize(
    ("gateway", "changes"),
    [(bank, {"amount": 1}), (bank, {"currency": "USD"}), (cod, {})],
    ids=["another-amount", "another-currency", "another-method"],
)
async def test_reusing_an_idempotency_key_for_another_payment_is_a_conflict(
    shop: Any, mp_request: MakeRequest, gateway: PaymentGateway, changes: dict[str, Any]
) -> None:
    await bank.create_payment(shop.ctx, mp_request("used"), shop.plugin)
    with pytest.raises((Conflict, BusinessRuleError)) as refused:
        await gateway.create_payment(shop.ctx, mp_request("used", **changes), shop.plugin)
    assert 400 <= refused.value.status_code < 500
    assert len(await payment_rows(shop)) == 1


async def test_another_currency_than_the_stores_is_refused_and_nothing_is_written(
    shop: Any, mp_request: MakeRequest
) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        await bank.create_payment(shop.ctx, mp_request(currency="USD"), shop.plugin)
    assert refused.value.status_code == 422
    assert [error.field for error in refused.value.errors] == ["currency"]
    assert await payment_rows(shop) == []


@pytest.mark.parametrize(
    ("gateway", "config"),
    [
        (bank, {"cash_on_delivery": True}),
        (cod, {"bank_transfer": {"account_holder": "Beans GmbH", "iban": "DE89370400440532013000"}}),
        (bank, {}),
        (cod, {"cash_on_delivery": False}),
    ],
    ids=["bank-off", "cod-off", "nothing-configured", "cod-false"],
)
async def test_a_method_not_turned_on_is_refused(
    mp_store: MakeStore, mp_request: MakeRequest, gateway: PaymentGateway, config: dict[str, Any]
) -> None:
    store = await mp_store("offline", config=config)
    with pytest.raises(BusinessRuleError) as refused:
        await gateway.create_payment(store.ctx, mp_request(), store.plugin)
    assert refused.value.status_code == 422
    assert [error.field for error in refused.value.errors] == ["payment_method"]
    assert await payment_rows(store) == []


async def test_an_amount_beyond_a_bigint_is_refused(shop: Any, mp_request: MakeRequest) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        await bank.create_payment(shop.ctx, mp_request(amount=2**63), shop.plugin)
    assert [error.field for error in refused.value.errors] == ["amount_minor"]
    assert await payment_rows(shop) == []


async def test_an_overlong_idempotency_key_is_bad_input(shop: Any, mp_request: MakeRequest) -> None:
    with pytest.raises(InputError) as refused:
        await bank.create_payment(shop.ctx, mp_request("k" * 256), shop.plugin)
    assert [error.field for error in refused.value.errors] == ["idempotency_key"]
    assert await payment_rows(shop) == []


# --- confirm ----------------------------------------------------------------------------------------------------------


async def test_confirming_marks_the_payment_paid_once(shop: Any, mp_request: MakeRequest) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)

    first = await bank.confirm(shop.ctx, paid(payment.payment_ref, note="statement 12"), shop.plugin)
    [row] = await payment_rows(shop)
    again = await bank.confirm(shop.ctx, paid(payment.payment_ref, note="again"), shop.plugin)
    [row_again] = await payment_rows(shop)

    assert (first.status, again.status) == ("succeeded", "succeeded")
    assert first.payment_ref == again.payment_ref == payment.payment_ref
    assert first.instructions is None
    assert row["status"] == "succeeded"
    assert row["paid_at"] is not None
    assert row["note"] == "statement 12"
    assert (row_again["paid_at"], row_again["note"]) == (row["paid_at"], "statement 12"), "the second is a no-op"


@pytest.mark.parametrize(
    ("amount", "currency", "fields"),
    [(4_249, "EUR", ["amount_minor"]), (4_251, "EUR", ["amount_minor"]), (4_250, "USD", ["currency"]),
     (0, "GBP", ["currency", "amount_minor"])],
    ids=["less", "more", "currency", "both"],
)  # fmt: skip
async def test_confirming_another_amount_or_currency_is_refused(
    shop: Any, mp_request: MakeRequest, amount: int, currency: str, fields: list[str]
) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)
    with pytest.raises(BusinessRuleError) as refused:
        await bank.confirm(shop.ctx, paid(payment.payment_ref, amount, currency), shop.plugin)
    assert refused.value.status_code == 422
    assert [error.field for error in refused.value.errors] == fields
    [row] = await payment_rows(shop)
    assert (row["status"], row["paid_at"]) == ("pending", None)


async def test_a_paid_payment_still_refuses_a_wrong_amount(shop: Any, mp_request: MakeRequest) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)
    await bank.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)
    with pytest.raises(BusinessRuleError):
        await bank.confirm(shop.ctx, paid(payment.payment_ref, 1), shop.plugin)


async def test_an_unknown_reference_cannot_be_confirmed(shop: Any) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        await bank.confirm(shop.ctx, paid("BEANS-NOPE2345"), shop.plugin)
    assert refused.value.status_code == 422
    assert [error.field for error in refused.value.errors] == ["payment_ref"]


async def test_a_gateway_cannot_confirm_a_payment_of_the_other_method(shop: Any, mp_request: MakeRequest) -> None:
    payment = await cod.create_payment(shop.ctx, mp_request(), shop.plugin)
    with pytest.raises(BusinessRuleError):
        await bank.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)
    assert (await cod.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)).status == "succeeded"


async def test_another_stores_payment_cannot_be_confirmed_or_refunded(
    shop: Any, mp_store: MakeStore, mp_config: dict[str, Any], mp_request: MakeRequest
) -> None:
    other = await mp_store("other", config=mp_config)
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)
    await bank.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)

    with pytest.raises(TenantCommerceError) as confirm:
        await bank.confirm(other.ctx, paid(payment.payment_ref), other.plugin)
    with pytest.raises(TenantCommerceError) as refund:
        await bank.refund(other.ctx, refund_of(payment.payment_ref, 100, "r1"), other.plugin)

    assert (confirm.value.status_code, refund.value.status_code) == (422, 422)
    [row] = await payment_rows(shop)
    assert row["refunded_minor"] == 0


async def test_a_cancelled_payment_cannot_be_confirmed(shop: Any, mp_request: MakeRequest) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)
    await shop.execute("UPDATE manual_payments SET status = 'cancelled' WHERE reference = $1", payment.payment_ref)
    with pytest.raises(BusinessRuleError) as refused:
        await bank.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)
    assert refused.value.status_code == 422
    [row] = await payment_rows(shop)
    assert row["status"] == "cancelled"


async def test_the_same_key_after_payment_returns_the_paid_record(shop: Any, mp_request: MakeRequest) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request("k"), shop.plugin)
    await bank.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)
    again = await bank.create_payment(shop.ctx, mp_request("k"), shop.plugin)
    assert (again.payment_ref, again.status, again.instructions) == (payment.payment_ref, "succeeded", None)


# --- refund -----------------------------------------------------------------------------------------------------------


async def paid_payment(shop: Any, mp_request: MakeRequest, gateway: PaymentGateway = bank) -> str:
    payment = await gateway.create_payment(shop.ctx, mp_request(), shop.plugin)
    await gateway.confirm(shop.ctx, paid(payment.payment_ref), shop.plugin)
    return payment.payment_ref


async def test_a_pending_payment_cannot_be_refunded(shop: Any, mp_request: MakeRequest) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)
    with pytest.raises(BusinessRuleError) as refused:
        await bank.refund(shop.ctx, refund_of(payment.payment_ref, 100, "r1"), shop.plugin)
    assert refused.value.status_code == 422
    assert await shop.fetch("SELECT * FROM manual_refunds") == []


async def test_a_refund_is_recorded_and_the_merchant_pays_it_back_by_hand(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request)

    result = await bank.refund(shop.ctx, refund_of(ref, 1_000, "r1", reason="broken mug"), shop.plugin)

    assert (result.status, result.amount_minor, result.currency) == ("succeeded", 1_000, "EUR")
    assert "10.00 EUR" in (result.instructions or "")
    assert "back to the customer" in (result.instructions or "")
    [refund] = await shop.fetch("SELECT * FROM manual_refunds")
    assert (str(refund["id"]), refund["amount_minor"], refund["note"]) == (result.refund_ref, 1_000, "broken mug")
    [row] = await payment_rows(shop)
    assert (row["refunded_minor"], row["status"]) == (1_000, "succeeded")


async def test_refunds_add_up_to_the_amount_and_never_beyond(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request)
    await bank.refund(shop.ctx, refund_of(ref, 4_000, "r1"), shop.plugin)
    with pytest.raises(BusinessRuleError) as refused:
        await bank.refund(shop.ctx, refund_of(ref, 251, "r2"), shop.plugin)
    assert refused.value.status_code == 422
    assert [error.field for error in refused.value.errors] == ["amount_minor"]

    await bank.refund(shop.ctx, refund_of(ref, 250, "r3"), shop.plugin)
    with pytest.raises(BusinessRuleError):
        await bank.refund(shop.ctx, refund_of(ref, 1, "r4"), shop.plugin)

    [row] = await payment_rows(shop)
    assert row["refunded_minor"] == 4_250
    assert len(await shop.fetch("SELECT * FROM manual_refunds")) == 2


async def test_refunds_at_the_same_moment_never_exceed_the_amount(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request)
    results = await asyncio.gather(
        *(bank.refund(shop.ctx, refund_of(ref, 3_000, f"r{i}"), shop.plugin) for i in range(2)),
        return_exceptions=True,
    )
    refused = [result for result in results if isinstance(result, BusinessRuleError)]
    assert len(refused) == 1, results
    [row] = await payment_rows(shop)
    assert row["refunded_minor"] == 3_000


async def test_the_same_refund_key_returns_the_same_refund_and_counts_once(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request)
    first = await bank.refund(shop.ctx, refund_of(ref, 4_250, "r1"), shop.plugin)
    again = await bank.refund(shop.ctx, refund_of(ref, 4_250, "r1"), shop.plugin)

    assert again.refund_ref == first.refund_ref
    [row] = await payment_rows(shop)
    assert row["refunded_minor"] == 4_250
    assert len(await shop.fetch("SELECT * FROM manual_refunds")) == 1


async def test_a_refund_key_reused_for_another_amount_is_a_conflict(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request)
    await bank.refund(shop.ctx, refund_of(ref, 1_000, "r1"), shop.plugin)
    with pytest.raises(Conflict):
        await bank.refund(shop.ctx, refund_of(ref, 2_000, "r1"), shop.plugin)
    [row] = await payment_rows(shop)
    assert row["refunded_minor"] == 1_000


async def test_a_refund_in_another_currency_is_refused(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request)
    with pytest.raises(BusinessRuleError) as refused:
        await bank.refund(shop.ctx, refund_of(ref, 100, "r1", currency="USD"), shop.plugin)
    assert [error.field for error in refused.value.errors] == ["currency"]


async def test_an_unknown_payment_cannot_be_refunded(shop: Any) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        await cod.refund(shop.ctx, refund_of("BEANS-NOPE2345", 100, "r1"), shop.plugin)
    assert refused.value.status_code == 422


async def test_pay_on_delivery_refunds_work_the_same(shop: Any, mp_request: MakeRequest) -> None:
    ref = await paid_payment(shop, mp_request, cod)
    result = await cod.refund(shop.ctx, refund_of(ref, 4_250, "r1"), shop.plugin)
    assert result.status == "succeeded"
    assert "cash" in (result.instructions or "")


async def test_a_payment_stays_confirmable_after_its_method_is_turned_off(
    shop: Any, mp_request: MakeRequest, tc_database: Any
) -> None:
    payment = await bank.create_payment(shop.ctx, mp_request(), shop.plugin)
    switched_off = plugin_context(tc_database, shop.ctx.id, "manual-payments", ManualPaymentsSettings())
    assert (await bank.confirm(shop.ctx, paid(payment.payment_ref), switched_off)).status == "succeeded"


# --- webhooks and warnings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gateway", [bank, cod], ids=["bank-transfer", "cash-on-delivery"])
async def test_there_are_no_webhooks(shop: Any, gateway: PaymentGateway) -> None:
    with pytest.raises(InputError) as refused:
        await gateway.parse_webhook(WebhookRequest(headers={}, body=b"{}"))
    assert refused.value.status_code == 400


async def test_a_store_with_no_method_configured_is_warned(mp_store: MakeStore, mp_config: dict[str, Any]) -> None:
    bare = await mp_store("bare", config={"reference_prefix": "BARE"})
    configured = await mp_store("configured", config=mp_config)
    cod_only = await mp_store("cod-only", config={"cash_on_delivery": True})

    [warning] = await tc_collect_store_warnings(bare.ctx, bare.plugin)
    assert "no manual payment method" in warning.message
    assert list(await tc_collect_store_warnings(configured.ctx, configured.plugin)) == []
    assert list(await tc_collect_store_warnings(cod_only.ctx, cod_only.plugin)) == []
