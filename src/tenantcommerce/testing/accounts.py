"""HTTP helpers for tests that sign in: the CSRF header, registration, sign-in (platform and storefront).

They work with any httpx-style async client of a tenantcommerce app (the kit's ``client`` fixture), which keeps the
session and ``csrftoken`` cookies between calls.
"""

from __future__ import annotations

from typing import Any, Protocol

TEST_PASSWORD = "correct horse battery"  # noqa: S105 (a test value)
"""A password every rule accepts."""


def password_hash(password: str = TEST_PASSWORD) -> str:
    """A hash of ``password`` as the app stores it (made with the run's parameters: cheap under the kit), for tests
    that insert users directly."""
    from tenantcommerce.auth.passwords import hash_password_now

    return hash_password_now(password)


class _Response(Protocol):
    status_code: int
    text: str

    def json(self) -> Any: ...


class _Client(Protocol):
    @property
    def cookies(self) -> Any: ...

    async def get(self, url: str, **kwargs: Any) -> Any: ...

    async def post(self, url: str, **kwargs: Any) -> Any: ...


async def csrf_headers(client: _Client) -> dict[str, str]:
    """``{"X-CSRFToken": token}`` for ``client`` (``GET /api/auth/csrf`` sets the ``csrftoken`` cookie if missing)."""
    response = await client.get("/api/auth/csrf")
    assert response.status_code == 204, response.text
    token = client.cookies.get("csrftoken")
    assert token, f"GET /api/auth/csrf set no csrftoken cookie: {response.headers}"
    return {"X-CSRFToken": token}


async def register(client: _Client, email: str, password: str = TEST_PASSWORD, **extra: Any) -> Any:
    """``POST /api/auth/register`` with the CSRF header; the answer."""
    headers = await csrf_headers(client)
    return await client.post(
        "/api/auth/register", json={"email": email, "password": password, **extra}, headers=headers
    )


async def sign_in(client: _Client, email: str, password: str = TEST_PASSWORD) -> Any:
    """``POST /api/auth/login`` with the CSRF header; the answer."""
    headers = await csrf_headers(client)
    return await client.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


async def sign_up_and_in(client: _Client, email: str, password: str = TEST_PASSWORD) -> dict[str, Any]:
    """Register ``email`` and sign ``client`` in as it; return the sign-in answer (the ``me`` document)."""
    registered = await register(client, email, password)
    assert registered.status_code == 202, registered.text
    response = await sign_in(client, email, password)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["user"]["email"] == email.strip().lower()
    return body


async def customer_register(client: _Client, slug: str, email: str, password: str = TEST_PASSWORD, **extra: Any) -> Any:
    """``POST /api/storefront/{slug}/customers/register`` with the CSRF header; the answer."""
    headers = await csrf_headers(client)
    return await client.post(
        f"/api/storefront/{slug}/customers/register", json={"email": email, "password": password, **extra},
        headers=headers,
    )  # fmt: skip


async def customer_sign_in(client: _Client, slug: str, email: str, password: str = TEST_PASSWORD) -> Any:
    """``POST /api/storefront/{slug}/customers/login`` with the CSRF header; the answer."""
    headers = await csrf_headers(client)
    return await client.post(
        f"/api/storefront/{slug}/customers/login", json={"email": email, "password": password}, headers=headers
    )
