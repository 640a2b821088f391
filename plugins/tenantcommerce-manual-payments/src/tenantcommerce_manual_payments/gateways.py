"""The two payment gateways: ``bank-transfer`` and ``cash-on-delivery``.

Both create a pending payment with instructions for the customer; the money arrives outside the platform and an admin
confirms it (:meth:`ManualGateway.confirm`, or the admin route ``mark-paid``). Refunds are recorded here and paid back
by the merchant by hand. Neither gateway receives webhooks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

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

from tenantcommerce_manual_payments import records
from tenantcommerce_manual_payments.records import ManualPayment, Method, PaymentNotFound
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

if TYPE_CHECKING:
    from tenantcommerce.plugins import PluginContext
    from tenantcommerce.tenancy.context import StoreContext


def settings_of(plugin: PluginContext) -> ManualPaymentsSettings:
    """The store's decoded settings (defaults, offering nothing, when there are none)."""
    config = plugin.config
    return config if isinstance(config, ManualPaymentsSettings) else ManualPaymentsSettings()


def _check_lengths(**values: tuple[str | None, int]) -> None:
    too_long = [
        FieldError(name, f"at most {limit} characters")
        for name, (value, limit) in values.items()
        if value is not None and len(value) > limit
    ]
    if too_long:
        raise InputError("the request has values that are too long", errors=too_long)


class ManualGateway(ABC):
    """What both manual methods share; subclasses say which method and what the customer must do."""

    id: str
    name: str
    method: ClassVar[Method]
    refund_how: ClassVar[str] = "by bank transfer"
    """How the merchant pays a refund back (shown in the refund's instructions)."""

    def is_offered(self, settings: ManualPaymentsSettings) -> bool:
        """Whether the store's settings turn this method on."""
        return self.method in settings.methods

    @abstractmethod
    def instructions(self, payment: ManualPayment, settings: ManualPaymentsSettings) -> str:
        """What the customer must do to pay ``payment``."""

    def _result(self, payment: ManualPayment, settings: ManualPaymentsSettings | None = None) -> PaymentResult:
        instructions = None
        if settings is not None and payment.status == "pending":
            instructions = self.instructions(payment, settings)
        return PaymentResult(
            status=payment.status,
            payment_ref=payment.reference,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            instructions=instructions,
        )

    async def is_available(self, ctx: StoreContext, plugin: PluginContext) -> bool:
        """Offered when the store's settings turn this method on."""
        return self.is_offered(settings_of(plugin))

    async def create_payment(self, ctx: StoreContext, request: PaymentRequest, plugin: PluginContext) -> PaymentResult:
        """Record a pending payment and tell the customer how to pay; the same idempotency key gives the same one.

        Raises:
            BusinessRuleError: the method is not turned on in the store's settings, the currency is not the
                store's, or the amount does not fit in a ``bigint``.
            Conflict: the idempotency key was used for another payment.
            InputError: the idempotency key or the e-mail address is too long.
        """
        settings = settings_of(plugin)
        if not self.is_offered(settings):
            raise BusinessRuleError(
                f"{self.name} is not available in this store",
                errors=[FieldError("payment_method", f"{self.id} is not turned on in the store's settings")],
            )
        if request.currency != ctx.currency:
            raise BusinessRuleError(
                f"this store takes payments in {ctx.currency} only",
                errors=[FieldError("currency", f"must be {ctx.currency}")],
            )
        _check_lengths(
            idempotency_key=(request.idempotency_key, records.KEY_LENGTH),
            customer_email=(request.customer_email, records.EMAIL_LENGTH),
        )
        if request.amount_minor > records.MAX_AMOUNT:
            raise BusinessRuleError(
                "the amount is too large", errors=[FieldError("amount_minor", f"at most {records.MAX_AMOUNT}")]
            )
        async with plugin.transaction(readonly=False) as conn:
            payment = await records.create_payment(
                conn, ctx.id, self.method, request, reference_prefix=settings.reference_prefix
            )
        return self._result(payment, settings)

    async def confirm(
        self, ctx: StoreContext, confirmation: PaymentConfirmation, plugin: PluginContext
    ) -> PaymentResult:
        """Mark the payment paid (the money has arrived); confirming again is harmless.

        Raises:
            BusinessRuleError: the payment is unknown (in this store, for this method), the amount or currency differ
                from the payment's, or it was cancelled.
        """
        _check_lengths(note=(confirmation.note, records.NOTE_LENGTH))
        try:
            async with plugin.transaction(readonly=False) as conn:
                payment, _ = await records.mark_paid(
                    conn,
                    ctx.id,
                    confirmation.payment_ref,
                    amount_minor=confirmation.amount_minor,
                    currency=confirmation.currency,
                    note=confirmation.note,
                    method=self.method,
                )
        except PaymentNotFound as exc:
            raise _unknown(confirmation.payment_ref) from exc
        return self._result(payment)

    async def refund(self, ctx: StoreContext, request: RefundRequest, plugin: PluginContext) -> RefundResult:
        """Record a refund the merchant pays back by hand; the same idempotency key gives the same refund.

        Raises:
            BusinessRuleError: the payment is unknown or not paid, the currency differs, or the refunds would exceed
                the amount paid.
            Conflict: the idempotency key was used for another refund.
            InputError: the idempotency key is too long.
        """
        _check_lengths(idempotency_key=(request.idempotency_key, records.KEY_LENGTH))
        try:
            async with plugin.transaction(readonly=False) as conn:
                refund = await records.refund(conn, ctx.id, request, method=self.method)
        except PaymentNotFound as exc:
            raise _unknown(request.payment_ref) from exc
        return RefundResult(
            status="succeeded",
            refund_ref=str(refund.id),
            amount_minor=refund.amount_minor,
            currency=refund.currency,
            instructions=(
                f"Pay {records.money(refund.amount_minor, refund.currency)} back to the customer yourself "
                f"({self.refund_how}) and quote the reference {request.payment_ref}: manual payments move no money "
                "through the platform."
            ),
        )

    async def cancel(self, ctx: StoreContext, payment_ref: str, plugin: PluginContext) -> PaymentResult:
        """Cancel a pending payment (the checkout expired, or the order was cancelled before the money came);
        cancelling again is harmless.

        Raises:
            BusinessRuleError: the payment is unknown or was paid (refund it instead).
        """
        _check_lengths(payment_ref=(payment_ref, records.KEY_LENGTH))
        try:
            async with plugin.transaction(readonly=False) as conn:
                payment = await records.cancel(conn, ctx.id, payment_ref, method=self.method)
        except PaymentNotFound as exc:
            raise _unknown(payment_ref) from exc
        return self._result(payment)

    async def parse_webhook(self, webhook: WebhookRequest) -> PaymentEvent | None:
        """Manual payments have no webhooks.

        Raises:
            InputError: always.
        """
        raise InputError(
            f"{self.name} receives no webhooks: an admin marks its payments paid",
            errors=[FieldError("body", "no webhooks are expected for manual payments")],
        )

    async def handle_event(self, ctx: StoreContext, event: PaymentEvent, plugin: PluginContext) -> None:  # noqa: B027
        """Manual payments keep no provider state: nothing to do."""


