"""The ``stripe`` payment gateway: destination charges into the store's connected account.

A payment is a PaymentIntent on the platform account with ``transfer_data[destination]`` = the store's account and
``application_fee_amount`` = the platform fee; the customer finishes it in the browser with the ``client_secret``.
Every PaymentIntent carries ``metadata[store_id]``: a store reaches only its own (another store's answers exactly as
an unknown one does). Every mutating call sends an idempotency key derived from the store and the core's key.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any
from uuid import UUID

from tenantcommerce.errors import BusinessRuleError, FieldError, InputError
from tenantcommerce.plugins import (
    PaymentConfirmation,
    PaymentEvent,
    PaymentRequest,
    PaymentResult,
    RefundRequest,
    RefundResult,
    WebhookRequest,
)
from tenantcommerce.plugins.providers import PaymentStatus, RefundStatus
from tenantcommerce.plugins.state import read_state

from tenantcommerce_stripe import accounts, fees, payments
from tenantcommerce_stripe.client import CardDeclined, StripeApi, StripeRefused
from tenantcommerce_stripe.objects import Intent, Refund
from tenantcommerce_stripe.state import AccountState, account_of
from tenantcommerce_stripe.webhooks import Translator, verify

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, RefundCreateParams
    from tenantcommerce.plugins import PluginContext
    from tenantcommerce.tenancy.context import StoreContext

GATEWAY_ID = "stripe"
PAYMENT_REF = re.compile(r"^pi_[A-Za-z0-9_]{1,250}$")
"""The shape of a PaymentIntent id; anything else is an unknown payment without asking Stripe."""
METADATA_VALUE_LENGTH = 500
"""Stripe's limit on a metadata value."""

_PAYMENT_STATUSES: dict[str, PaymentStatus] = {
    "requires_payment_method": "requires_action",
    "requires_confirmation": "requires_action",
    "requires_action": "requires_action",
    "requires_capture": "requires_action",
    "processing": "pending",
    "succeeded": "succeeded",
    "canceled": "cancelled",
}
_REFUND_STATUSES: dict[str, RefundStatus] = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}


