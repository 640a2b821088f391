"""The admin discount API over HTTP: create, read, list with filters, update, delete (audited), the permission guards,
and another store's discounts (404, nothing written)."""

from __future__ import annotations

import json
import uuid

import pytest

SLUG = "disc-shop"
SHOP = f"/api/admin/{SLUG}"
DISCOUNTS = f"{SHOP}/discounts"

SUMMER = {
    "code": "  summer-10 ",
    "kind": "percentage",
    "value": 1000,
    "min_subtotal_minor": 5000,
    "starts_at": "2030-01-01T00:00:00Z",
    "ends_at": "2030-02-01T00:00:00+01:00",
    "usage_limit": 100,
}


async def open_store(actor, admin_conn, slug: str = SLUG, currency: str = "EUR"):
    response = await actor.post("/api/stores", {"slug": slug, "name": slug.title(), "currency": currency})
    assert response.status_code == 201, response.text
    return await admin_conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)


@pytest.fixture
async def ann(client, member, admin_conn):
    """Ann, owner of disc-shop (EUR), signed in."""
    ann = await member("ann@disc.test", None)
    ann.store_id = await open_store(ann, admin_conn)
    return ann


async def create(actor, body: dict, url: str = DISCOUNTS) -> dict:
    response = await actor.post(url, body)
    assert response.status_code == 201, response.text
    return response.json()


async def audit_entries(admin_conn, store_id) -> list[tuple[str, str, dict]]:
    rows = await admin_conn.fetch(
        "SELECT action, target_id, changes FROM audit_log WHERE store_id = $1 AND action LIKE 'discount.%'"
        " ORDER BY created_at, id",
        store_id,
    )
    return [(row["action"], row["target_id"], json.loads(row["changes"])) for row in rows]


# --- create, read, list, update, delete --------------------------------------------------------------------------


async def test_create_and_read_each_kind(ann) -> None:
    summer = await create(ann, SUMMER)
    assert summer == {
        "id": summer["id"],
        "code": "SUMMER-10",
        "kind": "percentage",
        "value": 1000,
        "min_subtotal": {"amount_minor": 5000, "currency": "EUR"},
        "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-01-31T23:00:00Z",
        "usage_limit": 100,
        "times_used": 0,
        "active": True,
        "created_at": summer["created_at"],
        "updated_at": summer["updated_at"],
    }
    assert (await ann.get(f"{DISCOUNTS}/{summer['id']}")).json() == summer

    fixed = await create(ann, {"code": "TENOFF", "kind": "fixed_amount", "value": 1000})
    assert (fixed["kind"], fixed["value"], fixed["min_subtotal"]["amount_minor"]) == ("fixed_amount", 1000, 0)
    assert (fixed["starts_at"], fixed["ends_at"], fixed["usage_limit"], fixed["active"]) == (None, None, None, True)
    shipping = await create(ann, {"code": "ship_free", "kind": "free_shipping", "active": False})
    assert (shipping["code"], shipping["value"], shipping["active"]) == ("SHIP_FREE", 0, False)
    zero = await create(ann, {"code": "SHIP2", "kind": "free_shipping", "value": 0})
    assert zero["value"] == 0


async def test_list_filters_and_pages(ann) -> None:
    made = [
        await create(ann, SUMMER),
        await create(ann, {"code": "TENOFF", "kind": "fixed_amount", "value": 1000}),
        await create(ann, {"code": "SHIP_FREE", "kind": "free_shipping", "active": False}),
    ]
    listed = (await ann.get(DISCOUNTS)).json()
    assert (listed["limit"], listed["offset"], listed["total"]) == (24, 0, 3)
    assert [item["code"] for item in listed["items"]] == ["SHIP_FREE", "TENOFF", "SUMMER-10"]  # newest first
    assert listed["items"][2] == made[0]

    async def codes(**params) -> list[str]:
        response = await ann.get(DISCOUNTS, params=params)
        assert response.status_code == 200, response.text
        return [item["code"] for item in response.json()["items"]]

    assert await codes(active="true") == ["TENOFF", "SUMMER-10"]
    assert await codes(active="false") == ["SHIP_FREE"]
    assert await codes(q="summer") == ["SUMMER-10"]
    assert await codes(q="OFF") == ["TENOFF"]
    assert await codes(q="_") == ["SHIP_FREE"], "_ is a character, not a wildcard"
    assert await codes(q="%") == []
    assert await codes(q="e", active="true") == ["TENOFF", "SUMMER-10"]
    assert await codes(limit="1", offset="1") == ["TENOFF"]
    page = (await ann.get(DISCOUNTS, params={"limit": "2", "offset": "2"})).json()
    assert (page["total"], len(page["items"])) == (3, 1)


