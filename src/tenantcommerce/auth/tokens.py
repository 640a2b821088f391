"""Opaque secrets for API tokens, password resets and invitations: shown once, stored as SHA-256 hashes.

The secrets carry 256 bits of randomness, so a fast hash is enough: nobody can guess one to compare against.
"""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "tc_"  # noqa: S105 (a public prefix, not a secret)


def new_secret() -> str:
    """A URL-safe random secret."""
    return secrets.token_urlsafe(32)


def new_api_token() -> tuple[str, str]:
    """``(token, display prefix)``: the token is shown once; the prefix identifies it in lists."""
    token = API_TOKEN_PREFIX + new_secret()
    return token, token[: len(API_TOKEN_PREFIX) + 8]


def digest(secret: str) -> str:
    """The hex SHA-256 stored in place of ``secret``."""
    return hashlib.sha256(secret.encode()).hexdigest()
