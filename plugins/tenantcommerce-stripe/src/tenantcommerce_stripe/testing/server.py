"""An offline Stripe API server: a real HTTP server on 127.0.0.1 the ``stripe`` library can be pointed at."""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import stripe

from tenantcommerce_stripe.testing.resources import DEFAULT_API_VERSION, StripeObjects, new_id
from tenantcommerce_stripe.testing.wire import StripeApiError, parse_form

DEFAULT_SECRET_KEY = "sk_test_tenantcommerce_offline_0000000000"  # noqa: S105 - a fake key for the fake server
"""The secret key the server accepts unless it is given others."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received: ``params`` are the parsed form (or query) values, as sent (strings).

    ``headers`` has lower-case names. ``status`` is the HTTP status answered; ``replayed`` whether the answer came
    from the idempotency store.
    """

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    replayed: bool

    @property
    def stripe_account(self) -> str | None:
        """The ``Stripe-Account`` header, if any."""
        return self.headers.get("stripe-account")

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` header, if any (the stripe library sends one on every POST)."""
        return self.headers.get("idempotency-key")


@dataclass(frozen=True)
class SignedWebhook:
    """A webhook delivery: the raw JSON body and its ``Stripe-Signature`` header."""

    payload: bytes
    header: str

    @property
    def headers(self) -> dict[str, str]:
        """Headers to post it with."""
        return {"Stripe-Signature": self.header, "Content-Type": "application/json; charset=utf-8"}


def sign_webhook(event: Mapping[str, Any] | str | bytes, secret: str, *, timestamp: int | None = None) -> SignedWebhook:
    """Serialize ``event`` (unless already raw) and sign it with the stripe library's own helper.

    ``stripe.WebhookSignature.generate_signature_header`` computes ``t=<timestamp>,v1=<HMAC-SHA256(secret,
    "<timestamp>.<payload>")>``; pass an old ``timestamp`` to produce an expired signature.
    """
    if isinstance(event, bytes):
        payload = event.decode("utf-8")
    elif isinstance(event, str):
        payload = event
    else:
        payload = json.dumps(event, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return SignedWebhook(payload=payload.encode("utf-8"), header=header)


@dataclass
class _Saved:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: bytes
    request_id: str


class FakeStripe(StripeObjects):
    """An offline Stripe API (accounts, account links, PaymentIntents, refunds) served over real HTTP.

    Use it as a context manager (``with FakeStripe() as fake: fake.client()...``) or call :meth:`start` and
    :meth:`stop`. Objects live in memory; helpers (:meth:`enable_account`, :meth:`succeed_payment_intent`,
    :meth:`fail_payment_intent`, :meth:`event`) move them the way Stripe would.
    """

    def __init__(self, secret_keys: tuple[str, ...] = (DEFAULT_SECRET_KEY,)) -> None:
        super().__init__(lambda: self.api_base)
        self.secret_keys = secret_keys
        self.requests: list[RecordedRequest] = []
        self._idempotency: dict[tuple[str, str | None, str], _Saved] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        if self._server is not None:
            return self
        handler = type("_Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-stripe", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and wait for the thread."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def api_base(self) -> str:
        """``http://127.0.0.1:<port>``: give it to ``StripeClient(base_addresses={"api": ...})``."""
        if self._server is None:
            raise RuntimeError("FakeStripe is not running; call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def client(self, api_key: str = DEFAULT_SECRET_KEY, **options: Any) -> stripe.StripeClient:
        """A ``stripe.StripeClient`` pointed at this server (no network retries unless asked)."""
        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(api_key, base_addresses={"api": self.api_base}, **options)

    # -- request log -----------------------------------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests received for ``method`` (``"POST"``) and ``path`` (``"/v1/payment_intents"``), oldest first."""
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def last_request(self) -> RecordedRequest:
        """The most recent request."""
        with self._lock:
            if not self.requests:
                raise AssertionError("FakeStripe received no request")
            return self.requests[-1]

    def clear_requests(self) -> None:
        """Forget the request log (objects and idempotency keys stay)."""
        with self._lock:
            self.requests.clear()

    # -- helpers that drive state the way Stripe would -------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: str
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: ``(status, extra headers, JSON body)``. Thread-safe; records the request."""
        lower = {key.lower(): value for key, value in headers.items()}
        split = urlsplit(target)
        path = split.path
        request_id = new_id("req", 14)
        replayed = False
        params: dict[str, Any] = {}
        with self._lock:
            try:
                params = parse_form(body if method == "POST" else split.query)
                status, payload, replayed, request_id = self._dispatch(method, path, params, lower, request_id)
                response = json.dumps(payload, indent=2).encode("utf-8")
            except StripeApiError as error:
                status, response = error.status, json.dumps(error.body(), indent=2).encode("utf-8")
            self.requests.append(
                RecordedRequest(method, path, copy.deepcopy(params), lower, status=status, replayed=replayed)
            )
        extra = {"Request-Id": request_id, "Stripe-Version": lower.get("stripe-version", DEFAULT_API_VERSION)}
        if replayed:
            extra["Idempotent-Replayed"] = "true"
        if "stripe-account" in lower:
            extra["Stripe-Account"] = lower["stripe-account"]
        return status, extra, response

    def _dispatch(
        self, method: str, path: str, params: dict[str, Any], headers: Mapping[str, str], request_id: str
    ) -> tuple[int, Any, bool, str]:
        key = self._authenticate(headers)
        account = headers.get("stripe-account")
        if account is not None and account not in self.accounts:
            raise StripeApiError(
                403,
                f"The provided key '{_redact(key)}' does not have access to account '{account}' (or that account "
                "does not exist). Application access may have been revoked.",
                code="account_invalid",
                replayable=False,
            )
        route = self._route(method, path)
        idem = headers.get("idempotency-key") if method == "POST" else None
        if idem is not None:
            saved = self._idempotency.get((key, account, idem))
            if saved is not None:
                if (saved.method, saved.path, saved.params) != (method, path, params):
                    raise StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were first used "
                        f"with. Try using a key other than '{idem}' if you meant to execute a different request.",
                        type="idempotency_error",
                        replayable=False,
                    )
                return saved.status, json.loads(saved.body), True, saved.request_id
        try:
            status, payload = 200, route(params, account)
        except StripeApiError as error:
            if idem is None or not error.replayable:
                raise
            status, payload = error.status, error.body()
        if idem is not None:
            self._idempotency[(key, account, idem)] = _Saved(
                method, path, copy.deepcopy(params), status, json.dumps(payload).encode("utf-8"), request_id
            )
        return status, payload, False, request_id

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        auth = headers.get("authorization", "")
        key = ""
        if auth.startswith("Bearer "):
            key = auth[len("Bearer ") :].strip()
        elif auth.startswith("Basic "):
            try:
                key = base64.b64decode(auth[len("Basic ") :]).decode("utf-8").split(":", 1)[0]
            except ValueError:
                key = ""
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using "
                "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
                replayable=False,
            )
        if key not in self.secret_keys:
            raise StripeApiError(401, f"Invalid API Key provided: {_redact(key)}", replayable=False)
        return key

    def _route(self, method: str, path: str) -> Callable[[dict[str, Any], str | None], dict[str, Any]]:
        routes: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
            ("POST", r"/v1/accounts", self._create_account),
            ("GET", r"/v1/accounts/(?P<id>[^/]+)", self._retrieve_account),
            ("POST", r"/v1/account_links", self._create_account_link),
            ("POST", r"/v1/payment_intents", self._create_payment_intent),
            ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self._retrieve_payment_intent),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/cancel", self._cancel_payment_intent),
            ("POST", r"/v1/refunds", self._create_refund),
            ("GET", r"/v1/refunds/(?P<id>[^/]+)", self._retrieve_refund),
            ("GET", r"/v1/charges/(?P<id>[^/]+)", self._retrieve_charge),
        ]
        for verb, pattern, func in routes:
            match = re.fullmatch(pattern, path)
            if match is not None and verb == method:
                groups = match.groupdict()
                if groups:
                    object_id = groups["id"]
                    return lambda params, account: func(object_id, params, account)
                return func
        raise StripeApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
            "https://support.stripe.com/.",
            replayable=False,
        )


def _redact(key: str) -> str:
    prefix = key.split("_", 2)
    head = "_".join(prefix[:2]) + "_" if len(prefix) == 3 else ""
    return f"{head}{'*' * 12}{key[-4:]}"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        status, headers, payload = self.fake.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer
    do_DELETE = _answer


@contextmanager
def fake_stripe(secret_keys: tuple[str, ...] = (DEFAULT_SECRET_KEY,)) -> Iterator[FakeStripe]:
    """Run a :class:`FakeStripe` for the ``with`` block."""
    with FakeStripe(secret_keys) as fake:
        yield fake
