"""CSRF over HTTP: cookie-authenticated unsafe requests need the token; bearer requests do not."""

from __future__ import annotations

PASSWORD = "correct horse battery"
ANN = "ann@example.com"
STORE = {"slug": "acme", "name": "Acme"}


async def test_signed_in_unsafe_request_without_the_token_is_refused(
    client, sign_up_and_in, csrf_headers, rows, admin_conn, problem
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    await csrf_headers(client)  # the browser holds the csrftoken cookie; the forged request cannot read it
    assert client.cookies.get("csrftoken")
    hash_before = await admin_conn.fetchval("SELECT password_hash FROM users")

    body = problem(await client.post("/api/stores", json=STORE), 403, "permission-denied")
    assert "csrf" in body["detail"].lower()
    assert await rows("stores") == 0
    assert await rows("store_members") == 0

    problem(
        await client.post(
            "/api/auth/password/change", json={"current_password": PASSWORD, "new_password": "a forged new password"}
        ),
        403,
        "permission-denied",
    )
    assert await admin_conn.fetchval("SELECT password_hash FROM users") == hash_before

    problem(await client.post("/api/auth/logout"), 403, "permission-denied")
    assert await rows("sessions") == 1
    assert (await client.get("/api/auth/me")).status_code == 200, "a refused logout must not sign out"

    # With the token the same request works.
    created = await client.post("/api/stores", json=STORE, headers=await csrf_headers(client))
    assert created.status_code == 201, created.text
    assert await rows("stores") == 1


async def test_bogus_or_foreign_csrf_tokens_are_refused(
    client, new_client, sign_up_and_in, csrf_headers, rows, problem
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    own = (await csrf_headers(client))["X-CSRFToken"]
    foreign = (await csrf_headers(new_client()))["X-CSRFToken"]  # valid for another browser's cookie
    assert foreign != own
    for token in ("", "bogus", "0" * len(own), own[:-1] + ("0" if own[-1] != "0" else "1"), foreign, own.upper()):
        if token == own:
            continue
        response = await client.post("/api/stores", json=STORE, headers={"X-CSRFToken": token})
        problem(response, 403, "permission-denied")
    # The header alone is not enough: without the cookie to compare with, the request is refused.
    client.cookies.delete("csrftoken")
    problem(await client.post("/api/stores", json=STORE, headers={"X-CSRFToken": own}), 403, "permission-denied")
    assert await rows("stores") == 0


async def test_anonymous_unsafe_requests_need_the_token_too(client, csrf_headers, rows, tc_mailer, problem) -> None:
    """Login CSRF and forged sign-ups: the auth endpoints are protected like the rest."""
    await csrf_headers(client)
    account = {"email": ANN, "password": PASSWORD}
    problem(await client.post("/api/auth/register", json=account), 403, "permission-denied")
    problem(await client.post("/api/auth/login", json=account), 403, "permission-denied")
    problem(await client.post("/api/auth/password/reset-request", json={"email": ANN}), 403, "permission-denied")
    assert await rows("users") == 0
    assert await rows("sessions") == 0
    assert tc_mailer.outbox == []


async def test_bearer_requests_are_exempt_from_csrf(client, sign_up_and_in, rows, problem) -> None:
    """An (unknown) API token without a CSRF token gets 401 from authentication, not 403 from the CSRF layer."""
    bearer = {"Authorization": "Bearer tc_not-a-real-token-0123456789"}
    problem(await client.post("/api/stores", json=STORE, headers=bearer), 401, "authentication-required")
    problem(await client.post("/api/auth/logout", headers=bearer), 401, "authentication-required")
    # Also with a session cookie: the token decides, and the session does not rescue a bad token.
    await sign_up_and_in(client, ANN, PASSWORD)
    problem(await client.post("/api/stores", json=STORE, headers=bearer), 401, "authentication-required")
    lower = {"authorization": "bearer tc_not-a-real-token-0123456789"}
    problem(await client.post("/api/stores", json=STORE, headers=lower), 401, "authentication-required")
    assert await rows("stores") == 0
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_a_foreign_authorization_header_does_not_switch_csrf_off_for_the_session(
    client, sign_up_and_in, rows, problem
) -> None:
    """A bearer value that is not one of our API tokens does not authenticate, so the session cookie does: the
    request is cookie-authenticated and must pass the CSRF check like any other."""
    await sign_up_and_in(client, ANN, PASSWORD)
    for header in ("Bearer not-one-of-ours", "Bearer ", "Basic YW5uOnBhc3N3b3Jk"):
        response = await client.post("/api/stores", json=STORE, headers={"Authorization": header})
        assert response.status_code in (401, 403), (header, response.status_code, response.text)
        problem(response, response.status_code)
        assert await rows("stores") == 0, f"{header!r} let a cookie-authenticated request skip CSRF"
