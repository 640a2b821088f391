"""The Stripe API as the plugin uses it: the ``stripe`` library's async methods over httpx, with Stripe's failures
turned into tenantcommerce errors.

* ``CardError``: :class:`CardDeclined` (the gateway answers a ``failed`` payment);
* ``InvalidRequestError``: :class:`StripeRefused`, a 422 with Stripe's message and code;
* ``IdempotencyError``: ``Conflict`` (409), a key was reused with other parameters;
* ``AuthenticationError``, ``PermissionError``, ``APIConnectionError``, ``RateLimitError``, ``APIError`` and any
  other: ``PluginError`` (502) saying what happened.

One ``stripe.StripeClient`` is kept per event loop (httpx connections belong to the loop that opened them).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import stripe
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, PluginError

from tenantcommerce_stripe.objects import Account, AccountLink, Intent, Refund, decode
from tenantcommerce_stripe.settings import SECRET_KEY, StripeSettings

# The stripe library logs every request at INFO (three lines); the plugin's own errors say what matters.
logging.getLogger("stripe").setLevel(logging.WARNING)

if TYPE_CHECKING:
    from stripe.params import (
        AccountCreateParams,
        AccountLinkCreateParams,
        PaymentIntentCreateParams,
        RefundCreateParams,
    )

PLUGIN_ID = "stripe"
REQUEST_TIMEOUT = 5.0
"""Seconds one HTTP request to Stripe may take."""
NETWORK_RETRIES = 1
"""Retries of a request that failed on the network or that Stripe asked to retry (always with the same idempotency
key). With :data:`REQUEST_TIMEOUT` this stays within the core's default ``TC_PLUGIN_TIMEOUT`` (10 s)."""

T = TypeVar("T", bound=msgspec.Struct)


class StripeRefused(BusinessRuleError):
    """422: Stripe refused the request (``InvalidRequestError``): ``code`` and ``param`` are Stripe's."""

    def __init__(self, detail: str, *, code: str | None, param: str | None, errors: list[FieldError]) -> None:
        super().__init__(detail, errors=errors)
        self.code = code
        self.param = param