def idempotency_key(store_id: UUID, action: str, key: str) -> str:
    """The Stripe idempotency key of ``action`` for the core's ``key`` in a store: deterministic, so a repeated
    call (the core's retry, a second click) is answered with the first result."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"tc-stripe:{store_id}:{action}:{digest}"


def _unknown(payment_ref: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"no Stripe payment {payment_ref!r} in this store", errors=[FieldError("payment_ref", "unknown payment")]
    )


def _payment_result(intent: Intent, publishable_key: str | None = None) -> PaymentResult:
    return PaymentResult(
        client_options={"publishable_key": publishable_key} if publishable_key else {},
        status=_PAYMENT_STATUSES.get(intent.status, "pending"),
        payment_ref=intent.id,
        amount_minor=intent.amount,
        currency=intent.currency.upper(),
        client_secret=intent.client_secret,
        failure_reason=intent.last_payment_error.reason if intent.last_payment_error else None,
        account=intent.destination,
    )


def _refund_result(refund: Refund) -> RefundResult:
    status = _REFUND_STATUSES.get(refund.status or "pending", "pending")
    return RefundResult(
        status=status,
        refund_ref=refund.id,
        amount_minor=refund.amount,
        currency=refund.currency.upper(),
        failure_reason=refund.failure_reason if status == "failed" else None,
    )


class StripeGateway:
    """Card payments (and every other method Stripe's automatic payment methods offer) through Stripe Connect."""

    id = GATEWAY_ID
    name = "Card (Stripe)"

    def __init__(self, api: StripeApi) -> None:
        self.api = api
        self._translator = Translator(api.retrieve_payment_intent)

    # --- availability -------------------------------------------------------------------------------------------

    async def is_available(self, ctx: StoreContext, plugin: PluginContext) -> bool:
        """Offered when the platform has configured Stripe and the store's account may take charges."""
        if not self.api.settings.configured:
            return False
        account = account_of(await plugin.get_state())
        return account is not None and account.charges_enabled

    def _ready_account(self, ctx: StoreContext, state: dict[str, Any]) -> AccountState:
        problems = self.api.settings.problems()
        if problems:
            raise BusinessRuleError(
                "card payments are not available: Stripe is not configured on this platform",
                errors=[FieldError("payment_method", "; ".join(problems))],
            )
        account = account_of(state)
        if account is None:
            raise BusinessRuleError(
                "card payments are not available: this store has not connected a Stripe account yet (an admin "
                f"starts onboarding with POST /api/admin/{ctx.slug}/plugins/stripe/onboarding)",
                errors=[FieldError("payment_method", "the store has no Stripe account")],
            )
        if not account.charges_enabled:
            raise BusinessRuleError(
                f"card payments are not available: Stripe has not enabled charges for the store's account "
                f"{account.id} yet (the store must finish Stripe onboarding)",
                errors=[FieldError("payment_method", "charges are not enabled for the store's Stripe account")],
            )
        return account

    # --- payments -----------------------------------------------------------------------------------------------

    async def create_payment(self, ctx: StoreContext, request: PaymentRequest, plugin: PluginContext) -> PaymentResult:
        """Create the checkout's PaymentIntent; the same ``idempotency_key`` answers the same one (as it stands at
        Stripe now), whatever else the request carries.

        Raises:
            BusinessRuleError: Stripe is not configured, the store has no account or its charges are not enabled,
                the currency is not the store's, or Stripe refused the request.
            Conflict: the key was used for a payment of another amount or currency.
            InputError: the key is too long.
        """
        if len(request.idempotency_key) > payments.KEY_LENGTH:
            raise InputError(
                "the idempotency key is too long",
                errors=[FieldError("idempotency_key", f"at most {payments.KEY_LENGTH} characters")],
            )
        async with plugin.transaction() as conn:
            recorded = await payments.find(conn, ctx.id, request)
            state = await read_state(conn, plugin.plugin_id)
        if recorded is not None:
            return _payment_result(
                await self._owned(ctx, recorded.payment_intent_id), self.api.settings.publishable_key
            )
        account = self._ready_account(ctx, state)
        if request.currency != ctx.currency:
            raise BusinessRuleError(
                f"this store takes payments in {ctx.currency} only",
                errors=[FieldError("currency", f"must be {ctx.currency}")],
            )
        try:
            intent = await self.api.create_payment_intent(
                self._intent_params(ctx, request, account, state),
                idempotency_key=idempotency_key(ctx.id, "payment", request.idempotency_key),
            )
        except CardDeclined as exc:
            if exc.payment_intent is None:
                raise BusinessRuleError(
                    f"the card was declined: {exc.message}", errors=[FieldError("payment", exc.code or "card_declined")]
                ) from exc
            result = PaymentResult(
                status="failed",
                payment_ref=exc.payment_intent,
                amount_minor=request.amount_minor,
                currency=request.currency,
                failure_reason=exc.message,
                account=account.id,
            )
        else:
            result = _payment_result(intent, self.api.settings.publishable_key)
        async with plugin.transaction(readonly=False) as conn:
            await payments.record(conn, ctx.id, request, result.payment_ref)
        return result

    def _intent_params(
        self, ctx: StoreContext, request: PaymentRequest, account: AccountState, state: dict[str, Any]
    ) -> PaymentIntentCreateParams:
        """A destination charge into ``account``, with the store's platform fee (omitted when it is 0)."""
        fee = fees.effective(self.api.settings.default_fee, state).policy.fee_for(request.amount_minor)
        params: PaymentIntentCreateParams = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "automatic_payment_methods": {"enabled": True},
            "transfer_data": {"destination": account.id},
            "metadata": {
                **request.metadata,
                "store_id": str(ctx.id),
                "checkout_id": str(request.checkout_id),
                "reference": request.reference,
            },
            "description": request.reference,
        }
        if fee > 0:
            params["application_fee_amount"] = fee
        if request.customer_email:
            params["receipt_email"] = request.customer_email
        return params

    async def _owned(self, ctx: StoreContext, payment_ref: str) -> Intent:
        """The PaymentIntent ``payment_ref`` if it belongs to the store of ``ctx``.

        Raises:
            BusinessRuleError: it does not exist, or it is another store's (told apart from neither).
        """
        if not PAYMENT_REF.fullmatch(payment_ref):
            raise _unknown(payment_ref)
        try:
            intent = await self.api.retrieve_payment_intent(payment_ref)
        except StripeRefused as exc:
            if exc.code == "resource_missing":
                raise _unknown(payment_ref) from exc
            raise
        if intent.metadata.get("store_id") != str(ctx.id):
            raise _unknown(payment_ref)
        return intent

    async def confirm(
        self, ctx: StoreContext, confirmation: PaymentConfirmation, plugin: PluginContext
    ) -> PaymentResult:
        """Where the payment stands at Stripe (``succeeded`` once the customer paid); asking again is harmless.

        Raises:
            BusinessRuleError: the payment is unknown in this store, its amount or currency differ, or it was
                cancelled.
        """
        intent = await self._owned(ctx, confirmation.payment_ref)
        currency = intent.currency.upper()
        mismatched = [
            FieldError(name, f"must be {expected}")
            for name, given, expected in (
                ("amount_minor", confirmation.amount_minor, intent.amount),
                ("currency", confirmation.currency, currency),
            )
            if given != expected
        ]
        if mismatched:
            raise BusinessRuleError(
                f"the payment {intent.id} is for {intent.amount} {currency}, not "
                f"{confirmation.amount_minor} {confirmation.currency}",
                errors=mismatched,
            )
        if intent.status == "canceled":
            raise BusinessRuleError(
                f"the payment {intent.id} was cancelled and cannot be confirmed",
                errors=[FieldError("payment_ref", "cancelled")],
            )
        return _payment_result(intent)

    async def refund(self, ctx: StoreContext, request: RefundRequest, plugin: PluginContext) -> RefundResult:
        """Refund (part of) a payment, reversing the transfer to the store's account and the platform fee in
        proportion; the same ``idempotency_key`` answers the same refund.

        Raises:
            BusinessRuleError: the payment is unknown in this store, the currency differs, nothing was paid, or the
                amount exceeds what is left to refund.
        """
        intent = await self._owned(ctx, request.payment_ref)
        currency = intent.currency.upper()
        if request.currency != currency:
            raise BusinessRuleError(
                f"the payment {intent.id} is in {currency}", errors=[FieldError("currency", f"must be {currency}")]
            )
        metadata = {"store_id": str(ctx.id), "idempotency_key": request.idempotency_key[:METADATA_VALUE_LENGTH]}
        if intent.metadata.get("checkout_id"):
            metadata["checkout_id"] = intent.metadata["checkout_id"]
        if request.reason:
            metadata["reason"] = request.reason[:METADATA_VALUE_LENGTH]
        params: RefundCreateParams = {"payment_intent": intent.id, "amount": request.amount_minor, "metadata": metadata}
        if intent.destination:
            params["reverse_transfer"] = True
        if intent.application_fee_amount:
            params["refund_application_fee"] = True
        try:
            refund = await self.api.create_refund(
                params, idempotency_key=idempotency_key(ctx.id, "refund", request.idempotency_key)
            )
        except StripeRefused as exc:
            if exc.code == "amount_too_large":
                raise BusinessRuleError(
                    f"the refund exceeds what is left to refund of {intent.id}: {exc.detail}",
                    errors=[FieldError("amount_minor", "exceeds what is left to refund")],
                ) from exc
            if exc.code == "charge_not_refundable":
                raise BusinessRuleError(
                    f"the payment {intent.id} has taken no money to refund",
                    errors=[FieldError("payment_ref", "nothing was paid")],
                ) from exc
            raise
        return _refund_result(refund)

    async def cancel(self, ctx: StoreContext, payment_ref: str, plugin: PluginContext) -> PaymentResult:
        """Cancel a payment that has not succeeded; cancelling again is harmless.

        Raises:
            BusinessRuleError: the payment is unknown in this store, or it succeeded (refund it instead).
        """
        intent = await self._owned(ctx, payment_ref)
        if intent.status == "canceled":
            return _payment_result(intent)
        if intent.status == "succeeded":
            raise BusinessRuleError(
                f"the payment {intent.id} succeeded and cannot be cancelled: refund it instead",
                errors=[FieldError("payment_ref", "already paid")],
            )
        cancelled = await self.api.cancel_payment_intent(
            intent.id, idempotency_key=idempotency_key(ctx.id, "cancel", intent.id)
        )
        return _payment_result(cancelled)

    # --- webhooks -----------------------------------------------------------------------------------------------

    async def parse_webhook(self, webhook: WebhookRequest) -> PaymentEvent | None:
        """Verify a delivery of either endpoint and translate it (:mod:`tenantcommerce_stripe.webhooks`).

        Raises:
            InputError: the signature is missing, invalid or expired, or the body is not a Stripe event.
        """
        return await self._translator.translate(verify(webhook, self.api.settings))

    async def handle_event(self, ctx: StoreContext, event: PaymentEvent, plugin: PluginContext) -> None:
        """On ``account.updated`` for the store's own account, read the account from Stripe and record its current
        flags: whatever order deliveries come in, the state ends up as Stripe has it now. Other events: nothing."""
        if event.kind != "account.updated" or not event.account:
            return
        async with plugin.transaction(readonly=False) as conn:
            await accounts.sync(self.api, conn, only=event.account)
