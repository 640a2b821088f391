"""Accounts over HTTP: registration without enumeration, sign-in and out, ``me``, the session cookie."""

from __future__ import annotations

import time

import pytest
from litestar.testing import AsyncTestClient

from tenantcommerce.app import create_app
from tenantcommerce.auth.mailer import RecordingMailer
from tenantcommerce.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS

PASSWORD = "correct horse battery"
OTHER_PASSWORD = "another fine passphrase"
ANN = "ann@example.com"
SESSION_COOKIE = "tc_session"


def assert_neutral(response, email: str) -> None:
    """A 202 whose body says nothing about the address."""
    assert response.status_code == 202, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"}
    assert body["detail"]
    text = body["detail"].lower()
    assert email.lower() not in text
    for telling in ("already", "exists", "taken", "known", "registered"):
        assert telling not in text, body


# --- registration ---------------------------------------------------------------------------------------------------


async def test_register_answers_202_and_mails_a_welcome(client, register, rows, admin_conn, tc_mailer) -> None:
    response = await register(client, "Ann@Example.com", PASSWORD, name="Ann")
    assert_neutral(response, ANN)
    assert SESSION_COOKIE not in client.cookies  # registering does not sign in
    assert await rows("users") == 1
    user = await admin_conn.fetchrow("SELECT email, name, password_hash, is_operator FROM users")
    assert user["email"] == ANN  # stored lower-case
    assert user["name"] == "Ann"
    assert user["is_operator"] is False
    assert user["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in user["password_hash"]
    welcome = tc_mailer.last(ANN, "welcome")
    assert welcome.to == ANN
    assert [message.kind for message in tc_mailer.outbox] == ["welcome"]


async def test_register_known_email_answers_the_same_and_mails_the_owner(
    client, register, rows, admin_conn, tc_mailer: RecordingMailer
) -> None:
    first = await register(client, ANN, PASSWORD)
    assert_neutral(first, ANN)
    hash_before = await admin_conn.fetchval("SELECT password_hash FROM users WHERE email = $1", ANN)
    tc_mailer.outbox.clear()

    for email, password in ((ANN, OTHER_PASSWORD), ("ANN@example.COM", PASSWORD)):
        again = await register(client, email, password, name="Mallory")
        assert again.status_code == first.status_code
        assert again.content == first.content, "a known e-mail must answer byte for byte like a new one"
        assert again.headers["content-type"] == first.headers["content-type"]
        assert SESSION_COOKIE not in client.cookies

    assert await rows("users") == 1
    user = await admin_conn.fetchrow("SELECT password_hash, name FROM users WHERE email = $1", ANN)
    assert user["password_hash"] == hash_before, "registering again must not replace the password"
    assert user["name"] is None, "registering again must not change the account"
    assert [(message.to, message.kind) for message in tc_mailer.outbox] == [
        (ANN, "account-exists"),
        (ANN, "account-exists"),
    ]


async def test_register_known_email_takes_as_long_as_a_new_one(client, register, production_password_hashing) -> None:
    """The answer for a known address must not come back measurably sooner (a timing oracle for enumeration).

    A new account costs an argon2 hash (~0.2 s with the production parameters); the known-address path has to spend
    comparable time.
    """
    new_times = []
    for index in range(2):
        started = time.perf_counter()
        response = await register(client, f"new{index}@example.com", PASSWORD)
        new_times.append(time.perf_counter() - started)
        assert response.status_code == 202
    known_times = []
    for _ in range(2):
        started = time.perf_counter()
        response = await register(client, "new0@example.com", PASSWORD)
        known_times.append(time.perf_counter() - started)
        assert response.status_code == 202
    assert max(known_times) >= 0.5 * min(new_times), (
        f"registering a known e-mail took {max(known_times):.3f}s, a new one {min(new_times):.3f}s: "
        "the difference tells which addresses have accounts"
    )


# --- sign-in --------------------------------------------------------------------------------------------------------


async def test_login_with_the_right_password_signs_in(client, register, login, rows) -> None:
    assert (await register(client, ANN, PASSWORD, name="Ann")).status_code == 202
    assert await rows("sessions") == 0
    response = await login(client, "ANN@example.com", PASSWORD)  # e-mails compare case-insensitively
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == ANN
    assert body["user"]["name"] == "Ann"
    assert body["user"]["is_operator"] is False
    assert body["stores"] == []
    assert client.cookies.get(SESSION_COOKIE)
    assert await rows("sessions") == 1
    me = await client.get("/api/auth/me")
    assert me.status_code == 200, me.text
    assert me.json() == body


async def test_wrong_password_and_unknown_email_answer_the_same_401(
    client, register, login, rows, admin_conn, problem, cookies
) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    # An account without a password (made by `tenantcommerce stores create --owner-email`) cannot sign in either.
    await admin_conn.execute("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'nopassword@example.com')")

    wrong = await login(client, ANN, "not the password at all")
    problem(wrong, 401, "authentication-required")
    for email, password in (
        ("nobody@example.com", PASSWORD),
        ("nobody@example.com", "not the password at all"),
        ("nopassword@example.com", PASSWORD),
    ):
        other = await login(client, email, password)
        assert other.status_code == wrong.status_code, email
        assert other.content == wrong.content, f"{email}: the 401 must not tell unknown and wrong apart"
    assert cookies.named(wrong, SESSION_COOKIE) is None
    assert SESSION_COOKIE not in client.cookies
    assert await rows("sessions") == 0
    problem(await client.get("/api/auth/me"), 401, "authentication-required")


# --- me -------------------------------------------------------------------------------------------------------------


async def test_me_lists_the_user_and_only_their_stores(
    client, sign_up_and_in, csrf_headers, admin_conn, problem
) -> None:
    problem(await client.get("/api/auth/me"), 401, "authentication-required")
    signed_in = await sign_up_and_in(client, ANN, PASSWORD)
    user_id = signed_in["user"]["id"]
    created = await client.post(
        "/api/stores", json={"slug": "acme", "name": "Acme", "currency": "EUR"}, headers=await csrf_headers(client)
    )
    assert created.status_code == 201, created.text
    # A store Ann works in as staff, with one permission added and one removed, and a store she has nothing to do with.
    other_owner = await admin_conn.fetchval(
        "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'owner@example.com') RETURNING id"
    )
    for slug in ("bravo", "zulu"):
        await admin_conn.execute(
            "INSERT INTO stores (id, owner_user_id, slug, name, currency) "
            "VALUES (gen_random_uuid(), $1, $2, $2, 'USD')",
            other_owner,
            slug,
        )
    await admin_conn.execute(
        """
        INSERT INTO store_members (id, store_id, user_id, role, permissions)
        SELECT gen_random_uuid(), id, $1::uuid, 'staff', '{"orders:refund": true, "inventory:write": false}'::jsonb
        FROM stores WHERE slug = 'bravo'
        """,
        user_id,
    )

    me = await client.get("/api/auth/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"] == {"id": user_id, "email": ANN, "name": None, "is_operator": False}
    staff = (ROLE_PERMISSIONS["staff"] | {"orders:refund"}) - {"inventory:write"}
    assert body["stores"] == [
        {"slug": "acme", "name": "Acme", "role": "owner", "permissions": sorted(PERMISSIONS)},
        {"slug": "bravo", "name": "bravo", "role": "staff", "permissions": sorted(staff)},
    ]


# --- sign-out -------------------------------------------------------------------------------------------------------


async def test_logout_ends_the_session(
    client, sign_up_and_in, csrf_headers, rows, admin_conn, problem, cookies
) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    session_id = client.cookies.get(SESSION_COOKIE)
    assert session_id
    assert await rows("sessions", "session_id = $1", session_id) == 1

    response = await client.post("/api/auth/logout", headers=await csrf_headers(client))
    assert response.status_code == 204, response.text
    cleared = cookies.named(response, SESSION_COOKIE)
    assert cleared is not None, "logout must clear the session cookie"
    value, attributes = cookies.attributes(cleared)
    assert value in ("", "null")
    assert attributes.get("max-age") == "0" or "expires" in attributes
    assert await rows("sessions") == 0, "logout must delete the server-side session"
    problem(await client.get("/api/auth/me"), 401, "authentication-required")

    # The old cookie, replayed (say, copied before the sign-out), signs nobody in and brings no row back.
    client.cookies.set(SESSION_COOKIE, session_id, domain="shop.test")
    problem(await client.get("/api/auth/me"), 401, "authentication-required")
    assert await rows("sessions") == 0

    # Signing out again, anonymous, is harmless.
    assert (await client.post("/api/auth/logout", headers=await csrf_headers(client))).status_code == 204
    assert await rows("sessions") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM users") == 1


# --- the session cookie ---------------------------------------------------------------------------------------------


async def test_session_cookie_attributes(client, register, login, rows, admin_conn, cookies) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    response = await login(client, ANN, PASSWORD)
    assert response.status_code == 200, response.text
    header = cookies.named(response, SESSION_COOKIE)
    assert header is not None, cookies.all(response)
    value, attributes = cookies.attributes(header)
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "lax"
    assert attributes.get("path") == "/"
    assert "domain" not in attributes, "the session cookie must be host-only"
    assert "secure" not in attributes  # plain-http development
    assert cookies.named(response, "__Host-tc_session") is None
    # The value is an opaque id of a server-side row: nothing about the user travels in it.
    user_id = response.json()["user"]["id"]
    assert user_id not in value
    assert "ann" not in value.lower()
    assert len(value) >= 32
    assert await rows("sessions", "session_id = $1", value) == 1

    # The CSRF cookie: host-only too, SameSite=Lax, for every path.
    client.cookies.delete("csrftoken")
    csrf = await client.get("/api/auth/csrf")
    header = cookies.named(csrf, "csrftoken")
    assert header is not None
    _, attributes = cookies.attributes(header)
    assert attributes.get("samesite", "").lower() == "lax"
    assert attributes.get("path") == "/"
    assert "domain" not in attributes


async def test_an_unchanged_session_is_not_written_again(
    client, sign_up_and_in, csrf_headers, admin_conn, cookies
) -> None:
    """Sessions are written only when they change: requests of a signed-in user neither set the cookie again nor
    write the ``sessions`` row (not even its expiry)."""
    await sign_up_and_in(client, ANN, PASSWORD)
    session_id = client.cookies.get(SESSION_COOKIE)

    async def row_version() -> tuple:
        row = await admin_conn.fetchrow(
            "SELECT xmin::text AS version, data, expires_at FROM sessions WHERE session_id = $1", session_id
        )
        assert row is not None
        return tuple(row)

    before = await row_version()
    headers = await csrf_headers(client)
    answers = [
        await client.get("/api/auth/me"),
        await client.get("/api/stores"),
        await client.post("/api/stores", json={"slug": "acme", "name": "Acme"}, headers=headers),
        await client.get("/api/auth/me"),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 201, 200]
    for answer in answers:
        assert cookies.named(answer, SESSION_COOKIE) is None, (answer.request.url, cookies.all(answer))
    after = await row_version()
    assert after == before, f"reading the session wrote its row: {before} -> {after}"


async def test_session_cookie_in_production_is_host_prefixed_and_secure(
    tc_settings, tc_mailer, production_settings, cookies, rows
) -> None:
    settings = production_settings(tc_settings)
    app = create_app(settings, mailer=tc_mailer)
    async with AsyncTestClient(app, base_url=f"https://{settings.base_domain}") as client:
        csrf = await client.get("/api/auth/csrf")
        assert csrf.status_code == 204
        csrf_header = cookies.named(csrf, "csrftoken")
        assert csrf_header is not None
        _, csrf_attributes = cookies.attributes(csrf_header)
        assert "secure" in csrf_attributes, "in production the CSRF cookie must be Secure"
        headers = {"X-CSRFToken": client.cookies["csrftoken"]}
        registered = await client.post("/api/auth/register", json={"email": ANN, "password": PASSWORD}, headers=headers)
        assert registered.status_code == 202, registered.text
        response = await client.post("/api/auth/login", json={"email": ANN, "password": PASSWORD}, headers=headers)
        assert response.status_code == 200, response.text

        assert cookies.named(response, SESSION_COOKIE) is None, "production serves only the __Host- cookie"
        header = cookies.named(response, "__Host-tc_session")
        assert header is not None, cookies.all(response)
        _, attributes = cookies.attributes(header)
        # The __Host- prefix requires Secure, Path=/ and no Domain, or browsers drop the cookie.
        assert "secure" in attributes
        assert "httponly" in attributes
        assert attributes.get("samesite", "").lower() == "lax"
        assert attributes.get("path") == "/"
        assert "domain" not in attributes
        assert await rows("sessions") == 1
        me = await client.get("/api/auth/me")
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == ANN


async def test_sign_in_never_keeps_a_session_id_the_client_brought(
    client, new_client, register, login, rows, problem
) -> None:
    """Session fixation: a live session id planted in a browser before sign-in must not become the victim's session.

    Mallory signs in to her own account and plants her session id in Ann's browser (a sibling subdomain or a
    man-in-the-middle on plain http can set a cookie that is not ``__Host-``). Ann signs in. Mallory's id must not now
    be signed in as Ann.
    """
    mallory = new_client()
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    assert (await register(mallory, "mallory@example.com", OTHER_PASSWORD)).status_code == 202
    assert (await login(mallory, "mallory@example.com", OTHER_PASSWORD)).status_code == 200
    planted = mallory.cookies.get(SESSION_COOKIE)
    assert planted

    client.cookies.set(SESSION_COOKIE, planted, domain="shop.test")
    response = await login(client, ANN, PASSWORD)
    assert response.status_code == 200, response.text
    issued = client.cookies.get(SESSION_COOKIE)
    mallory_me = await mallory.get("/api/auth/me")
    assert not (mallory_me.status_code == 200 and mallory_me.json()["user"]["email"] == ANN), (
        "the planted session id is now signed in as the victim (session fixation)"
    )
    assert issued != planted, "sign-in kept the session id the client brought"

    # Signing in again on a signed-in browser rotates the id too; the previous id no longer signs anybody in.
    again = await login(client, ANN, PASSWORD)
    assert again.status_code == 200
    rotated = client.cookies.get(SESSION_COOKIE)
    assert rotated != issued, "sign-in kept the previous session id"
    assert await rows("sessions", "session_id = $1", issued) == 0
    client.cookies.set(SESSION_COOKIE, issued, domain="shop.test")
    problem(await client.get("/api/auth/me"), 401, "authentication-required")


# --- anonymous visitors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bogus_cookie", [None, "no-such-session-0123456789"])
async def test_anonymous_requests_create_no_session(client, csrf_headers, rows, cookies, problem, bogus_cookie) -> None:
    if bogus_cookie is not None:
        client.cookies.set(SESSION_COOKIE, bogus_cookie, domain="shop.test")
    answers = [await client.get("/api/auth/csrf")]
    headers = await csrf_headers(client)
    answers.append(await client.get("/api/stores"))
    answers.append(await client.get("/api/auth/me"))
    answers.append(await client.post("/api/stores", json={"slug": "acme", "name": "Acme"}, headers=headers))
    answers.append(await client.post("/api/auth/logout", headers=headers))
    answers.append(await client.post("/api/auth/password/reset-request", json={"email": ANN}, headers=headers))
    answers.append(await client.get("/health"))
    answers.append(await client.get("/no/such/route"))
    assert [answer.status_code for answer in answers] == [204, 401, 401, 401, 204, 202, 200, 404]
    for answer in answers[1:4]:
        problem(answer, 401, "authentication-required")
    for answer in answers:
        header = cookies.named(answer, SESSION_COOKIE)
        if header is not None:  # only ever the deletion of a cookie that names no session
            assert bogus_cookie is not None, (answer.request.url, header)
            assert cookies.attributes(header)[0] in ("", "null"), header
    assert await rows("sessions") == 0
    assert await rows("stores") == 0
