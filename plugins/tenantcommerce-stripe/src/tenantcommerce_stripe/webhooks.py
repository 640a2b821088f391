"""Stripe webhooks: verifying a delivery's signature and translating the event into the core's
:class:`~tenantcommerce.plugins.PaymentEvent`.

Stripe signs each endpoint's deliveries with that endpoint's secret: the platform endpoint
(``TC_STRIPE_WEBHOOK_SECRET``) and the Connect endpoint (``TC_STRIPE_CONNECT_WEBHOOK_SECRET``) both post to
``/api/payments/stripe/webhook``, so a delivery is accepted when either secret verifies it (timestamps older than
:data:`TOLERANCE` seconds are refused).

* ``payment_intent.succeeded`` / ``.payment_failed`` / ``.canceled``: ``payment.succeeded`` / ``.failed`` /
  ``.cancelled`` (``account``: the ``transfer_data[destination]``);
* ``charge.refunded``: ``payment.refunded`` (the charge's cumulative ``amount_refunded``);
* ``refund.created`` / ``.updated`` / ``.failed``: ``refund.succeeded`` or ``refund.failed`` by the refund's status
  (pending: none yet);
* ``charge.dispute.created``: ``dispute.created``;
* ``account.updated``: ``account.updated`` (``account``: the account's id).

Everything else translates to ``None``. The store and checkout come from the metadata the plugin attached
(``store_id``, ``checkout_id``); a charge, refund or dispute without them is looked up through its PaymentIntent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

import msgspec
import stripe
from tenantcommerce.errors import FieldError, InputError
from tenantcommerce.plugins import PaymentEvent, WebhookRequest

from tenantcommerce_stripe.client import StripeRefused
from tenantcommerce_stripe.objects import Account, Charge, Dispute, Intent, Refund, decode
from tenantcommerce_stripe.settings import StripeSettings

TOLERANCE = 300
"""Seconds a signature's timestamp may be old."""
SIGNATURE_HEADER = "stripe-signature"

_INTENT_KINDS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled")

IntentLookup = Callable[[str], Awaitable[Intent]]
"""Retrieves a PaymentIntent by id (from Stripe)."""


class EventData(msgspec.Struct, frozen=True, kw_only=True):
    """An event's payload: the object as it was when the event happened."""

    object: dict[str, Any]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """A v1 Stripe event (``account`` is set on deliveries of the Connect endpoint)."""

    id: str
    type: str
    created: int
    data: EventData
    account: str | None = None


def _bad_signature(message: str) -> InputError:
    return InputError(
        "invalid or expired Stripe signature: the webhook was not signed with this platform's endpoint secrets "
        "(TC_STRIPE_WEBHOOK_SECRET, TC_STRIPE_CONNECT_WEBHOOK_SECRET) within the last 5 minutes",
        errors=[FieldError("stripe-signature", message)],
    )


def verify(webhook: WebhookRequest, settings: StripeSettings) -> Event:
    """The event of a delivery whose ``Stripe-Signature`` one of the endpoint secrets verifies.

    Raises:
        InputError: the header is missing, no secret verifies the raw body (altered, signed by someone else, or
            older than :data:`TOLERANCE`), or the body is not a Stripe event.
    """
    header = webhook.headers.get(SIGNATURE_HEADER)
    if not header:
        raise InputError(
            "the Stripe-Signature header is missing: only Stripe's signed deliveries are accepted",
            errors=[FieldError("stripe-signature", "required")],
        )
    try:
        payload = webhook.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("the webhook body is not UTF-8 JSON", errors=[FieldError("body", "not UTF-8")]) from exc
    last = "no webhook signing secret is configured"
    for secret in settings.webhook_secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE)
        except stripe.SignatureVerificationError as exc:
            last = str(exc.user_message or exc)
            continue
        break
    else:
        raise _bad_signature(last)
    try:
        return msgspec.json.decode(webhook.body, type=Event)
    except msgspec.DecodeError as exc:
        raise InputError(
            f"the webhook body is not a Stripe event: {exc}", errors=[FieldError("body", str(exc))]
        ) from exc


def _uuid(value: str | None) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def _object(event: Event, kind: type[Any]) -> Any:
    try:
        return decode(event.data.object, kind)
    except msgspec.ValidationError as exc:
        raise InputError(
            f"the {event.type} event {event.id} does not carry a valid {kind.__name__}: {exc}",
            errors=[FieldError("data.object", str(exc))],
        ) from exc


