"""The objects of the offline Stripe API (accounts, account links, PaymentIntents, charges, refunds): the endpoints'
parameter schemas, what each endpoint does to them, and helpers that move them the way Stripe would."""

from __future__ import annotations

import copy
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tenantcommerce_stripe.testing.wire import Param, StripeApiError, invalid, validate

DEFAULT_API_VERSION = "2025-10-29.clover"

_ALPHABET = string.ascii_letters + string.digits
_DEFAULT_CURRENCY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "JP": "jpy", "CH": "chf"}
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")

_EXPAND = Param("list")
_CAPABILITY = Param("object", children={"requested": Param("boolean")})
_ACCOUNT_CREATE = {
    "type": Param(required=True, choices=("express", "standard", "custom")),
    "country": Param(),
    "email": Param(),
    "business_type": Param(choices=("company", "government_entity", "individual", "non_profit")),
    "default_currency": Param(),
    "capabilities": Param(
        "object",
        children=dict.fromkeys(
            ("card_payments", "transfers", "link_payments", "sepa_debit_payments", "bancontact_payments"), _CAPABILITY
        ),
    ),
    "metadata": Param("metadata"),
    "expand": _EXPAND,
}
_ACCOUNT_LINK_CREATE = {
    "account": Param(required=True),
    "refresh_url": Param(),
    "return_url": Param(),
    "type": Param(required=True, choices=("account_onboarding", "account_update")),
    "collect": Param(choices=("currently_due", "eventually_due")),
    "expand": _EXPAND,
}
_PAYMENT_INTENT_CREATE = {
    "amount": Param("integer", required=True),
    "currency": Param(required=True),
    "automatic_payment_methods": Param(
        "object",
        children={"enabled": Param("boolean", required=True), "allow_redirects": Param(choices=("always", "never"))},
    ),
    "transfer_data": Param("object", children={"destination": Param(required=True), "amount": Param("integer")}),
    "application_fee_amount": Param("integer"),
    "metadata": Param("metadata"),
    "receipt_email": Param(),
    "description": Param(),
    "on_behalf_of": Param(),
    "transfer_group": Param(),
    "statement_descriptor_suffix": Param(),
    "capture_method": Param(choices=("automatic", "automatic_async", "manual")),
    "payment_method_types": Param("list"),
    "expand": _EXPAND,
}
_PAYMENT_INTENT_CANCEL = {
    "cancellation_reason": Param(choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned")),
    "expand": _EXPAND,
}
_REFUND_CREATE = {
    "payment_intent": Param(),
    "charge": Param(),
    "amount": Param("integer"),
    "reason": Param(choices=("duplicate", "fraudulent", "requested_by_customer")),
    "reverse_transfer": Param("boolean"),
    "refund_application_fee": Param("boolean"),
    "metadata": Param("metadata"),
    "expand": _EXPAND,
}
_RETRIEVE = {"expand": _EXPAND}
_PAYMENT_INTENT_RETRIEVE = {"expand": _EXPAND, "client_secret": Param()}


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id: ``acct_1...``, ``pi_3...``, ``re_3...``."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class StripeObjects:
    """In-memory Stripe objects and the endpoints that make and change them (the HTTP side is
    :class:`~tenantcommerce_stripe.testing.server.FakeStripe`)."""

    def __init__(self, onboarding_base: Callable[[], str]) -> None:
        """
        Args:
            onboarding_base: where account links point (the server's own address, once it listens).
        """
        self._onboarding_base = onboarding_base
        self.accounts: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str | None] = {}
        self._lock = threading.RLock()

    def enable_account(
        self,
        account_id: str,
        *,
        charges_enabled: bool = True,
        payouts_enabled: bool = True,
        details_submitted: bool = True,
    ) -> dict[str, Any]:
        """Finish onboarding: set the flags and make requested capabilities ``active`` (``inactive`` when off)."""
        with self._lock:
            account = self._get(self.accounts, account_id, "account")
            account["charges_enabled"] = charges_enabled
            account["payouts_enabled"] = payouts_enabled
            account["details_submitted"] = details_submitted
            status = "active" if charges_enabled else "inactive"
            account["capabilities"] = dict.fromkeys(account["capabilities"], status)
            account["requirements"]["currently_due"] = [] if charges_enabled else ["external_account"]
            account["requirements"]["disabled_reason"] = None if charges_enabled else "requirements.past_due"
            return copy.deepcopy(account)

    def succeed_payment_intent(self, payment_intent_id: str, *, payment_method: str | None = None) -> dict[str, Any]:
        """The customer paid: status ``succeeded``, ``amount_received``, and a charge (``latest_charge``)."""
        with self._lock:
            intent = self._get(self.payment_intents, payment_intent_id, "payment_intent")
            if intent["status"] in ("succeeded", "canceled"):
                raise ValueError(f"PaymentIntent {payment_intent_id} is already {intent['status']}")
            now = int(time.time())
            charge_id = new_id("ch")
            transfer = intent["transfer_data"]
            charge: dict[str, Any] = {
                "id": charge_id,
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"],
                "amount_refunded": 0,
                "application_fee": new_id("fee") if intent["application_fee_amount"] is not None else None,
                "application_fee_amount": intent["application_fee_amount"],
                "balance_transaction": new_id("txn"),
                "captured": True,
                "created": now,
                "currency": intent["currency"],
                "destination": transfer["destination"] if transfer else None,
                "disputed": False,
                "livemode": False,
                "metadata": dict(intent["metadata"]),
                "paid": True,
                "payment_intent": intent["id"],
                "payment_method": payment_method or new_id("pm"),
                "receipt_email": intent["receipt_email"],
                "refunded": False,
                "status": "succeeded",
                "transfer": new_id("tr") if transfer else None,
                "transfer_data": copy.deepcopy(transfer),
                "transfer_group": f"group_{intent['id']}" if transfer else None,
            }
            self.charges[charge_id] = charge
            self._owners[charge_id] = self._owners.get(intent["id"])
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge_id,
                payment_method=charge["payment_method"],
                last_payment_error=None,
                transfer_group=charge["transfer_group"],
            )
            return copy.deepcopy(intent)

    def fail_payment_intent(
        self,
        payment_intent_id: str,
        *,
        code: str = "card_declined",
        decline_code: str = "generic_decline",
        message: str = "Your card was declined.",
    ) -> dict[str, Any]:
        """A payment attempt failed: back to ``requires_payment_method`` with ``last_payment_error`` set."""
        with self._lock:
            intent = self._get(self.payment_intents, payment_intent_id, "payment_intent")
            if intent["status"] in ("succeeded", "canceled"):
                raise ValueError(f"PaymentIntent {payment_intent_id} is already {intent['status']}")
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": code,
                "decline_code": decline_code,
                "message": message,
                "payment_method": {"id": new_id("pm"), "object": "payment_method", "type": "card"},
            }
            return copy.deepcopy(intent)

    def event(
        self,
        type: str,
        data_object: Mapping[str, Any],
        *,
        account: str | None = None,
        previous_attributes: Mapping[str, Any] | None = None,
        created: int | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """A v1 event as Stripe sends it (``account`` set for Connect webhooks); sign it with :func:`sign_webhook`."""
        data: dict[str, Any] = {"object": copy.deepcopy(dict(data_object))}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(dict(previous_attributes))
        event: dict[str, Any] = {
            "id": event_id or new_id("evt"),
            "object": "event",
            "api_version": DEFAULT_API_VERSION,
            "created": created if created is not None else int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        if account is not None:
            event["account"] = account
        return event

    # -- dispatch --------------------------------------------------------------------------------------------------

    # -- objects ---------------------------------------------------------------------------------------------------

    def _get(self, table: dict[str, dict[str, Any]], object_id: str, name: str) -> dict[str, Any]:
        found = table.get(object_id)
        if found is None:
            raise KeyError(f"no {name} {object_id}")
        return found

    def _find(
        self, table: dict[str, dict[str, Any]], object_id: str, name: str, account: str | None, *, param: str | None
    ) -> dict[str, Any]:
        found = table.get(object_id)
        if found is None or self._owners.get(object_id) != account:
            status = 404 if param is None else 400
            raise StripeApiError(status, f"No such {name}: '{object_id}'", code="resource_missing", param=param or "id")
        return found

    def _platform_only(self, account: str | None) -> None:
        if account is not None:
            raise StripeApiError(
                400, "This request must be made by the platform, without a Stripe-Account header.", replayable=False
            )

    def _create_account(self, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        params = validate(raw, _ACCOUNT_CREATE)
        self._platform_only(account)
        country = params.get("country", "US").upper()
        requested = {
            name: "inactive" for name, value in params.get("capabilities", {}).items() if value.get("requested", False)
        }
        account_id = "acct_1" + new_id("x", 15)[2:]
        created = int(time.time())
        obj: dict[str, Any] = {
            "id": account_id,
            "object": "account",
            "business_profile": {
                "mcc": None,
                "name": None,
                "product_description": None,
                "support_email": None,
                "url": None,
            },
            "business_type": params.get("business_type"),
            "capabilities": requested,
            "charges_enabled": False,
            "controller": {"is_controller": True, "type": "application"},
            "country": country,
            "created": created,
            "default_currency": params.get("default_currency", _DEFAULT_CURRENCY.get(country, "eur")),
            "details_submitted": False,
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "payouts_enabled": False,
            "requirements": {
                "currently_due": ["business_type", "external_account", "tos_acceptance.date"],
                "disabled_reason": "requirements.past_due",
                "eventually_due": [],
                "past_due": ["business_type", "external_account", "tos_acceptance.date"],
                "pending_verification": [],
            },
            "settings": {"payouts": {"schedule": {"interval": "daily"}}},
            "tos_acceptance": {"date": None},
            "type": params["type"],
        }
        self.accounts[account_id] = obj
        self._owners[account_id] = None
        return copy.deepcopy(obj)

    def _retrieve_account(self, account_id: str, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        validate(raw, _RETRIEVE)
        found = self.accounts.get(account_id)
        if found is None or account not in (None, account_id):
            raise StripeApiError(404, f"No such account: '{account_id}'", code="resource_missing", param="id")
        return copy.deepcopy(found)

    def _create_account_link(self, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        params = validate(raw, _ACCOUNT_LINK_CREATE)
        if params["type"] == "account_onboarding":
            for name in ("refresh_url", "return_url"):
                if name not in params:
                    raise invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
        self._platform_only(account)
        linked = self._find(self.accounts, params["account"], "account", None, param="account")
        created = int(time.time())
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"{self._onboarding_base()}/connect/setup/{linked['id']}/{new_id('s', 12)[2:]}",
        }

    def _create_payment_intent(self, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        params = validate(raw, _PAYMENT_INTENT_CREATE)
        amount: int = params["amount"]
        currency: str = params["currency"]
        if not re.fullmatch(r"[a-zA-Z]{3}", currency):
            raise invalid(
                f"Invalid currency: {currency}. Stripe currently supports these currencies: ...", param="currency"
            )
        if amount < 1:
            raise invalid("Amount must be at least 1", code="amount_too_small", param="amount")
        transfer = params.get("transfer_data")
        fee = params.get("application_fee_amount")
        if fee is not None:
            if transfer is None and account is None:
                raise invalid(
                    "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
                    "(using an OAuth key or Stripe-Connect header) or destination payment (using "
                    "`transfer_data[destination]`).",
                    param="application_fee_amount",
                )
            if fee < 0 or fee > amount:
                raise invalid(
                    "The application fee amount must be between 0 and the amount.", param="application_fee_amount"
                )
        if transfer is not None:
            destination = self.accounts.get(transfer["destination"])
            if destination is None:
                raise StripeApiError(
                    400,
                    f"No such destination: '{transfer['destination']}'",
                    code="resource_missing",
                    param="transfer_data[destination]",
                )
            if destination["capabilities"].get("transfers") != "active":
                raise StripeApiError(
                    400,
                    "Your destination account needs to have at least one of the following capabilities enabled: "
                    "transfers, crypto_transfers, legacy_payments",
                    code="insufficient_capabilities_for_transfer",
                    param="transfer_data[destination]",
                )
        methods = params.get("automatic_payment_methods")
        intent_id = "pi_3" + new_id("x", 23)[2:]
        obj: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "application_fee_amount": fee,
            "automatic_payment_methods": (
                {"allow_redirects": methods.get("allow_redirects", "always"), "enabled": methods["enabled"]}
                if methods is not None
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": params.get("capture_method", "automatic_async"),
            "client_secret": f"{intent_id}_secret_{new_id('x', 25)[2:]}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": currency.lower(),
            "customer": None,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "on_behalf_of": params.get("on_behalf_of"),
            "payment_method": None,
            "payment_method_types": params.get("payment_method_types", ["card", "link"]),
            "processing": None,
            "receipt_email": params.get("receipt_email"),
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_payment_method",
            "transfer_data": dict(transfer) if transfer is not None else None,
            "transfer_group": params.get("transfer_group"),
        }
        self.payment_intents[intent_id] = obj
        self._owners[intent_id] = account
        return copy.deepcopy(obj)

    def _retrieve_payment_intent(self, intent_id: str, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        validate(raw, _PAYMENT_INTENT_RETRIEVE)
        return copy.deepcopy(self._find(self.payment_intents, intent_id, "payment_intent", account, param=None))

    def _cancel_payment_intent(self, intent_id: str, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        params = validate(raw, _PAYMENT_INTENT_CANCEL)
        intent = self._find(self.payment_intents, intent_id, "payment_intent", account, param=None)
        if intent["status"] not in _CANCELABLE:
            raise StripeApiError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
                f"PaymentIntent with one of the following statuses may be canceled: {', '.join(_CANCELABLE)}.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": copy.deepcopy(intent)},
            )
        intent.update(
            status="canceled",
            canceled_at=int(time.time()),
            cancellation_reason=params.get("cancellation_reason"),
        )
        return copy.deepcopy(intent)

    def _create_refund(self, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        params = validate(raw, _REFUND_CREATE)
        if "payment_intent" not in params and "charge" not in params:
            raise invalid(
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
                param="payment_intent",
            )
        if "payment_intent" in params:
            intent = self._find(
                self.payment_intents, params["payment_intent"], "payment_intent", account, param="payment_intent"
            )
            if intent["latest_charge"] is None:
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
            charge = self.charges[intent["latest_charge"]]
        else:
            charge = self._find(self.charges, params["charge"], "charge", account, param="charge")
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = params.get("amount", remaining)
        if amount < 1:
            raise invalid("Amount must be at least 1", code="amount_too_small", param="amount")
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        reverse = params.get("reverse_transfer", False)
        if reverse and charge["transfer"] is None:
            raise StripeApiError(
                400, "reverse_transfer can only be used with destination charges.", param="reverse_transfer"
            )
        if params.get("refund_application_fee", False) and charge["application_fee"] is None:
            raise StripeApiError(400, "This charge has no application fee to refund.", param="refund_application_fee")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund_id = "re_3" + new_id("x", 23)[2:]
        obj: dict[str, Any] = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": params.get("metadata", {}),
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": new_id("trr") if reverse else None,
        }
        self.refunds[refund_id] = obj
        self._owners[refund_id] = account
        return copy.deepcopy(obj)

    def _retrieve_refund(self, refund_id: str, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        validate(raw, _RETRIEVE)
        return copy.deepcopy(self._find(self.refunds, refund_id, "refund", account, param=None))

    def _retrieve_charge(self, charge_id: str, raw: dict[str, Any], account: str | None) -> dict[str, Any]:
        validate(raw, _RETRIEVE)
        return copy.deepcopy(self._find(self.charges, charge_id, "charge", account, param=None))
