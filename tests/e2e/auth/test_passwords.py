"""Password change and reset over HTTP: rules, sessions that end, single-use expiring reset tokens."""

from __future__ import annotations

import hashlib
import re

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple tiger orbit 42"
ANN = "ann@example.com"
CHANGE = "/api/auth/password/change"
RESET_REQUEST = "/api/auth/password/reset-request"
RESET = "/api/auth/password/reset"


def field_names(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def reset_token_of(mailer, email: str) -> str:
    """The token of the newest reset mail to ``email`` (from its ``Reset token: <token>`` line)."""
    message = mailer.last(email, "password-reset")
    found = re.search(r"^Reset token: (\S+)$", message.body, re.MULTILINE)
    assert found, message.body
    return found.group(1)


async def user_row(admin_conn, email: str = ANN):
    return await admin_conn.fetchrow("SELECT password_hash, session_epoch FROM users WHERE email = $1", email)


# --- change ---------------------------------------------------------------------------------------------------------


async def test_change_with_a_wrong_current_password_is_422(
    client, sign_up_and_in, csrf_headers, admin_conn, problem
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    before = await user_row(admin_conn)
    response = await client.post(
        CHANGE,
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=await csrf_headers(client),
    )
    body = problem(response, 422)
    assert field_names(body) == {"current_password"}
    assert await user_row(admin_conn) == before
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_change_to_a_weak_password_is_422_naming_new_password(
    client, sign_up_and_in, csrf_headers, admin_conn, problem
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    before = await user_row(admin_conn)
    headers = await csrf_headers(client)
    for weak in ("short1", "aaaaaaaaaaaaaa", "abababababab", ANN, "ANN@example.com", "          x"):
        response = await client.post(CHANGE, json={"current_password": PASSWORD, "new_password": weak}, headers=headers)
        body = problem(response, 422)
        assert field_names(body) == {"new_password"}, (weak, body)
    assert await user_row(admin_conn) == before
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_change_password_ends_other_sessions_and_keeps_this_one(
    client, new_client, sign_up_and_in, login, csrf_headers, admin_conn, rows, problem
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    laptop = new_client()
    assert (await login(laptop, ANN, PASSWORD)).status_code == 200
    assert (await laptop.get("/api/auth/me")).status_code == 200
    before = await user_row(admin_conn)

    response = await client.post(
        CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=await csrf_headers(client)
    )
    assert response.status_code == 204, response.text
    assert response.content == b""

    after = await user_row(admin_conn)
    assert after["password_hash"] != before["password_hash"]
    assert after["password_hash"].startswith("$argon2id$")
    assert after["session_epoch"] > before["session_epoch"]
    me = await client.get("/api/auth/me")
    assert me.status_code == 200, "the session that changed the password stays signed in"
    assert me.json()["user"]["email"] == ANN
    problem(await laptop.get("/api/auth/me"), 401, "authentication-required")
    # The ended session cannot act either (it still holds a valid CSRF pair).
    problem(
        await laptop.post("/api/stores", json={"slug": "acme", "name": "Acme"}, headers=await csrf_headers(laptop)),
        401,
    )
    assert await rows("stores") == 0

    stranger = new_client()
    problem(await login(stranger, ANN, PASSWORD), 401, "authentication-required")
    assert (await login(stranger, ANN, NEW_PASSWORD)).status_code == 200
    assert (await stranger.get("/api/auth/me")).status_code == 200


async def test_change_password_needs_a_platform_sign_in(client, csrf_headers, problem) -> None:
    response = await client.post(
        CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=await csrf_headers(client)
    )
    problem(response, 401, "authentication-required")


# --- reset ----------------------------------------------------------------------------------------------------------


async def test_reset_request_answers_the_same_for_unknown_and_known_addresses(
    client, register, csrf_headers, tc_mailer, rows
) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    tc_mailer.outbox.clear()
    headers = await csrf_headers(client)

    known = await client.post(RESET_REQUEST, json={"email": ANN}, headers=headers)
    assert known.status_code == 202, known.text
    assert set(known.json()) == {"detail"}
    unknown = await client.post(RESET_REQUEST, json={"email": "nobody@example.com"}, headers=headers)
    assert unknown.status_code == known.status_code
    assert unknown.content == known.content
    assert unknown.headers["content-type"] == known.headers["content-type"]

    assert [(message.to, message.kind) for message in tc_mailer.outbox] == [(ANN, "password-reset")]
    assert await rows("password_reset_tokens") == 1
    assert await rows("users") == 1
    assert await rows("sessions") == 0


async def test_reset_mail_links_to_the_platform_not_to_the_host_the_request_named(
    client, register, csrf_headers, tc_mailer
) -> None:
    """Password-reset poisoning: the link must not point at whatever ``Host`` the requester sent."""
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    headers = await csrf_headers(client)
    response = await client.post(RESET_REQUEST, json={"email": ANN}, headers={**headers, "host": "evil.example"})
    assert response.status_code in (202, 400, 404), response.text
    if response.status_code == 202:
        body = tc_mailer.last(ANN, "password-reset").body
        assert "evil.example" not in body, f"the reset mail sends the token to the requester's host: {body}"


async def test_reset_sets_the_password_and_ends_every_session(
    client, new_client, sign_up_and_in, login, csrf_headers, tc_mailer, admin_conn, rows, problem
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)  # Ann is signed in here; someone (Ann, elsewhere) resets
    elsewhere = new_client()
    headers = await csrf_headers(elsewhere)
    assert (await elsewhere.post(RESET_REQUEST, json={"email": ANN}, headers=headers)).status_code == 202
    token = reset_token_of(tc_mailer, ANN)
    assert len(token) >= 20
    # Only a hash of the token is kept.
    stored = await admin_conn.fetchval("SELECT token_hash FROM password_reset_tokens")
    assert token not in stored
    assert stored == hashlib.sha256(token.encode()).hexdigest()

    # A weak new password is refused and does not use the token up.
    weak = await elsewhere.post(RESET, json={"token": token, "new_password": "short"}, headers=headers)
    assert field_names(problem(weak, 422)) == {"new_password"}
    assert (await client.get("/api/auth/me")).status_code == 200

    response = await elsewhere.post(RESET, json={"token": token, "new_password": NEW_PASSWORD}, headers=headers)
    assert response.status_code == 204, response.text
    problem(await client.get("/api/auth/me"), 401, "authentication-required")
    assert await admin_conn.fetchval("SELECT used_at IS NOT NULL FROM password_reset_tokens")

    # Single use.
    again = await elsewhere.post(
        RESET, json={"token": token, "new_password": "yet another passphrase"}, headers=headers
    )
    assert field_names(problem(again, 422)) == {"token"}

    problem(await login(elsewhere, ANN, PASSWORD), 401, "authentication-required")
    assert (await login(elsewhere, ANN, NEW_PASSWORD)).status_code == 200
    assert await rows("users") == 1


async def test_using_one_reset_token_voids_the_others(client, register, csrf_headers, tc_mailer, problem) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    headers = await csrf_headers(client)
    assert (await client.post(RESET_REQUEST, json={"email": ANN}, headers=headers)).status_code == 202
    first = reset_token_of(tc_mailer, ANN)
    assert (await client.post(RESET_REQUEST, json={"email": ANN}, headers=headers)).status_code == 202
    second = reset_token_of(tc_mailer, ANN)
    assert first != second
    assert (
        await client.post(RESET, json={"token": second, "new_password": NEW_PASSWORD}, headers=headers)
    ).status_code == 204
    response = await client.post(
        RESET, json={"token": first, "new_password": "yet another passphrase"}, headers=headers
    )
    assert field_names(problem(response, 422)) == {"token"}


async def test_expired_reset_token_is_422(client, register, csrf_headers, tc_mailer, admin_conn, problem) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    headers = await csrf_headers(client)
    assert (await client.post(RESET_REQUEST, json={"email": ANN}, headers=headers)).status_code == 202
    token = reset_token_of(tc_mailer, ANN)
    await admin_conn.execute("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second'")
    before = await user_row(admin_conn)
    response = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD}, headers=headers)
    assert field_names(problem(response, 422)) == {"token"}
    assert await user_row(admin_conn) == before
    assert await admin_conn.fetchval("SELECT used_at FROM password_reset_tokens") is None


async def test_unknown_and_malformed_reset_tokens(client, register, csrf_headers, admin_conn, problem) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    before = await user_row(admin_conn)
    headers = await csrf_headers(client)
    unknown = await client.post(RESET, json={"token": "x" * 43, "new_password": NEW_PASSWORD}, headers=headers)
    assert field_names(problem(unknown, 422)) == {"token"}
    for malformed in ("", "short", "x" * 19, "x" * 201):
        response = await client.post(RESET, json={"token": malformed, "new_password": NEW_PASSWORD}, headers=headers)
        assert field_names(problem(response, 400, "invalid-input")) == {"token"}, malformed
    assert await user_row(admin_conn) == before
