"""Members over HTTP: invitations (mailed, single use, revocable, addressed to one person), roles and overrides,
the rules about owners, and the audit log of every change (actor, action, request id)."""

from __future__ import annotations

import asyncio
import datetime
import hashlib

import pytest

from tenantcommerce.auth.permissions import PERMISSIONS

SLUG = "mem-shop"
SHOP = f"/api/admin/{SLUG}"
MEMBERS = f"{SHOP}/members"
INVITATIONS = f"{MEMBERS}/invitations"
ACCEPT = "/api/auth/invitations/accept"
STAFF_PERMISSIONS = sorted(
    {
        "products:read",
        "products:write",
        "inventory:write",
        "orders:read",
        "orders:fulfill",
        "customers:read",
        "discounts:read",
    }
)


def fields_of(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


def invitation_token(mailer, to: str) -> str:
    """The token of the newest invitation mail to ``to`` (its last line reads ``Invitation token: <token>``)."""
    message = mailer.last(to, "invitation")
    last_line = message.body.strip().splitlines()[-1]
    prefix = "Invitation token: "
    assert last_line.startswith(prefix), message.body
    token = last_line[len(prefix) :].strip()
    assert len(token) >= 20
    return token


async def audit_entries(actor) -> list[dict]:
    response = await actor.get(f"{SHOP}/audit", params={"limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def entry_for(entries: list[dict], response) -> dict:
    """The one audit entry written by the request that got ``response``."""
    request_id = response.headers["x-request-id"]
    found = [entry for entry in entries if entry["request_id"] == request_id]
    assert len(found) == 1, f"{len(found)} audit entries for request {request_id}: {entries}"
    return found[0]


@pytest.fixture
async def ann(client, staff, open_store):
    """Ann, who opened mem-shop (its only owner), signed in."""
    ann = await staff("ann@mem.test")
    ann.store_id = await open_store(ann, SLUG)
    return ann


@pytest.fixture
async def sam(ann, staff):
    """Sam, staff of mem-shop."""
    return await staff("sam@mem.test", ann.store_id, "staff")


@pytest.fixture
async def eve(ann, staff):
    """Eve, admin of mem-shop."""
    return await staff("eve@mem.test", ann.store_id, "admin")


async def test_an_invited_person_accepts_and_becomes_a_member_with_the_role(
    ann, new_client, sign_up_and_in, csrf_headers, tc_mailer, admin_conn, problem
) -> None:
    invited = await ann.post(INVITATIONS, {"email": "Cat@Mem.Test", "role": "staff"})
    assert invited.status_code in (200, 201), invited.text
    invitation = invited.json()
    assert invitation["email"] == "cat@mem.test"
    assert invitation["role"] == "staff"
    assert invitation["accepted_at"] is None
    assert invitation["revoked_at"] is None
    expires = datetime.datetime.fromisoformat(invitation["expires_at"])
    now = datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(days=6, hours=23) < expires - now <= datetime.timedelta(days=7)

    token = invitation_token(tc_mailer, "cat@mem.test")
    assert token not in invited.text
    listed = await ann.get(INVITATIONS)
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [invitation["id"]]
    assert token not in listed.text
    stored = await admin_conn.fetchrow("SELECT token_hash, t::text AS whole FROM store_invitations t")
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored["whole"]

    cat = new_client()
    await sign_up_and_in(cat, "cat@mem.test")
    headers = await csrf_headers(cat)
    problem(await cat.get(f"{SHOP}/products"), 404)  # not a member yet

    accepted = await cat.post(ACCEPT, json={"token": token}, headers=headers)
    assert accepted.status_code in (200, 201), accepted.text
    assert accepted.json()["stores"] == [
        {"slug": SLUG, "name": "Mem Shop", "role": "staff", "permissions": STAFF_PERMISSIONS}
    ]
    assert (await cat.get(f"{SHOP}/products")).status_code == 200
    problem(await cat.get(f"{SHOP}/settings"), 403)

    members = (await ann.get(MEMBERS)).json()["items"]
    assert [(member["email"], member["role"]) for member in members] == [
        ("ann@mem.test", "owner"),
        ("cat@mem.test", "staff"),
    ]
    [listed_invitation] = (await ann.get(INVITATIONS)).json()["items"]
    assert listed_invitation["accepted_at"] is not None

    # Single use: the same token again is refused, and changes nothing.
    again = problem(await cat.post(ACCEPT, json={"token": token}, headers=headers), 422)
    assert fields_of(again) == ["token"]
    assert await admin_conn.fetchval("SELECT count(*) FROM store_members") == 2


async def test_accepting_with_another_account_is_refused(
    ann, staff, sign_in, make_user, tc_mailer, rows, problem
) -> None:
    await ann.post(INVITATIONS, {"email": "cat@mem.test", "role": "admin"})
    token = invitation_token(tc_mailer, "cat@mem.test")
    dan = await staff("dan@mem.test")

    body = problem(await dan.post(ACCEPT, {"token": token}), 422)
    assert fields_of(body) == ["token"]
    assert "cat@mem.test" not in body["detail"], "the answer does not say to whom the invitation was addressed"
    assert await rows("store_members", "user_id = $1", dan.user_id) == 0
    problem(await dan.get(f"{SHOP}/products"), 404)

    # The invitation still stands for the one it was addressed to.
    await make_user("cat@mem.test")
    cat = await sign_in("cat@mem.test")
    accepted = await cat.post(ACCEPT, {"token": token})
    assert accepted.status_code in (200, 201), accepted.text
    assert accepted.json()["stores"][0]["role"] == "admin"


async def test_revoked_expired_and_unknown_invitations_are_refused(
    ann, make_user, sign_in, tc_mailer, admin_conn, rows, problem
) -> None:
    invited = await ann.post(INVITATIONS, {"email": "cat@mem.test", "role": "staff"})
    revoked_token = invitation_token(tc_mailer, "cat@mem.test")
    revoked = await ann.delete(f"{INVITATIONS}/{invited.json()['id']}")
    assert revoked.status_code == 204, revoked.text
    [listed] = (await ann.get(INVITATIONS)).json()["items"]
    assert listed["revoked_at"] is not None

    await ann.post(INVITATIONS, {"email": "cat@mem.test", "role": "viewer"})
    expired_token = invitation_token(tc_mailer, "cat@mem.test")
    assert expired_token != revoked_token
    await admin_conn.execute(
        "UPDATE store_invitations SET expires_at = now() - interval '1 second' WHERE role = 'viewer'"
    )

    await make_user("cat@mem.test")
    cat = await sign_in("cat@mem.test")
    for token in (
        revoked_token,
        expired_token,
        "A" * 43,
        revoked_token[:-1] + ("A" if revoked_token[-1] != "A" else "B"),
    ):
        body = problem(await cat.post(ACCEPT, {"token": token}), 422)
        assert fields_of(body) == ["token"]
    assert await rows("store_members") == 1  # Ann alone

    # Revoking an unknown invitation, or again, answers 404 and 204.
    problem(await ann.delete(f"{INVITATIONS}/00000000-0000-0000-0000-000000000000"), 404)
    assert (await ann.delete(f"{INVITATIONS}/{invited.json()['id']}")).status_code == 204


async def test_inviting_an_existing_member_is_a_conflict(ann, sam, tc_mailer, rows, problem) -> None:
    for email in ("sam@mem.test", "SAM@mem.test", "ann@mem.test"):
        body = problem(await ann.post(INVITATIONS, {"email": email, "role": "viewer"}), 409, "conflict")
        assert fields_of(body) == ["email"]
    assert await rows("store_invitations") == 0
    assert [message for message in tc_mailer.outbox if message.kind == "invitation"] == []


async def test_owners_change_roles_and_overrides(ann, sam, rows, problem) -> None:
    url = f"{MEMBERS}/{sam.user_id}"
    promoted = await ann.patch(url, {"role": "admin"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "admin"
    assert promoted.json()["permissions"] == sorted(PERMISSIONS)
    assert (await sam.get(f"{SHOP}/settings")).status_code == 200

    changed = await ann.patch(url, {"role": "viewer", "permissions": {"orders:refund": True, "products:read": False}})
    assert changed.status_code == 200, changed.text
    member = changed.json()
    assert member["role"] == "viewer"
    assert member["overrides"] == {"orders:refund": True, "products:read": False}
    assert member["permissions"] == ["customers:read", "discounts:read", "orders:read", "orders:refund"]
    problem(await sam.get(f"{SHOP}/products"), 403)
    listed = {m["email"]: m for m in (await ann.get(MEMBERS)).json()["items"]}
    assert listed["sam@mem.test"] == member

    # Unknown permissions in overrides are refused by name; nothing changes.
    body = problem(await ann.patch(url, {"permissions": {"products:delete": True}}), 422)
    assert fields_of(body) == ["permissions.products:delete"]
    assert {m["email"]: m for m in (await ann.get(MEMBERS)).json()["items"]}["sam@mem.test"] == member

    # An empty change is fine and changes nothing.
    same = await ann.patch(url, {})
    assert same.status_code == 200, same.text
    assert same.json() == member

    # Members of nobody, or of another store, are 404.
    problem(await ann.patch(f"{MEMBERS}/00000000-0000-0000-0000-000000000000", {"role": "staff"}), 404)


async def test_an_admin_cannot_make_change_or_remove_owners(ann, sam, eve, store_snapshot, changed, problem) -> None:
    before = await store_snapshot(ann.store_id)
    attempts = [
        ("PATCH", f"{MEMBERS}/{sam.user_id}", {"role": "owner"}),
        ("PATCH", f"{MEMBERS}/{eve.user_id}", {"role": "owner"}),
        ("POST", INVITATIONS, {"email": "newowner@mem.test", "role": "owner"}),
        ("PATCH", f"{MEMBERS}/{ann.user_id}", {"role": "admin"}),
        ("PATCH", f"{MEMBERS}/{ann.user_id}", {"role": "viewer"}),
        ("PATCH", f"{MEMBERS}/{ann.user_id}", {"permissions": {"members:manage": False}}),
        ("DELETE", f"{MEMBERS}/{ann.user_id}", None),
    ]
    for method, path, body in attempts:
        answer = problem(await eve.send(method, path, body), 403, "permission-denied")
        assert "owner" in answer["detail"], (method, path, answer)
    assert changed(before, await store_snapshot(ann.store_id)) == []

    # Admins do manage everyone else.
    demoted = await eve.patch(f"{MEMBERS}/{sam.user_id}", {"role": "viewer"})
    assert demoted.status_code == 200, demoted.text
    invited = await eve.post(INVITATIONS, {"email": "helper@mem.test", "role": "admin"})
    assert invited.status_code in (200, 201), invited.text
    removed = await eve.delete(f"{MEMBERS}/{sam.user_id}")
    assert removed.status_code == 204, removed.text
    problem(await sam.get(f"{SHOP}/products"), 404)  # gone: as if the store's admin did not exist


async def test_nobody_gives_a_permission_they_do_not_hold(ann, sam, staff, store_snapshot, changed, problem) -> None:
    """A staff member trusted with ``members:manage`` manages staff, but cannot hand out (to others or to themselves)
    any permission they lack: not by override, not by a role, not by an invitation."""
    granted = await ann.patch(f"{MEMBERS}/{sam.user_id}", {"permissions": {"members:manage": True}})
    assert granted.status_code == 200, granted.text
    vic = await staff("vic@mem.test", ann.store_id, "staff")
    before = await store_snapshot(ann.store_id)
    refused = [
        (f"{MEMBERS}/{sam.user_id}", {"permissions": {"members:manage": True, "settings:write": True}},
         ["permissions.settings:write"]),
        (f"{MEMBERS}/{sam.user_id}", {"role": "admin"}, None),
        (f"{MEMBERS}/{vic.user_id}", {"role": "admin"}, None),
        (f"{MEMBERS}/{vic.user_id}", {"permissions": {"orders:refund": True}}, ["permissions.orders:refund"]),
    ]  # fmt: skip
    for path, body, fields in refused:
        answer = problem(await sam.patch(path, body), 422)
        assert "you can give only permissions you hold" in answer["detail"], (body, answer)
        assert set(fields_of(answer)) == set(fields or ["role"]), (body, answer)
    answer = problem(await sam.post(INVITATIONS, {"email": "admin@mem.test", "role": "admin"}), 422)
    assert set(fields_of(answer)) == {"role"}
    assert changed(before, await store_snapshot(ann.store_id)) == []

    # Within what sam holds, and taking away, are fine.
    taken = await sam.patch(f"{MEMBERS}/{vic.user_id}", {"permissions": {"orders:fulfill": False}})
    assert taken.status_code == 200, taken.text
    assert "orders:fulfill" not in taken.json()["permissions"]
    given_back = await sam.patch(f"{MEMBERS}/{vic.user_id}", {"permissions": {}})
    assert "orders:fulfill" in given_back.json()["permissions"]
    for role in ("staff", "viewer"):
        invited = await sam.post(INVITATIONS, {"email": f"{role}@mem.test", "role": role})
        assert invited.status_code in (200, 201), invited.text
    # The owner holds everything, so the owner may.
    assert (await ann.patch(f"{MEMBERS}/{vic.user_id}", {"role": "admin"})).status_code == 200


async def test_the_last_owner_can_be_neither_demoted_nor_removed(ann, store_snapshot, changed, problem) -> None:
    before = await store_snapshot(ann.store_id)
    for role in ("admin", "staff", "viewer"):
        body = problem(await ann.patch(f"{MEMBERS}/{ann.user_id}", {"role": role}), 422)
        assert fields_of(body) == ["role"]
    problem(await ann.delete(f"{MEMBERS}/{ann.user_id}"), 422)
    assert changed(before, await store_snapshot(ann.store_id)) == []
    [me] = (await ann.get(MEMBERS)).json()["items"]
    assert me["role"] == "owner"


async def test_the_last_owner_cannot_lock_the_store_with_overrides(ann, sam, store_snapshot, changed, problem) -> None:
    """Taking ``members:manage`` from the only owner would leave nobody able to manage the store (nor to undo it):
    like demoting the last owner, it is refused."""
    before = await store_snapshot(ann.store_id)
    response = await ann.patch(f"{MEMBERS}/{ann.user_id}", {"permissions": {"members:manage": False}})
    problem(response, 422)
    assert changed(before, await store_snapshot(ann.store_id)) == []
    assert (await ann.patch(f"{MEMBERS}/{sam.user_id}", {"role": "viewer"})).status_code == 200


async def test_concurrent_demotions_of_two_owners_leave_an_owner(ann, eve) -> None:
    """Each owner demotes the other at the same time: the owner rows are locked, so one of them stays owner."""
    assert (await ann.patch(f"{MEMBERS}/{eve.user_id}", {"role": "owner"})).status_code == 200
    first, second = await asyncio.gather(
        ann.patch(f"{MEMBERS}/{eve.user_id}", {"role": "admin"}),
        eve.patch(f"{MEMBERS}/{ann.user_id}", {"role": "admin"}),
    )
    assert sorted([first.status_code, second.status_code])[0] == 200, (first.text, second.text)
    assert {first.status_code, second.status_code} <= {200, 403, 422}, (first.text, second.text)
    roles = [member["role"] for member in (await ann.get(MEMBERS)).json()["items"]]
    assert roles.count("owner") == 1, roles


async def test_with_two_owners_one_can_remove_the_other(ann, eve, problem) -> None:
    promoted = await ann.patch(f"{MEMBERS}/{eve.user_id}", {"role": "owner"})
    assert promoted.status_code == 200, promoted.text

    removed = await eve.delete(f"{MEMBERS}/{ann.user_id}")
    assert removed.status_code == 204, removed.text
    problem(await ann.get(f"{SHOP}/products"), 404)
    assert [(m["email"], m["role"]) for m in (await eve.get(MEMBERS)).json()["items"]] == [("eve@mem.test", "owner")]

    # Eve is now the last owner.
    problem(await eve.patch(f"{MEMBERS}/{eve.user_id}", {"role": "admin"}), 422)
    problem(await eve.delete(f"{MEMBERS}/{eve.user_id}"), 422)


async def test_with_two_owners_an_owner_may_step_down(ann, eve, problem) -> None:
    assert (await ann.patch(f"{MEMBERS}/{eve.user_id}", {"role": "owner"})).status_code == 200
    stepped_down = await ann.patch(f"{MEMBERS}/{ann.user_id}", {"role": "admin"})
    assert stepped_down.status_code == 200, stepped_down.text
    # Now an admin, Ann can no longer touch Eve, the last owner.
    problem(await ann.patch(f"{MEMBERS}/{eve.user_id}", {"role": "admin"}), 403)
    problem(await eve.patch(f"{MEMBERS}/{eve.user_id}", {"role": "admin"}), 422)


async def test_every_member_change_is_audited_with_actor_action_and_request_id(ann, sam, eve, tc_mailer) -> None:
    invited = await ann.post(
        INVITATIONS, {"email": "cat@mem.test", "role": "viewer"}, headers={"X-Request-ID": "req-invite-1"}
    )
    assert invited.headers["x-request-id"] == "req-invite-1"
    revoked = await ann.delete(f"{INVITATIONS}/{invited.json()['id']}")
    role = await ann.patch(f"{MEMBERS}/{sam.user_id}", {"role": "viewer"})
    overrides = await eve.patch(f"{MEMBERS}/{sam.user_id}", {"permissions": {"orders:refund": True}})
    removed = await eve.delete(f"{MEMBERS}/{sam.user_id}")
    for response in (invited, revoked, role, overrides, removed):
        assert response.status_code < 300, response.text

    entries = await audit_entries(ann)
    expected = [
        (invited, ann, "member.invited", invited.json()["id"]),
        (revoked, ann, "invitation.revoked", invited.json()["id"]),
        (role, ann, "member.updated", str(sam.user_id)),
        (overrides, eve, "member.updated", str(sam.user_id)),
        (removed, eve, "member.removed", str(sam.user_id)),
    ]
    for response, actor, action, target in expected:
        entry = entry_for(entries, response)
        assert entry["action"] == action
        assert entry["actor_user_id"] == str(actor.user_id)
        assert entry["actor_token_id"] is None
        assert entry["target_id"] == target
        assert entry["created_at"]
    assert entry_for(entries, invited)["changes"] == {"email": "cat@mem.test", "role": "viewer"}
    assert entry_for(entries, role)["changes"] == {"role": {"from": "staff", "to": "viewer"}}
    assert entry_for(entries, overrides)["changes"] == {"permissions": {"from": {}, "to": {"orders:refund": True}}}
    assert entry_for(entries, removed)["changes"] == {"email": "sam@mem.test", "role": "viewer"}
    # Newest first.
    order = [entry["request_id"] for entry in entries]
    ids = [r.headers["x-request-id"] for r in (removed, overrides, role, revoked, invited)]
    assert [request_id for request_id in order if request_id in ids] == ids
    # Refused attempts and empty changes write nothing.
    await eve.patch(f"{MEMBERS}/{ann.user_id}", {"role": "viewer"})
    await ann.patch(f"{MEMBERS}/{eve.user_id}", {})
    assert len(await audit_entries(ann)) == len(entries)


async def test_changes_made_with_a_token_name_the_token_in_the_audit_log(ann, sam, make_token, bearer) -> None:
    created = await ann.post(f"{SHOP}/tokens", {"name": "hr-bot", "permissions": ["members:manage"]})
    token_id = created.json()["details"]["id"]
    bot = bearer(created.json()["token"])
    changed = await bot.patch(f"{MEMBERS}/{sam.user_id}", {"role": "viewer"})
    assert changed.status_code == 200, changed.text
    entry = entry_for(await audit_entries(ann), changed)
    assert entry["action"] == "member.updated"
    assert entry["actor_user_id"] == str(ann.user_id)
    assert entry["actor_token_id"] == token_id


async def test_joining_by_invitation_is_audited(ann, make_user, sign_in, tc_mailer) -> None:
    """Accepting adds a member: the store's audit log records it (who joined, in which request)."""
    await ann.post(INVITATIONS, {"email": "cat@mem.test", "role": "staff"})
    await make_user("cat@mem.test")
    cat = await sign_in("cat@mem.test")
    accepted = await cat.post(ACCEPT, {"token": invitation_token(tc_mailer, "cat@mem.test")})
    assert accepted.status_code in (200, 201), accepted.text

    entries = await audit_entries(ann)
    joined = [entry for entry in entries if entry["request_id"] == accepted.headers["x-request-id"]]
    assert len(joined) == 1, f"no audit entry for the request that added cat: {[e['action'] for e in entries]}"
    assert joined[0]["actor_user_id"] == str(cat.user_id)
    assert joined[0]["target_id"] == str(cat.user_id)
    assert joined[0]["changes"].get("role") == "staff", joined[0]