async def test_update_changes_only_what_is_sent_and_null_clears(ann) -> None:
    summer = await create(ann, SUMMER)
    url = f"{DISCOUNTS}/{summer['id']}"

    response = await ann.patch(url, {"code": " summer-15", "value": 1500, "active": False})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["code"], updated["value"], updated["active"]) == ("SUMMER-15", 1500, False)
    assert updated["usage_limit"] == 100
    assert updated["starts_at"] == summer["starts_at"]

    response = await ann.patch(url, {"usage_limit": None, "starts_at": None, "ends_at": None})
    assert response.status_code == 200, response.text
    cleared = response.json()
    assert (cleared["usage_limit"], cleared["starts_at"], cleared["ends_at"]) == (None, None, None)
    assert (cleared["code"], cleared["value"]) == ("SUMMER-15", 1500)

    # The same kind may be sent back; the minimum and the dates change.
    response = await ann.patch(
        url, {"kind": "percentage", "min_subtotal_minor": 0, "ends_at": "2031-01-01T00:00:00Z", "active": True}
    )
    assert response.status_code == 200, response.text
    assert response.json()["min_subtotal"] == {"amount_minor": 0, "currency": "EUR"}
    assert response.json()["ends_at"] == "2031-01-01T00:00:00Z"
    assert (await ann.get(url)).json() == response.json()


async def test_delete_an_unused_discount(ann, rows_of) -> None:
    summer = await create(ann, SUMMER)
    url = f"{DISCOUNTS}/{summer['id']}"
    response = await ann.delete(url)
    assert response.status_code == 204, response.text
    assert (await ann.get(url)).status_code == 404
    assert (await ann.delete(url)).status_code == 404
    assert await rows_of("discounts", ann.store_id) == 0
    # The code is free again.
    assert (await create(ann, SUMMER))["code"] == "SUMMER-10"


async def test_a_used_discount_cannot_be_deleted_deactivate_it_instead(ann, admin_conn, problem, snapshot) -> None:
    summer = await create(ann, SUMMER)
    await admin_conn.execute("UPDATE discounts SET times_used = 2 WHERE id = $1", uuid.UUID(summer["id"]))
    before = await snapshot(ann.store_id)
    body = problem(await ann.delete(f"{DISCOUNTS}/{summer['id']}"), 409, "conflict")
    assert "deactivate" in body["detail"]
    assert await snapshot(ann.store_id) == before
    deactivated = await ann.patch(f"{DISCOUNTS}/{summer['id']}", {"active": False})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["times_used"] == 2


async def test_create_update_and_delete_are_audited(ann, admin_conn) -> None:
    summer = await create(ann, SUMMER)
    fixed = await create(ann, {"code": "TENOFF", "kind": "fixed_amount", "value": 1000})
    assert (await ann.patch(f"{DISCOUNTS}/{fixed['id']}", {"value": 1200, "code": "TWELVE"})).status_code == 200
    # A change to nothing is no change: not audited.
    assert (await ann.patch(f"{DISCOUNTS}/{fixed['id']}", {"value": 1200, "kind": "fixed_amount"})).status_code == 200
    assert (await ann.delete(f"{DISCOUNTS}/{summer['id']}")).status_code == 204

    entries = await audit_entries(admin_conn, ann.store_id)
    assert [(action, target) for action, target, _ in entries] == [
        ("discount.created", summer["id"]),
        ("discount.created", fixed["id"]),
        ("discount.updated", fixed["id"]),
        ("discount.deleted", summer["id"]),
    ]
    assert entries[0][2] == {
        "code": "SUMMER-10",
        "kind": "percentage",
        "value": 1000,
        "min_subtotal_minor": 5000,
        "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-01-31T23:00:00Z",
        "usage_limit": 100,
        "active": True,
    }
    assert entries[2][2] == {"code": {"from": "TENOFF", "to": "TWELVE"}, "value": {"from": 1000, "to": 1200}}
    assert entries[3][2]["code"] == "SUMMER-10"
    actors = await admin_conn.fetch(
        "SELECT DISTINCT actor_user_id FROM audit_log WHERE store_id = $1 AND action LIKE 'discount.%'", ann.store_id
    )
    assert [row["actor_user_id"] for row in actors] == [ann.user_id]
    # The audit API shows them too.
    logged = (await ann.get(f"{SHOP}/audit")).json()["items"]
    assert [entry["action"] for entry in logged if entry["action"].startswith("discount.")][:2] == [
        "discount.deleted",
        "discount.updated",
    ]


# --- permissions ---------------------------------------------------------------------------------------------------