def _unknown(reference: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"no payment {reference!r} of this method in this store",
        errors=[FieldError("payment_ref", "unknown payment")],
    )


class BankTransferGateway(ManualGateway):
    """Bank transfer: the customer transfers the amount quoting the payment's reference."""

    id = "bank-transfer"
    name = "Bank transfer"
    method: ClassVar[Method] = "bank_transfer"

    def instructions(self, payment: ManualPayment, settings: ManualPaymentsSettings) -> str:
        """The bank details, the amount and the reference to quote."""
        bank = settings.bank_transfer
        assert bank is not None  # create_payment checks the method is offered
        details = [f"Account holder: {bank.account_holder}", f"IBAN: {bank.iban}"]
        if bank.bic:
            details.append(f"BIC: {bank.bic}")
        text = (
            f"Please transfer {records.money(payment.amount_minor, payment.currency)} to this account, quoting the "
            f"reference {payment.reference}. " + ". ".join(details) + "."
        )
        return f"{text} {bank.instructions}" if bank.instructions else text


class CashOnDeliveryGateway(ManualGateway):
    """Pay on delivery: the customer pays the courier."""

    id = "cash-on-delivery"
    name = "Pay on delivery"
    method: ClassVar[Method] = "cash_on_delivery"
    refund_how: ClassVar[str] = "in cash or by bank transfer"

    def instructions(self, payment: ManualPayment, settings: ManualPaymentsSettings) -> str:
        """Pay the courier, with the reference of the payment."""
        text = (
            f"Please pay the courier {records.money(payment.amount_minor, payment.currency)} when your order is "
            f"delivered (reference {payment.reference})."
        )
        extra = settings.cash_on_delivery_instructions
        return f"{text} {extra}" if extra else text