class CardDeclined(Exception):
    """The card was declined (``CardError``); ``payment_intent`` is the PaymentIntent's id when Stripe gave it."""

    def __init__(self, message: str, *, code: str | None, payment_intent: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.payment_intent = payment_intent


class _HttpxClient(stripe.HTTPXClient):
    """The ``stripe`` library's httpx client, sending the form body as ``content`` (httpx deprecates raw bytes
    passed as ``data``, and warns on every request)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        data = kwargs.pop("data", None)
        if data:
            kwargs["content"] = data
        return list(args), dict(kwargs)


class StripeApi:
    """Calls to Stripe with the deployment's key (:class:`~tenantcommerce_stripe.settings.StripeSettings`)."""

    def __init__(self, settings: StripeSettings) -> None:
        self.settings = settings
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, stripe.StripeClient] = (
            weakref.WeakKeyDictionary()
        )

    def client(self) -> stripe.StripeClient:
        """The ``StripeClient`` of the running event loop.

        Raises:
            PluginError: ``TC_STRIPE_SECRET_KEY`` is not set.
        """
        if self.settings.secret_key is None:
            raise PluginError(
                f"Stripe is not configured on this platform: {SECRET_KEY} is not set", plugin_id=PLUGIN_ID
            )
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            found = stripe.StripeClient(
                self.settings.secret_key,
                base_addresses={"api": self.settings.api_base},
                max_network_retries=NETWORK_RETRIES,
                http_client=_HttpxClient(timeout=REQUEST_TIMEOUT),
            )
            self._clients[loop] = found
        return found

    # --- accounts -----------------------------------------------------------------------------------------------

    async def create_account(self, params: AccountCreateParams, *, idempotency_key: str) -> Account:
        """``POST /v1/accounts``."""
        with self._failures("create the store's Stripe account"):
            created = await self.client().v1.accounts.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _view(created, Account)

    async def retrieve_account(self, account_id: str) -> Account:
        """``GET /v1/accounts/{id}``."""
        with self._failures(f"read the Stripe account {account_id}"):
            found = await self.client().v1.accounts.retrieve_async(account_id)
        return _view(found, Account)

    async def create_account_link(self, params: AccountLinkCreateParams) -> AccountLink:
        """``POST /v1/account_links`` (each call makes a new, short-lived link)."""
        with self._failures("create the onboarding link"):
            link = await self.client().v1.account_links.create_async(params=params)
        return _view(link, AccountLink)

    # --- payments -----------------------------------------------------------------------------------------------

    async def create_payment_intent(self, params: PaymentIntentCreateParams, *, idempotency_key: str) -> Intent:
        """``POST /v1/payment_intents``.

        Raises:
            CardDeclined: the card was declined.
        """
        with self._failures("create the PaymentIntent"):
            intent = await self.client().v1.payment_intents.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _view(intent, Intent)

    async def retrieve_payment_intent(self, intent_id: str) -> Intent:
        """``GET /v1/payment_intents/{id}``."""
        with self._failures(f"read the PaymentIntent {intent_id}"):
            intent = await self.client().v1.payment_intents.retrieve_async(intent_id)
        return _view(intent, Intent)

    async def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """``POST /v1/payment_intents/{id}/cancel``."""
        with self._failures(f"cancel the PaymentIntent {intent_id}"):
            intent = await self.client().v1.payment_intents.cancel_async(
                intent_id, options={"idempotency_key": idempotency_key}
            )
        return _view(intent, Intent)

    async def create_refund(self, params: RefundCreateParams, *, idempotency_key: str) -> Refund:
        """``POST /v1/refunds``."""
        with self._failures("create the refund"):
            refund = await self.client().v1.refunds.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _view(refund, Refund)

    # --- errors -------------------------------------------------------------------------------------------------

    @contextmanager
    def _failures(self, action: str) -> Iterator[None]:
        try:
            yield
        except stripe.CardError as exc:
            raise CardDeclined(_message(exc), code=exc.code, payment_intent=_error_intent(exc)) from exc
        except stripe.IdempotencyError as exc:
            raise Conflict(
                f"Stripe refused to {action}: the request repeats an earlier one with other parameters "
                f"({_message(exc)})"
            ) from exc
        except stripe.InvalidRequestError as exc:
            code = exc.code
            param = getattr(exc, "param", None)
            field = param or "stripe"
            raise StripeRefused(
                f"Stripe refused to {action}: {_message(exc)}" + (f" ({code})" if code else ""),
                code=code,
                param=param,
                errors=[FieldError(field, f"{code or 'invalid_request_error'}: {_message(exc)}")],
            ) from exc
        except stripe.AuthenticationError as exc:
            raise self._failed(
                f"Stripe rejected the platform's API key ({SECRET_KEY}) trying to {action}", exc
            ) from exc
        except stripe.PermissionError as exc:
            raise self._failed(f"the platform's Stripe key is not allowed to {action}", exc) from exc
        except stripe.APIConnectionError as exc:
            raise self._failed(
                f"could not reach Stripe at {self.settings.api_base} to {action}; try again", exc
            ) from exc
        except stripe.RateLimitError as exc:
            raise self._failed(
                f"Stripe is rate-limiting the platform and did not {action}; try again shortly", exc
            ) from exc
        except stripe.StripeError as exc:
            raise self._failed(f"Stripe failed to {action}", exc) from exc

    @staticmethod
    def _failed(detail: str, exc: stripe.StripeError) -> PluginError:
        request = f"; Stripe request {exc.request_id}" if exc.request_id else ""
        return PluginError(f"{detail} ({_message(exc)}{request})", plugin_id=PLUGIN_ID)


@cache
def api_for(settings: StripeSettings) -> StripeApi:
    """One :class:`StripeApi` per distinct settings (the gateway and the routes of an app share it)."""
    return StripeApi(settings)


def _view(obj: stripe.StripeObject, kind: type[T]) -> T:
    try:
        return decode(obj.to_dict(), kind)
    except msgspec.ValidationError as exc:
        raise PluginError(f"Stripe answered an unexpected {kind.__name__}: {exc}", plugin_id=PLUGIN_ID) from exc


def _message(exc: stripe.StripeError) -> str:
    message = exc.user_message
    return str(message) if message else type(exc).__name__


def _error_intent(exc: stripe.StripeError) -> str | None:
    body: Any = exc.json_body
    if not isinstance(body, dict):
        return None
    intent = (body.get("error") or {}).get("payment_intent")
    if isinstance(intent, dict) and isinstance(intent.get("id"), str):
        return str(intent["id"])
    return None