async def test_staff_and_viewers_read_but_cannot_write(ann, member, problem, snapshot) -> None:
    summer = await create(ann, SUMMER)
    url = f"{DISCOUNTS}/{summer['id']}"
    for role in ("staff", "viewer"):
        actor = await member(f"{role}@disc.test", ann.store_id, role)
        assert (await actor.get(DISCOUNTS)).json()["total"] == 1
        assert (await actor.get(url)).json() == summer
        before = await snapshot(ann.store_id)
        for method, path, body in [
            ("POST", DISCOUNTS, {"code": "MINE", "kind": "percentage", "value": 10_000}),
            ("PATCH", url, {"value": 10_000}),
            ("DELETE", url, None),
        ]:
            answer = problem(await actor.send(method, path, body), 403, "permission-denied")
            assert "discounts:write" in answer["detail"], (role, method)
        assert await snapshot(ann.store_id) == before, f"a refused {role} wrote something"


async def test_the_guard_checks_the_permission_not_the_role(ann, member, admin_conn) -> None:
    staff = await member("staff@disc.test", ann.store_id, "staff")
    await admin_conn.execute(
        "UPDATE store_members SET permissions = '{\"discounts:write\": true}'::jsonb WHERE user_id = $1",
        staff.user_id,
    )
    assert (await staff.post(DISCOUNTS, {"code": "STAFFS", "kind": "free_shipping"})).status_code == 201
    admin = await member("admin@disc.test", ann.store_id, "admin")
    await admin_conn.execute(
        "UPDATE store_members SET permissions = '{\"discounts:read\": false}'::jsonb WHERE user_id = $1",
        admin.user_id,
    )
    assert (await admin.get(DISCOUNTS)).status_code == 403


async def test_a_token_carries_only_its_permissions(ann, bearer, problem) -> None:
    made = await ann.post(f"{SHOP}/tokens", {"name": "reader", "permissions": ["discounts:read"]})
    assert made.status_code in (200, 201), made.text
    reader = bearer(made.json()["token"])
    assert (await reader.get(DISCOUNTS)).status_code == 200
    problem(await reader.post(DISCOUNTS, {"code": "TOKEN", "kind": "free_shipping"}), 403, "permission-denied")


async def test_strangers_and_anonymous_callers_learn_nothing(ann, member, new_client, problem) -> None:
    summer = await create(ann, SUMMER)
    stranger = await member("stranger@disc.test", None)
    for method, path, body in [
        ("GET", DISCOUNTS, None),
        ("GET", f"{DISCOUNTS}/{summer['id']}", None),
        ("POST", DISCOUNTS, {"code": "X", "kind": "free_shipping"}),
        ("PATCH", f"{DISCOUNTS}/{summer['id']}", {"active": False}),
        ("DELETE", f"{DISCOUNTS}/{summer['id']}", None),
    ]:
        problem(await stranger.send(method, path, body), 404, "not-found")
    problem(await new_client().get(DISCOUNTS), 401, "authentication-required")
    assert (await ann.get(f"{DISCOUNTS}/{summer['id']}")).json()["active"] is True


# --- another store's discounts ------------------------------------------------------------------------------------


@pytest.fixture
async def bravo_discount(two_stores, tc_database):
    """A discount of store bravo (USD), made through the service as the runtime role."""
    from tenantcommerce.discounts.schemas import DiscountInput
    from tenantcommerce.discounts.services import create_discount
    from tenantcommerce.tenancy.context import use_store

    with use_store(two_stores.b.store):
        async with tc_database.session() as session:
            made = await create_discount(
                session, DiscountInput(code="BRAVO", kind="fixed_amount", value=500), None, request_id=None
            )
    return made


async def test_another_stores_discount_answers_404_like_a_missing_one(
    two_stores, bravo_discount, member, problem, snapshot
) -> None:
    alpha = two_stores.a
    ann = await member("ann@alpha.test", alpha.id, "owner")
    alpha_url = f"/api/admin/{alpha.slug}/discounts"
    before = {store.id: await snapshot(store.id) for store in (two_stores.a, two_stores.b)}

    answers = {}
    for label, discount_id in (("bravo's", bravo_discount.id), ("random", uuid.uuid4())):
        url = f"{alpha_url}/{discount_id}"
        for method, body in (("GET", None), ("PATCH", {"active": False, "value": 1}), ("DELETE", None)):
            answer = problem(await ann.send(method, url, body), 404, "not-found")
            assert "errors" not in answer
            answers.setdefault(method, {})[label] = (answer["title"], answer["detail"])
    for method, by_label in answers.items():
        assert by_label["bravo's"] == by_label["random"], method
    assert (await ann.get(alpha_url)).json()["total"] == 0
    # Ann is no member of bravo: its admin answers 404 too.
    problem(await ann.get(f"/api/admin/{two_stores.b.slug}/discounts"), 404)
    problem(await ann.get(f"/api/admin/{two_stores.b.slug}/discounts/{bravo_discount.id}"), 404)

    assert {store.id: await snapshot(store.id) for store in (two_stores.a, two_stores.b)} == before
    # Codes are unique per store: alpha may have its own BRAVO.
    mine = await create(ann, {"code": "bravo", "kind": "percentage", "value": 500}, alpha_url)
    assert mine["id"] != str(bravo_discount.id)
