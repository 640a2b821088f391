"""Storefront customers over HTTP: sign up, in and out on one store; no enumeration; guests linked; many stores."""

from __future__ import annotations

from uuid import UUID

from uuid_utils.compat import uuid7

PASSWORD = "correct horse battery"
OTHER_PASSWORD = "another fine passphrase"
SESSION_COOKIE = "tc_session"


def session_cookie_header(response) -> str | None:
    """The raw ``Set-Cookie`` header for the session cookie, if the answer sets it."""
    found = [h for h in response.headers.get_list("set-cookie") if h.split("=", 1)[0].strip() == SESSION_COOKIE]
    assert len(found) <= 1, found
    return found[0] if found else None


async def insert_guest(admin_conn, store_id: UUID, email: str, name: str | None = None) -> UUID:
    """A guest of a store: a ``store_customers`` row with no account (``user_id`` NULL), as the superuser."""
    guest_id = uuid7()
    await admin_conn.execute(
        "INSERT INTO store_customers (store_id, id, user_id, email, name) VALUES ($1, $2, NULL, $3, $4)",
        store_id,
        guest_id,
        email,
        name,
    )
    return guest_id


async def customer_rows(admin_conn, email: str):
    return await admin_conn.fetch(
        "SELECT store_id, id, user_id, email, name FROM store_customers WHERE email = $1 ORDER BY store_id", email
    )


# --- register, sign in, me, sign out ----------------------------------------------------------------------------


