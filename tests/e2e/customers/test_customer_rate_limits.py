"""Rate limits on the storefront's sign-in and registration: per client address and per account; a 429 writes nothing.

Each test builds its own app from settings with small budgets (the kit's are far too large to hit); counters live in
the app's own store, so tests cannot disturb each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenantcommerce.app import create_app

PASSWORD = "correct horse battery"
WRONG = "not the right passphrase"
SESSION_COOKIE = "tc_session"

Clients = Callable[[], AsyncTestClient[Litestar]]


@pytest.fixture
def limited_app(tc_settings, tc_mailer) -> Callable[..., AbstractAsyncContextManager[Clients]]:
    """``async with limited_app(auth_client_limit=3) as new_client``: a started app with these settings; each
    ``new_client()`` is another browser (own cookie jar) from the same address."""

    @asynccontextmanager
    async def start(**overrides: int) -> AsyncIterator[Clients]:
        settings = msgspec.structs.replace(tc_settings, **overrides)
        app = create_app(settings, mailer=tc_mailer)
        base_url = f"http://{settings.base_domain}"
        async with AsyncTestClient(app, base_url=base_url) as first:
            made = [first]

            def new_client() -> AsyncTestClient[Litestar]:
                if made:
                    return made.pop()
                other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=base_url)
                other.blocking_portal = first.blocking_portal
                return other

            yield new_client

    return start


def check_429(response, problem) -> dict:
    body = problem(response, 429, "too-many-requests")
    assert not [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")]
    return body


async def test_client_limit_answers_429_on_the_fourth_sign_in(
    limited_app, two_stores, login, register_platform, rows, problem
) -> None:
    a = two_stores.a
    async with limited_app(auth_client_limit=3) as new_client:
        client = new_client()
        # An account that exists but is not yet a customer of A (registration has a budget of its own).
        assert (await register_platform(client, "kim@example.com")).status_code == 202
        for number in range(3):
            response = await login(client, a.slug, f"guess{number}@example.com", WRONG)
            assert response.status_code == 401, response.text
        # The fourth attempt in the minute is refused, even with the right password: nothing is written.
        refused = await login(client, a.slug, "kim@example.com", PASSWORD)
        check_429(refused, problem)
        assert SESSION_COOKIE not in client.cookies
        assert await rows("sessions") == 0
        assert await rows("store_customers", "email = $1", "kim@example.com") == 0, "a 429 links nothing"
        # Another browser from the same address shares the budget.
        check_429(await login(new_client(), a.slug, "kim@example.com", PASSWORD), problem)
        assert await rows("sessions") == 0


async def test_client_limit_is_not_multiplied_by_the_number_of_stores(limited_app, two_stores, login, problem) -> None:
    a, b = two_stores.a, two_stores.b
    async with limited_app(auth_client_limit=3) as new_client:
        client = new_client()
        for number in range(3):
            response = await login(client, a.slug, f"guess{number}@example.com", WRONG)
            assert response.status_code == 401, response.text
        check_429(await login(client, b.slug, "guess9@example.com", WRONG), problem)


async def test_account_limit_answers_429_from_any_client(
    limited_app, two_stores, login, register_platform, rows, problem
) -> None:
    a, b = two_stores.a, two_stores.b
    # The client budget is far away: whatever answers 429 here is the account limit.
    async with limited_app(auth_client_limit=1000, auth_account_limit=2) as new_client:
        first, second, third = new_client(), new_client(), new_client()
        assert (await register_platform(first, "lea@example.com")).status_code == 202
        assert (await login(first, a.slug, "lea@example.com", WRONG)).status_code == 401
        assert (await login(second, b.slug, "lea@example.com", WRONG)).status_code == 401
        # The third attempt for the account, from a third browser, with the right password, in other case: refused.
        refused = await login(third, a.slug, "LEA@example.com", PASSWORD)
        body = check_429(refused, problem)
        assert "account" in body["detail"]
        assert int(refused.headers["retry-after"]) > 0
        assert await rows("sessions") == 0
        assert await rows("store_customers", "email = $1", "lea@example.com") == 0
        # Other accounts from the same client are not affected.
        assert (await login(third, a.slug, "someone-else@example.com", WRONG)).status_code == 401


async def test_a_refused_registration_writes_nothing(
    limited_app, two_stores, register, rows, tc_mailer, problem
) -> None:
    a = two_stores.a
    async with limited_app(auth_client_limit=1) as new_client:
        client = new_client()
        assert (await register(client, a.slug, "max@example.com")).status_code == 202
        users, customers, mails = await rows("users"), await rows("store_customers"), len(tc_mailer.outbox)
        check_429(await register(client, a.slug, "ned@example.com"), problem)
        assert (await rows("users"), await rows("store_customers")) == (users, customers)
        assert await rows("users", "email = $1", "ned@example.com") == 0
        assert len(tc_mailer.outbox) == mails, "a refused registration sends no mail"


async def test_account_limit_on_registration_sends_no_more_mail(
    limited_app, two_stores, register, rows, tc_mailer, problem
) -> None:
    a = two_stores.a
    # TC_AUTH_ACCOUNT_LIMIT=3 allows one registration per account and hour.
    async with limited_app(auth_client_limit=1000, auth_account_limit=3) as new_client:
        client = new_client()
        assert (await register(client, a.slug, "ola@example.com")).status_code == 202
        assert [m.kind for m in tc_mailer.outbox] == ["welcome"]
        check_429(await register(new_client(), a.slug, "ola@example.com", "a different passphrase"), problem)
        assert [m.kind for m in tc_mailer.outbox] == ["welcome"], "no account-exists mail after a 429"
        assert await rows("users", "email = $1", "ola@example.com") == 1


async def test_client_limit_429_says_when_to_retry(limited_app, two_stores, login, problem) -> None:
    async with limited_app(auth_client_limit=1) as new_client:
        client = new_client()
        assert (await login(client, two_stores.a.slug, "pat@example.com", WRONG)).status_code == 401
        refused = await login(client, two_stores.a.slug, "pat@example.com", WRONG)
        check_429(refused, problem)
        assert int(refused.headers["retry-after"]) > 0
