"""Guest cart tokens: 256 random bits, sent by the client, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from litestar.connection import ASGIConnection

CART_TOKEN_HEADER = "x-cart-token"  # noqa: S105 (a header name)
CART_TOKEN_COOKIE = "tc_cart"  # noqa: S105 (a cookie name)
_MAX_TOKEN_LENGTH = 100


def new_cart_token() -> str:
    """A new unguessable cart token."""
    return secrets.token_urlsafe(32)


def cart_token_hash(token: str) -> bytes:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).digest()


def cart_token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token the client sent: the ``X-Cart-Token`` header, else the ``tc_cart`` cookie (blank or oversized
    values count as none)."""
    token = connection.headers.get(CART_TOKEN_HEADER) or connection.cookies.get(CART_TOKEN_COOKIE)
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token.strip() or None