async def test_register_login_me_logout(client, two_stores, register, login, rows, admin_conn, tc_mailer, problem):
    a = two_stores.a
    email = "carla@example.com"

    registered = await register(client, a.slug, "Carla@Example.com", PASSWORD, name="Carla")
    assert registered.status_code == 202, registered.text
    assert set(registered.json()) == {"detail"}
    assert session_cookie_header(registered) is None, "registering does not sign in"
    assert SESSION_COOKIE not in client.cookies

    user = await admin_conn.fetchrow("SELECT id, email, name, password_hash FROM users WHERE email = $1", email)
    assert user is not None, "the address is stored lower-case"
    assert user["name"] == "Carla"
    assert user["password_hash"].startswith("$argon2id$")
    [row] = await customer_rows(admin_conn, email)
    assert (row["store_id"], row["user_id"], row["name"]) == (a.id, user["id"], "Carla")
    assert [(m.to, m.kind) for m in tc_mailer.outbox] == [(email, "welcome")]

    signed_in = await login(client, a.slug, "CARLA@example.com", PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json() == {"id": str(row["id"]), "email": email, "name": "Carla"}
    cookie = session_cookie_header(signed_in)
    assert cookie is not None
    attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes, "the session cookie is host-only"
    assert "samesite=lax" in cookie.lower()
    assert await rows("sessions") == 1

    me = await client.get(f"/api/storefront/{a.slug}/customers/me")
    assert me.status_code == 200, me.text
    assert me.json() == signed_in.json()

    headers = {"X-CSRFToken": client.cookies["csrftoken"]}
    out = await client.post(f"/api/storefront/{a.slug}/customers/logout", headers=headers)
    assert out.status_code == 204, out.text
    assert await rows("sessions") == 0, "signing out deletes the server-side session"

    problem(await client.get(f"/api/storefront/{a.slug}/customers/me"), 401, "authentication-required")


async def test_sign_in_rotates_the_session_id(client, two_stores, sign_up_and_in, login, admin_conn, rows) -> None:
    a = two_stores.a
    await sign_up_and_in(client, a.slug, "dora@example.com")
    first = client.cookies[SESSION_COOKIE]
    again = await login(client, a.slug, "dora@example.com")
    assert again.status_code == 200, again.text
    second = client.cookies[SESSION_COOKIE]
    assert second != first, "a sign-in must give the session a new id (no fixation)"
    assert await rows("sessions") == 1, "the old session row is gone"
    assert await rows("sessions", "session_id = $1", first) == 0


async def test_wrong_password_and_unknown_email_answer_alike(client, two_stores, register, login, problem) -> None:
    a = two_stores.a
    assert (await register(client, a.slug, "eve@example.com")).status_code == 202
    wrong = await login(client, a.slug, "eve@example.com", OTHER_PASSWORD)
    unknown = await login(client, a.slug, "nobody@example.com", OTHER_PASSWORD)
    for response in (wrong, unknown):
        problem(response, 401, "authentication-required")
        assert session_cookie_header(response) is None
    assert wrong.content == unknown.content


async def test_weak_password_is_refused_and_writes_nothing(client, two_stores, register, rows, problem) -> None:
    a = two_stores.a
    users_before = await rows("users")
    body = problem(await register(client, a.slug, "fay@example.com", "short"), 422, "unprocessable")
    assert body["errors"][0]["field"] == "password"
    assert await rows("users") == users_before
    assert await rows("store_customers", "email = $1", "fay@example.com") == 0


# --- no enumeration -----------------------------------------------------------------------------------------------


async def test_register_known_email_answers_like_a_new_one(
    client, two_stores, register, register_platform, rows, admin_conn, tc_mailer
) -> None:
    a = two_stores.a
    first = await register(client, a.slug, "gus@example.com", PASSWORD, name="Gus")
    assert first.status_code == 202, first.text
    before = await admin_conn.fetchrow("SELECT id, password_hash, name FROM users WHERE email = $1", "gus@example.com")
    users_before = await rows("users")
    tc_mailer.outbox.clear()

    # The same address again (other case, other password, other name), and an address known from the platform.
    assert (await register_platform(client, "hank@example.com")).status_code == 202
    hank_hash = await admin_conn.fetchval("SELECT password_hash FROM users WHERE email = $1", "hank@example.com")
    users_before += 1
    tc_mailer.outbox.clear()
    for email in ("gus@example.com", "GUS@Example.COM", "hank@example.com"):
        again = await register(client, a.slug, email, OTHER_PASSWORD, name="Mallory")
        assert again.status_code == first.status_code
        assert again.content == first.content, "a known e-mail must answer byte for byte like a new one"
        assert again.headers["content-type"] == first.headers["content-type"]
        assert session_cookie_header(again) is None

    assert await rows("users") == users_before, "no second user"
    after = await admin_conn.fetchrow("SELECT id, password_hash, name FROM users WHERE email = $1", "gus@example.com")
    assert dict(after) == dict(before), "registering again must not change the account"
    hank_after = await admin_conn.fetchval("SELECT password_hash FROM users WHERE email = $1", "hank@example.com")
    assert hank_after == hank_hash
    assert await rows("store_customers", "email = $1", "gus@example.com") == 1
    assert await rows("store_customers", "email = $1", "hank@example.com") == 0, (
        "registering someone else's address must not make them a customer of the store"
    )
    assert [(m.to, m.kind) for m in tc_mailer.outbox] == [
        ("gus@example.com", "account-exists"),
        ("gus@example.com", "account-exists"),
        ("hank@example.com", "account-exists"),
    ]


# --- guests -------------------------------------------------------------------------------------------------------


async def test_guest_row_is_linked_at_sign_in(client, two_stores, register_platform, login, admin_conn, rows) -> None:
    a, b = two_stores.a, two_stores.b
    email = "gail@example.com"
    guest_a = await insert_guest(admin_conn, a.id, email, "Gail (guest)")
    guest_b = await insert_guest(admin_conn, b.id, email)
    assert (await register_platform(client, email)).status_code == 202
    user_id = await admin_conn.fetchval("SELECT id FROM users WHERE email = $1", email)

    signed_in = await login(client, a.slug, email)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["id"] == str(guest_a), "the guest's record becomes the customer's"
    rows_now = {row["store_id"]: row for row in await customer_rows(admin_conn, email)}
    assert len(rows_now) == 2, "no second row in store A"
    assert rows_now[a.id]["id"] == guest_a
    assert rows_now[a.id]["user_id"] == user_id
    assert rows_now[a.id]["name"] == "Gail (guest)"
    assert rows_now[b.id]["id"] == guest_b
    assert rows_now[b.id]["user_id"] is None, "signing in at store A links nothing in store B"
    me = await client.get(f"/api/storefront/{a.slug}/customers/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(guest_a)
    assert await rows("store_customers", "store_id = $1", a.id) == 1


async def test_guest_row_is_linked_at_registration(client, two_stores, register, login, admin_conn) -> None:
    a = two_stores.a
    guest = await insert_guest(admin_conn, a.id, "hal@example.com")
    assert (await register(client, a.slug, "Hal@Example.com", PASSWORD, name="Hal")).status_code == 202
    user_id = await admin_conn.fetchval("SELECT id FROM users WHERE email = $1", "hal@example.com")
    [row] = await customer_rows(admin_conn, "hal@example.com")
    assert (row["id"], row["user_id"]) == (guest, user_id)
    signed_in = await login(client, a.slug, "hal@example.com")
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["id"] == str(guest)


# --- one account, many stores -------------------------------------------------------------------------------------


async def test_one_account_is_a_customer_of_two_stores(
    client, new_client, two_stores, sign_up_and_in, login, admin_conn, rows
) -> None:
    a, b = two_stores.a, two_stores.b
    email = "ivy@example.com"
    at_a = await sign_up_and_in(client, a.slug, email)
    other = new_client()
    at_b = await login(other, b.slug, email)
    assert at_b.status_code == 200, at_b.text

    assert await rows("users", "email = $1", email) == 1
    user_id = await admin_conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    records = await customer_rows(admin_conn, email)
    assert len(records) == 2
    assert {row["store_id"] for row in records} == {a.id, b.id}
    assert {row["user_id"] for row in records} == {user_id}
    by_store = {row["store_id"]: str(row["id"]) for row in records}
    assert by_store[a.id] != by_store[b.id], "each store has its own customer record"
    assert at_a["id"] == by_store[a.id]
    assert at_b.json()["id"] == by_store[b.id]

    me_a = await client.get(f"/api/storefront/{a.slug}/customers/me")
    me_b = await other.get(f"/api/storefront/{b.slug}/customers/me")
    assert (me_a.status_code, me_b.status_code) == (200, 200)
    assert me_a.json()["id"] == by_store[a.id]
    assert me_b.json()["id"] == by_store[b.id]

    # Signing in again at a store it already knows adds no row.
    assert (await login(other, b.slug, email)).status_code == 200
    assert await rows("store_customers", "email = $1", email) == 2


async def test_logout_expires_the_cookie(client, two_stores, sign_up_and_in, csrf_headers) -> None:
    a = two_stores.a
    await sign_up_and_in(client, a.slug, "kai@example.com")
    out = await client.post(f"/api/storefront/{a.slug}/customers/logout", headers=await csrf_headers(client))
    assert out.status_code == 204
    cookie = session_cookie_header(out)
    assert cookie is not None, "signing out clears the cookie"
    attributes = {}
    for part in cookie.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value
    assert attributes.get("max-age") in (None, "0"), f"the clearing cookie must expire at once: {cookie}"
