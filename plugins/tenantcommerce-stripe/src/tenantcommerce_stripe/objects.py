"""Typed views of the Stripe objects the plugin reads: only the fields it uses, decoded from the API's answers and
from webhook payloads (unknown fields are ignored, so Stripe may add fields freely)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T", bound=msgspec.Struct)


class TransferData(msgspec.Struct, frozen=True, kw_only=True):
    """Where a destination charge's money goes."""

    destination: str | None = None


class PaymentError(msgspec.Struct, frozen=True, kw_only=True):
    """Why the last payment attempt failed."""

    message: str | None = None
    code: str | None = None
    decline_code: str | None = None

    @property
    def reason(self) -> str | None:
        """A sentence, or the codes when Stripe gave none."""
        return self.message or self.decline_code or self.code


class Intent(msgspec.Struct, frozen=True, kw_only=True):
    """A PaymentIntent."""

    id: str
    amount: int
    amount_received: int = 0
    currency: str
    status: str
    client_secret: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    transfer_data: TransferData | None = None
    application_fee_amount: int | None = None
    last_payment_error: PaymentError | None = None
    cancellation_reason: str | None = None

    @property
    def destination(self) -> str | None:
        """The connected account the money goes to."""
        return self.transfer_data.destination if self.transfer_data else None


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """A connected account and what Stripe lets it do."""

    id: str
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class AccountLink(msgspec.Struct, frozen=True, kw_only=True):
    """A one-time onboarding address."""

    url: str
    expires_at: int


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    """A refund of (part of) a PaymentIntent."""

    id: str
    amount: int
    currency: str
    status: str | None = None
    payment_intent: str | None = None
    charge: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    failure_reason: str | None = None


class Charge(msgspec.Struct, frozen=True, kw_only=True):
    """A charge (what a PaymentIntent's successful attempt made)."""

    id: str
    amount: int
    amount_refunded: int = 0
    currency: str
    payment_intent: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    transfer_data: TransferData | None = None
    destination: str | None = None

    @property
    def account(self) -> str | None:
        """The connected account the charge paid into."""
        if self.transfer_data is not None and self.transfer_data.destination:
            return self.transfer_data.destination
        return self.destination


class Dispute(msgspec.Struct, frozen=True, kw_only=True):
    """A customer's dispute of a charge."""

    id: str
    amount: int
    currency: str
    charge: str | None = None
    payment_intent: str | None = None
    reason: str | None = None


def decode(data: Any, kind: type[T]) -> T:
    """``data`` (a dict from the API or a webhook) as ``kind``.

    Raises:
        msgspec.ValidationError: a field the plugin needs is missing or of the wrong type.
    """
    return msgspec.convert(data, kind)
