"""``Idempotency-Key`` on mutating storefront calls: the same key and body give the same answer, once.

A key is scoped to the store and the client (the signed-in user, else the cart token, else the client address). The
middleware claims the key in its own committed transaction before the call runs, so two concurrent calls with one key
cannot both run: the second answers 409 while the first is running. When the call is done its answer (status,
headers, body) is kept and replayed for the same key and body, with ``Idempotent-Replayed: true``; another body with
the same key answers 409. A call that failed on our side (a 5xx, or the process raising) leaves nothing: its own
transaction rolled back and the key is released, so a retry with the same key runs again.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import ASGIMiddleware

from tenantcommerce.auth.principal import Principal
from tenantcommerce.cart.tokens import cart_token_of
from tenantcommerce.db.base import new_id
from tenantcommerce.errors import Conflict, FieldError, InputError
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

IDEMPOTENCY_HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
KEEP_KEYS = datetime.timedelta(hours=24)
"""How long answers are kept for replay; older keys are pruned and may be used again."""
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEPT_HEADERS = frozenset({b"content-type", b"location", b"set-cookie"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _valid_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all(32 < ord(char) < 127 for char in key):
        raise InputError(
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
            errors=[FieldError("Idempotency-Key", "1 to 255 visible ASCII characters")],
        )
    return key


def client_of(scope: Scope) -> str:
    """Who is calling, as far as keys are concerned: the user, else the cart token, else the address."""
    user = scope.get("user")
    if isinstance(user, Principal):
        return f"user:{user.user_id}"
    token = cart_token_of(ASGIConnection(scope))
    if token:
        return "cart:" + hashlib.sha256(token.encode()).hexdigest()[:40]
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


async def _read_body(receive: Receive) -> tuple[bytes, list[ReceiveMessage]]:
    chunks: list[bytes] = []
    messages: list[ReceiveMessage] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


class IdempotencyMiddleware(ASGIMiddleware):
    """Route middleware: honours ``Idempotency-Key`` on unsafe methods (see the module's docstring)."""

    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        raw_key = _header(scope, IDEMPOTENCY_HEADER.encode())
        if scope.get("method") not in _UNSAFE or raw_key is None:
            await next_app(scope, receive, send)
            return
        from tenantcommerce.app import runtime_of

        key = _valid_key(raw_key.strip())
        database = runtime_of(scope["app"]).database
        body, messages = await _read_body(receive)
        digest = hashlib.sha256(
            b"\0".join(
                [str(scope.get("method", "")).encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).digest()
        store_id, client = current_store().id, client_of(scope)

        async with database.store_transaction(store_id, readonly=False) as conn:
            await conn.execute(
                "DELETE FROM idempotency_keys WHERE store_id = $1 AND client = $2 AND key = $3 AND created_at < $4",
                store_id, client, key, datetime.datetime.now(datetime.UTC) - KEEP_KEYS,
            )  # fmt: skip
            row_id = await conn.fetchval(
                "INSERT INTO idempotency_keys (store_id, id, client, key, request_hash, state) "
                "VALUES ($1, $2, $3, $4, $5, 'running') ON CONFLICT (store_id, client, key) DO NOTHING RETURNING id",
                store_id, new_id(), client, key, digest,
            )  # fmt: skip
            existing = None
            if row_id is None:
                existing = await conn.fetchrow(
                    "SELECT request_hash, state, status_code, response_headers, response_body FROM idempotency_keys "
                    "WHERE store_id = $1 AND client = $2 AND key = $3",
                    store_id, client, key,
                )  # fmt: skip
        if row_id is None:
            await self._replay(existing, digest, send)
            return

        replayed_messages = iter(messages)

        async def replay_receive() -> ReceiveMessage:
            message = next(replayed_messages, None)
            return message if message is not None else await receive()

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await next_app(scope, replay_receive, capture)
        except BaseException:
            await self._release(database, store_id, row_id)
            raise
        if status >= 500:
            await self._release(database, store_id, row_id)
            return
        kept = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers if k.lower() in _KEPT_HEADERS]
        async with database.store_transaction(store_id, readonly=False) as conn:
            await conn.execute(
                "UPDATE idempotency_keys SET state = 'done', status_code = $3, response_headers = $4::jsonb, "
                "response_body = $5, completed_at = now() WHERE store_id = $1 AND id = $2",
                store_id, row_id, status, _json(kept), b"".join(chunks),
            )  # fmt: skip

    @staticmethod
    async def _release(database: Any, store_id: Any, row_id: Any) -> None:
        async with database.store_transaction(store_id, readonly=False) as conn:
            await conn.execute("DELETE FROM idempotency_keys WHERE store_id = $1 AND id = $2", store_id, row_id)

    @staticmethod
    async def _replay(existing: Any, digest: bytes, send: Send) -> None:
        if existing is None:  # released between our insert and read: the client may simply retry
            raise Conflict("a request with this Idempotency-Key just failed: send it again")
        if bytes(existing["request_hash"]) != digest:
            raise Conflict(
                "this Idempotency-Key was used with another request: use a new key for a new request",
                errors=[FieldError("Idempotency-Key", "already used with another request")],
            )
        if existing["state"] != "done":
            raise Conflict("a request with this Idempotency-Key is still running: try again in a moment")
        stored = existing["response_headers"]
        pairs = msgspec.json.decode(stored) if isinstance(stored, str | bytes) else stored
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
        headers.append((REPLAYED_HEADER.encode(), b"true"))
        body = bytes(existing["response_body"] or b"")
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": existing["status_code"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def idempotent() -> IdempotencyMiddleware:
    """The idempotency middleware, for the ``middleware`` of storefront controllers."""
    return IdempotencyMiddleware()
