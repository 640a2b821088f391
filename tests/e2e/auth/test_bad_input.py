"""Bad input on every ``/api/auth`` endpoint: a 4xx problem+json naming the field, never a 500, nothing written.

Each test sends every case to one endpoint and reports all the cases that went wrong at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple tiger orbit 42"
ANN = "ann@example.com"
PROBLEM_PREFIX = "urn:tenantcommerce:problem:"
MISSING = object()

MALFORMED_EMAILS = [
    "",
    "plain",
    "ann@",
    "@example.com",
    "ann@example",
    "ann@@example.com",
    "ann @example.com",
    "ann@exa mple.com",
    " ",
    "a" * 65 + "@example.com",  # local part over 64
    "ann@" + "e" * 320 + ".com",  # over 320 in all
    "ann@example.com\x00",
    "ann\x00@example.com",
]
WRONG_TYPES = [123, 1.5, True, [], {}, ["ann@example.com"]]


@dataclass
class Case:
    """One bad request: its JSON body (or raw bytes), the field ``errors`` must name, the statuses that are right."""

    label: str
    body: Any
    field: str | None
    statuses: frozenset[int] = frozenset({400})
    raw: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Endpoint:
    path: str
    good: dict[str, Any]
    string_fields: dict[str, int]  # field -> a length over its bound
    optional: set[str] = field(default_factory=set)
    email_fields: set[str] = field(default_factory=set)
    password_fields: set[str] = field(default_factory=set)  # new passwords, checked against the rules


def cases_for(endpoint: Endpoint) -> list[Case]:
    good = endpoint.good
    cases: list[Case] = []
    for name in good:
        if name not in endpoint.optional:
            cases.append(Case(f"missing {name}", {k: v for k, v in good.items() if k != name}, name))
        for value in WRONG_TYPES:
            cases.append(Case(f"{name}={value!r}", {**good, name: value}, name))
        if name not in endpoint.optional:
            cases.append(Case(f"{name}=null", {**good, name: None}, name))
        cases.append(Case(f"{name} oversized", {**good, name: "x" * endpoint.string_fields[name]}, name))
    for name in endpoint.email_fields:
        for email in MALFORMED_EMAILS:
            cases.append(Case(f"{name}={email[:40]!r}", {**good, name: email}, name, frozenset({400, 422})))
    for name in endpoint.password_fields:
        for weak in ("short", "aaaaaaaaaaaa", "abababababab", "          x"):
            cases.append(Case(f"weak {name} {weak!r}", {**good, name: weak}, name, frozenset({422})))
    for extra in ({"is_operator": True}, {"role": "owner"}, {"session_epoch": 0}, {"Email": ANN}):
        (name,) = extra
        cases.append(Case(f"unknown field {name}", {**good, **extra}, name))
    for raw in (b"[]", b"null", b'"text"', b"42", b"{", b"", b'{"email": ', b"\xff\xfe", b"{}" * 1000):
        cases.append(Case(f"raw body {raw[:12]!r}", None, None, raw=raw))
    cases.append(
        Case(
            "form body",
            None,
            None,
            frozenset({400, 415}),
            raw=b"email=a",
            content_type="application/x-www-form-urlencoded",
        )
    )
    return cases


def what_is_wrong(response, case: Case) -> str | None:
    """Why ``response`` is not a right answer to ``case`` (``None`` when it is)."""
    if response.status_code not in case.statuses:
        return f"{response.status_code} (wanted {sorted(case.statuses)}): {response.text[:300]}"
    if response.headers.get("content-type", "").split(";")[0].strip() != "application/problem+json":
        return f"content-type {response.headers.get('content-type')!r}"
    body = response.json()
    if not str(body.get("type", "")).startswith(PROBLEM_PREFIX) or not body.get("detail"):
        return f"not a tenantcommerce problem: {body}"
    if body.get("status") != response.status_code:
        return f"status {body.get('status')} in a {response.status_code} answer"
    if response.status_code in (400, 422):
        errors = body.get("errors") or []
        if not errors:
            return f"no errors list: {body}"
        if case.field is not None:
            named = {str(error.get("field")) for error in errors}
            if not any(name == case.field or name.rsplit(".", 1)[-1] == case.field for name in named):
                return f"errors name {sorted(named)}, not {case.field!r}"
    return None


async def send_all(client, endpoint: Endpoint, headers: dict[str, str], cookies) -> list[str]:
    failures = []
    for case in cases_for(endpoint):
        if case.raw is not None:
            response = await client.post(
                endpoint.path, content=case.raw, headers={**headers, "content-type": case.content_type}
            )
        else:
            response = await client.post(endpoint.path, json=case.body, headers=headers)
        problem = what_is_wrong(response, case)
        if problem is not None:
            failures.append(f"{endpoint.path} {case.label}: {problem}")
        if cookies.named(response, "tc_session") is not None:
            failures.append(f"{endpoint.path} {case.label}: the answer set a session cookie")
    return failures


async def snapshot(admin_conn) -> dict[str, Any]:
    return {
        "users": await admin_conn.fetch("SELECT id, email, name, password_hash, session_epoch FROM users ORDER BY id"),
        "sessions": await admin_conn.fetch("SELECT session_id, data FROM sessions ORDER BY session_id"),
        "resets": await admin_conn.fetchval("SELECT count(*) FROM password_reset_tokens"),
    }


def report(failures: list[str]) -> str:
    return f"{len(failures)} bad answers:\n" + "\n".join(failures)


async def test_register_bad_input(client, register, csrf_headers, admin_conn, tc_mailer, cookies) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202  # a known address, to compare with
    tc_mailer.outbox.clear()
    before = await snapshot(admin_conn)
    endpoint = Endpoint(
        "/api/auth/register",
        {"email": "new@example.com", "password": PASSWORD, "name": "New"},
        {"email": 2000, "password": 2000, "name": 201},
        optional={"name"},
        email_fields={"email"},
        password_fields={"password"},
    )
    failures = await send_all(client, endpoint, await csrf_headers(client), cookies)
    # The password may not be the address or its local part.
    headers = await csrf_headers(client)
    for email, password in (
        ("annabelle.smith@example.com", "Annabelle.Smith"),
        ("longer.name@example.com", "longer.name@example.com"),
    ):
        response = await client.post("/api/auth/register", json={"email": email, "password": password}, headers=headers)
        wrong = what_is_wrong(response, Case("password is the address", None, "password", frozenset({422})))
        if wrong:
            failures.append(f"password is the address {email}: {wrong}")
    # A weak password answers the same for a known and an unknown address.
    for weak in ("short", "aaaaaaaaaaaa"):
        known = await client.post("/api/auth/register", json={"email": ANN, "password": weak}, headers=headers)
        unknown = await client.post(
            "/api/auth/register", json={"email": "nobody@example.com", "password": weak}, headers=headers
        )
        if (known.status_code, known.content) != (unknown.status_code, unknown.content):
            failures.append(f"weak password {weak!r}: a known address answers differently: {known.text}")
    if await snapshot(admin_conn) != before:
        failures.append("bad input wrote something")
    if tc_mailer.outbox:
        failures.append(f"bad input sent mail: {tc_mailer.outbox}")
    assert not failures, report(failures)


async def test_login_bad_input(client, register, csrf_headers, admin_conn, cookies) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    before = await snapshot(admin_conn)
    endpoint = Endpoint(
        "/api/auth/login",
        {"email": ANN, "password": PASSWORD},
        {"email": 2000, "password": 2000},
        email_fields={"email"},
    )
    failures = await send_all(client, endpoint, await csrf_headers(client), cookies)
    if await snapshot(admin_conn) != before:
        failures.append("bad input wrote something")
    if (await client.get("/api/auth/me")).status_code != 401:
        failures.append("bad input signed somebody in")
    assert not failures, report(failures)


async def test_password_change_bad_input(client, sign_up_and_in, csrf_headers, admin_conn, cookies) -> None:
    await sign_up_and_in(client, ANN, PASSWORD)
    before = await snapshot(admin_conn)
    endpoint = Endpoint(
        "/api/auth/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        {"current_password": 2000, "new_password": 2000},
        password_fields={"new_password"},
    )
    failures = await send_all(client, endpoint, await csrf_headers(client), cookies)
    if await snapshot(admin_conn) != before:
        failures.append("bad input wrote something")
    if (await client.get("/api/auth/me")).status_code != 200:
        failures.append("bad input signed the user out")
    assert not failures, report(failures)


async def test_reset_request_bad_input(client, register, csrf_headers, admin_conn, tc_mailer, cookies) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    tc_mailer.outbox.clear()
    before = await snapshot(admin_conn)
    endpoint = Endpoint("/api/auth/password/reset-request", {"email": ANN}, {"email": 2000}, email_fields={"email"})
    failures = await send_all(client, endpoint, await csrf_headers(client), cookies)
    if await snapshot(admin_conn) != before:
        failures.append("bad input wrote something")
    if tc_mailer.outbox:
        failures.append(f"bad input sent mail: {tc_mailer.outbox}")
    assert not failures, report(failures)


async def test_reset_bad_input(client, register, csrf_headers, admin_conn, tc_mailer, cookies) -> None:
    assert (await register(client, ANN, PASSWORD)).status_code == 202
    headers = await csrf_headers(client)
    assert (
        await client.post("/api/auth/password/reset-request", json={"email": ANN}, headers=headers)
    ).status_code == 202
    message = tc_mailer.last(ANN, "password-reset")
    token = message.body.rsplit("Reset token: ", 1)[1].strip()
    before = await snapshot(admin_conn)
    endpoint = Endpoint(
        "/api/auth/password/reset",
        {"token": token, "new_password": NEW_PASSWORD},
        {"token": 201, "new_password": 2000},
        password_fields={"new_password"},
    )
    failures = await send_all(client, endpoint, headers, cookies)
    for short in ("", "x", "y" * 19):
        response = await client.post(
            "/api/auth/password/reset", json={"token": short, "new_password": NEW_PASSWORD}, headers=headers
        )
        wrong = what_is_wrong(response, Case("short token", None, "token"))
        if wrong:
            failures.append(f"token {short!r}: {wrong}")
    if await snapshot(admin_conn) != before:
        failures.append("bad input wrote something (or used the token up)")
    # The token survived all of it.
    response = await client.post(
        "/api/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}, headers=headers
    )
    if response.status_code != 204:
        failures.append(f"the token no longer works after the bad input: {response.text}")
    assert not failures, report(failures)


async def test_logout_and_csrf_ignore_a_body(client, csrf_headers, admin_conn, cookies) -> None:
    """Endpoints without a body do not choke on one (no 500), and write nothing."""
    headers = await csrf_headers(client)
    before = await snapshot(admin_conn)
    for raw in (b"{", b'{"everywhere": true}', b"\xff"):
        response = await client.post(
            "/api/auth/logout", content=raw, headers={**headers, "content-type": "application/json"}
        )
        assert response.status_code < 500, response.text
        assert response.status_code in (204, 400), response.text
    assert await snapshot(admin_conn) == before