class Translator:
    """Turns verified events into :class:`PaymentEvent`; looks PaymentIntents up (``lookup``) only when an
    object lacks the plugin's metadata."""

    def __init__(self, lookup: IntentLookup) -> None:
        self._lookup = lookup

    async def translate(self, event: Event) -> PaymentEvent | None:
        """The core's event for ``event``, or ``None`` when the core does not need it."""
        kind = event.type
        if kind in _INTENT_KINDS:
            return self._intent_event(event, _object(event, Intent))
        if kind == "charge.refunded":
            return await self._charge_refunded(event, _object(event, Charge))
        if kind in ("refund.created", "refund.updated", "refund.failed"):
            return await self._refund_event(event, _object(event, Refund))
        if kind == "charge.dispute.created":
            return await self._dispute_created(event, _object(event, Dispute))
        if kind == "account.updated":
            account: Account = _object(event, Account)
            return PaymentEvent(
                event_id=event.id,
                kind="account.updated",
                store_id=_uuid(account.metadata.get("store_id")),
                account=account.id,
                created=event.created,
            )
        return None

    @staticmethod
    def _intent_event(event: Event, intent: Intent) -> PaymentEvent:
        common: dict[str, Any] = {
            "event_id": event.id,
            "store_id": _uuid(intent.metadata.get("store_id")),
            "checkout_id": _uuid(intent.metadata.get("checkout_id")),
            "payment_ref": intent.id,
            "currency": intent.currency.upper(),
            "account": intent.destination,
            "created": event.created,
        }
        if event.type == "payment_intent.succeeded":
            return PaymentEvent(kind="payment.succeeded", amount_minor=intent.amount_received, **common)
        if event.type == "payment_intent.payment_failed":
            reason = intent.last_payment_error.reason if intent.last_payment_error else None
            return PaymentEvent(kind="payment.failed", amount_minor=intent.amount, reason=reason, **common)
        return PaymentEvent(
            kind="payment.cancelled", amount_minor=intent.amount, reason=intent.cancellation_reason, **common
        )

    async def _owner(self, metadata: dict[str, str], payment_ref: str | None) -> tuple[dict[str, str], str | None]:
        """The metadata naming the store (the object's own, else its PaymentIntent's) and the PaymentIntent's
        destination account (``None`` when it was not looked up)."""
        if metadata.get("store_id") or payment_ref is None:
            return metadata, None
        try:
            intent = await self._lookup(payment_ref)
        except StripeRefused:
            return metadata, None  # not a PaymentIntent of this platform: nothing to route
        return intent.metadata, intent.destination

    async def _charge_refunded(self, event: Event, charge: Charge) -> PaymentEvent:
        metadata, _ = await self._owner(charge.metadata, charge.payment_intent)
        return PaymentEvent(
            event_id=event.id,
            kind="payment.refunded",
            store_id=_uuid(metadata.get("store_id")),
            checkout_id=_uuid(metadata.get("checkout_id")),
            payment_ref=charge.payment_intent,
            amount_minor=charge.amount_refunded,
            currency=charge.currency.upper(),
            account=charge.account,
            created=event.created,
        )

    async def _refund_event(self, event: Event, refund: Refund) -> PaymentEvent | None:
        kind: Literal["refund.succeeded", "refund.failed"]
        if refund.status == "succeeded":
            kind = "refund.succeeded"
        elif refund.status in ("failed", "canceled"):
            kind = "refund.failed"
        else:
            return None  # pending or requires_action: a later event settles it
        metadata, account = await self._owner(refund.metadata, refund.payment_intent)
        return PaymentEvent(
            event_id=event.id,
            kind=kind,
            store_id=_uuid(metadata.get("store_id")),
            checkout_id=_uuid(metadata.get("checkout_id")),
            payment_ref=refund.payment_intent,
            refund_ref=refund.id,
            amount_minor=refund.amount,
            currency=refund.currency.upper(),
            account=account,
            reason=refund.failure_reason,
            created=event.created,
        )

    async def _dispute_created(self, event: Event, dispute: Dispute) -> PaymentEvent:
        metadata, account = await self._owner({}, dispute.payment_intent)
        return PaymentEvent(
            event_id=event.id,
            kind="dispute.created",
            store_id=_uuid(metadata.get("store_id")),
            checkout_id=_uuid(metadata.get("checkout_id")),
            payment_ref=dispute.payment_intent,
            amount_minor=dispute.amount,
            currency=dispute.currency.upper(),
            account=account,
            reason=dispute.reason,
            created=event.created,
        )
