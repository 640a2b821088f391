"""Password hashing (argon2id via argon2-cffi) and the rules a new password must meet."""

from __future__ import annotations

from dataclasses import dataclass

import anyio.to_thread
from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
PRODUCTION_PARAMETERS = profiles.RFC_9106_LOW_MEMORY
"""argon2id as RFC 9106 recommends where memory is tight: 64 MiB, 3 passes, 4 lanes (about 0.2 s a hash here)."""


@dataclass(frozen=True)
class _Hashing:
    parameters: Parameters
    hasher: PasswordHasher
    dummy_hash: str
    """Verified against when the e-mail is unknown, so a failed sign-in takes as long either way."""


def _hashing_with(parameters: Parameters) -> _Hashing:
    hasher = PasswordHasher.from_parameters(parameters)
    return _Hashing(parameters, hasher, hasher.hash("tenantcommerce-no-such-user"))


_hashing = _hashing_with(PRODUCTION_PARAMETERS)


def use_hash_parameters(parameters: Parameters) -> Parameters:
    """Hash new passwords with ``parameters`` from now on, for the whole process; returns the previous ones.

    For test suites only (the test kit uses argon2's ``profiles.CHEAPEST``, about 0.1 ms a hash): production keeps
    :data:`PRODUCTION_PARAMETERS`. Hashes carry their own parameters, so existing ones still verify, and a sign-in
    rehashes a password whose hash was made with other parameters.
    """
    global _hashing
    previous = _hashing.parameters
    _hashing = _hashing_with(parameters)
    return previous


def hash_password_now(password: str) -> str:
    """:func:`hash_password` on the calling thread (for scripts and test fixtures that insert users directly)."""
    return _hashing.hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    hashing = _hashing
    try:
        return hashing.hasher.verify(password_hash or hashing.dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (computed in a worker thread: it takes a while on purpose)."""
    return await anyio.to_thread.run_sync(hash_password_now, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash, spends the same time and answers False."""
    return await anyio.to_thread.run_sync(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hashing.hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """What makes ``password`` too weak (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() == "" or len(set(password)) < 4:
        problems.append("must use at least 4 different characters")
    if email and password.lower() in {email.lower(), email.split("@")[0].lower()}:
        problems.append("must not be your e-mail address")
    return problems
