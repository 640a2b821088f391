"""The permission matrix: every role against every permission, the jsonb overrides, and the same over HTTP.

The expected table is written out here on purpose: a change to ``ROLE_PERMISSIONS`` (or a new permission) fails
these tests until the table here, and the documented one, are updated with it.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tenantcommerce.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS, ROLES, permissions_for

ALL = frozenset(
    {
        "products:read",
        "products:write",
        "inventory:write",
        "orders:read",
        "orders:fulfill",
        "orders:refund",
        "customers:read",
        "discounts:read",
        "discounts:write",
        "settings:read",
        "settings:write",
        "members:read",
        "members:manage",
        "plugins:manage",
        "tokens:manage",
        "audit:read",
    }
)
EXPECTED: dict[str, frozenset[str]] = {
    "owner": ALL,
    "admin": ALL,
    "staff": frozenset(
        {
            "products:read",
            "products:write",
            "inventory:write",
            "orders:read",
            "orders:fulfill",
            "customers:read",
            "discounts:read",
        }
    ),
    "viewer": frozenset({"products:read", "orders:read", "customers:read", "discounts:read"}),
}


# --- unit level ----------------------------------------------------------------------------------------------------


def test_the_permissions_and_roles_are_the_documented_ones() -> None:
    assert set(PERMISSIONS) == ALL
    assert len(PERMISSIONS) == len(ALL), "a permission is listed twice"
    assert ROLES == ("owner", "admin", "staff", "viewer")
    assert set(ROLE_PERMISSIONS) == set(ROLES)


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "viewer"])
def test_each_role_grants_exactly_the_documented_set(role: str) -> None:
    assert permissions_for(role) == EXPECTED[role]
    assert permissions_for(role, {}) == EXPECTED[role]
    assert permissions_for(role, None) == EXPECTED[role]
    assert ROLE_PERMISSIONS[role] == EXPECTED[role]


@pytest.mark.parametrize("permission", sorted(ALL))
@pytest.mark.parametrize("role", ["owner", "admin", "staff", "viewer"])
def test_matrix_cell(role: str, permission: str) -> None:
    assert (permission in permissions_for(role)) is (permission in EXPECTED[role])


def test_the_documented_table_is_the_one_in_force() -> None:
    """docs/auth.md has the permission table; it must say what the code does (and what this file expects)."""
    text = (Path(__file__).parents[3] / "docs" / "auth.md").read_text(encoding="utf-8")
    header = "| permission | owner | admin | staff | viewer |"
    assert header in text, "docs/auth.md lost its permission table"
    documented: dict[str, set[str]] = {role: set() for role in EXPECTED}
    listed = []
    for line in text[text.index(header) :].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        permission = cells[0].strip("`")
        listed.append(permission)
        for role, cell in zip(EXPECTED, cells[1:5], strict=True):
            assert cell in ("✓", "\u2013"), (permission, role, cell)  # a check mark or an en dash
            if cell == "✓":
                documented[role].add(permission)
    assert listed == list(PERMISSIONS), "the table lists every permission, in order"
    assert documented == {role: set(permissions) for role, permissions in EXPECTED.items()}


def test_unknown_role_grants_nothing() -> None:
    assert permissions_for("superuser") == frozenset()
    assert permissions_for("") == frozenset()
    assert permissions_for("Owner") == frozenset(), "role names are exact"
    # An override still adds to nothing: the result is exactly the granted permission.
    assert permissions_for("nobody", {"products:read": True}) == {"products:read"}


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "viewer"])
@pytest.mark.parametrize("permission", sorted(ALL))
def test_an_override_adds_or_removes_exactly_one_permission(role: str, permission: str) -> None:
    assert permissions_for(role, {permission: True}) == EXPECTED[role] | {permission}
    assert permissions_for(role, {permission: False}) == EXPECTED[role] - {permission}


def test_overrides_combine_and_leave_the_role_table_alone() -> None:
    overrides = {"products:write": True, "orders:refund": True, "products:read": False, "customers:read": False}
    assert permissions_for("viewer", overrides) == {"products:write", "orders:refund", "orders:read", "discounts:read"}
    assert permissions_for("owner", {"settings:write": False, "members:manage": False}) == ALL - {
        "settings:write",
        "members:manage",
    }
    # The role's own set is not changed by computing someone's overrides.
    assert permissions_for("viewer") == EXPECTED["viewer"]
    assert ROLE_PERMISSIONS["owner"] == ALL


def test_unknown_override_names_are_ignored() -> None:
    overrides = {"products:delete": True, "everything": True, "*": True, "": True, "PRODUCTS:WRITE": True}
    for role in ROLES:
        assert permissions_for(role, overrides) == EXPECTED[role]
    assert permissions_for("viewer", {"products:delete": True, "products:write": True}) == EXPECTED["viewer"] | {
        "products:write"
    }
    assert permissions_for("owner", {"products:delete": False}) == ALL


def test_only_true_and_false_count_as_overrides() -> None:
    # JSON from the database could hold anything: only the booleans mean grant or revoke.
    for value in (1, "true", "yes", [], {}, None, 0, "false"):
        assert permissions_for("viewer", {"products:write": value}) == EXPECTED["viewer"], value
        assert permissions_for("owner", {"products:write": value}) == ALL, value


# --- over HTTP -----------------------------------------------------------------------------------------------------

SLUG = "perm-shop"
SHOP = f"/api/admin/{SLUG}"


@pytest.fixture
async def team(client, staff, open_store, make_user, add_member, sign_in):
    """Store perm-shop with an owner (who opened it), an admin, a staff member and a viewer, all signed in."""
    owner = await staff("owner@perm.test")
    store_id = await open_store(owner, SLUG)
    members = {"owner": owner}
    for role in ("admin", "staff", "viewer"):
        members[role] = await staff(f"{role}@perm.test", store_id, role)
    return members


def probe_of(route) -> tuple[str, str, dict | None]:
    """A request to ``route`` that its guard answers (403) or, once past the guard, that changes nothing:
    random ids (404 for a missing row) and a body with an unknown field (400)."""
    values = {name: str(uuid.uuid4()) for name in route.params}
    body = {"__probe__": 1} if route.has_body else None
    return route.method, route.url(SLUG, values), body


async def test_every_role_against_every_admin_route_follows_the_table(team, admin_routes, problem) -> None:
    """Each admin route's guard lets exactly the roles whose permissions include the route's through.

    The routes come from the app, so a route added later is in the matrix too.
    """
    assert len(admin_routes) >= 20
    failures = []
    for route in admin_routes:
        if re.match(r"^/api/admin/\{slug(?::[a-z]+)?\}/plugins/[a-z0-9-]+/", route.path):
            continue  # mounted by a plugin: 404 until the store enables it (tests/e2e/plugins covers these guards)
        assert route.permissions, f"{route.method} {route.path} has no permission guard"
        method, url, body = probe_of(route)
        for role, actor in team.items():
            allowed = set(route.permissions) <= EXPECTED[role]
            response = await actor.send(method, url, body)
            if allowed and response.status_code in (401, 403, 500):
                failures.append(f"{role} {method} {url}: {response.status_code} {response.text[:200]}")
            if not allowed:
                if response.status_code != 403:
                    failures.append(f"{role} {method} {url}: {response.status_code}, wanted 403")
                    continue
                body_403 = problem(response, 403, "permission-denied")
                if not any(permission in body_403["detail"] for permission in route.permissions):
                    failures.append(f"{role} {method} {url}: 403 does not name {route.permissions}")
    assert not failures, "\n".join(failures)


async def test_staff_is_refused_settings_tokens_and_members_but_writes_products(
    team, problem, rows, store_snapshot, admin_conn
) -> None:
    staff, viewer = team["staff"], team["viewer"]
    store_id = await admin_conn.fetchval("SELECT id FROM stores WHERE slug = $1", SLUG)
    before = await store_snapshot(store_id)

    refused = [
        ("PATCH", f"{SHOP}/settings", {"name": "Taken over"}, "settings:write"),
        ("GET", f"{SHOP}/settings", None, "settings:read"),
        ("GET", f"{SHOP}/tokens", None, "tokens:manage"),
        ("POST", f"{SHOP}/tokens", {"name": "mine", "permissions": ["products:read"]}, "tokens:manage"),
        ("GET", f"{SHOP}/members", None, "members:read"),
        ("PATCH", f"{SHOP}/members/{staff.user_id}", {"role": "admin"}, "members:manage"),
        ("DELETE", f"{SHOP}/members/{viewer.user_id}", None, "members:manage"),
        ("POST", f"{SHOP}/members/invitations", {"email": "friend@perm.test", "role": "admin"}, "members:manage"),
        ("GET", f"{SHOP}/audit", None, "audit:read"),
    ]
    for method, path, body, permission in refused:
        answer = problem(await staff.send(method, path, body), 403, "permission-denied")
        assert permission in answer["detail"], (method, path, answer)
    assert await store_snapshot(store_id) == before, "a refused request wrote something"

    created = await staff.post(f"{SHOP}/products", {"name": "Staff made", "slug": "staff-made"})
    assert created.status_code == 201, created.text
    listed = await staff.get(f"{SHOP}/products")
    assert listed.status_code == 200, listed.text
    assert [item["slug"] for item in listed.json()["items"]] == ["staff-made"]
    assert await rows("products", "store_id = $1", store_id) == 1


async def test_viewer_reads_products_but_cannot_create_them(team, problem, rows) -> None:
    viewer = team["viewer"]
    assert (await viewer.get(f"{SHOP}/products")).status_code == 200
    answer = problem(await viewer.post(f"{SHOP}/products", {"name": "Nope", "slug": "nope"}), 403, "permission-denied")
    assert "products:write" in answer["detail"]
    assert await rows("products") == 0


async def test_overrides_grant_and_revoke_single_permissions_over_http(team, problem, rows) -> None:
    owner, viewer = team["owner"], team["viewer"]
    member_url = f"{SHOP}/members/{viewer.user_id}"

    problem(await viewer.post(f"{SHOP}/products", {"name": "Tee", "slug": "tee"}), 403, "permission-denied")

    granted = await owner.patch(member_url, {"permissions": {"products:write": True}})
    assert granted.status_code == 200, granted.text
    assert granted.json()["role"] == "viewer"
    assert granted.json()["overrides"] == {"products:write": True}
    assert set(granted.json()["permissions"]) == EXPECTED["viewer"] | {"products:write"}

    created = await viewer.post(f"{SHOP}/products", {"name": "Tee", "slug": "tee"})
    assert created.status_code == 201, created.text
    assert await rows("products") == 1
    # Only that one permission: the rest of a viewer's limits stand.
    problem(await viewer.patch(f"{SHOP}/settings", {"name": "Mine"}), 403, "permission-denied")
    problem(await viewer.post(f"{SHOP}/inventory/adjustments", {}), 403, "permission-denied")

    revoked = await owner.patch(member_url, {"permissions": {"products:read": False}})
    assert revoked.status_code == 200, revoked.text
    assert set(revoked.json()["permissions"]) == EXPECTED["viewer"] - {"products:read"}
    answer = problem(await viewer.get(f"{SHOP}/products"), 403, "permission-denied")
    assert "products:read" in answer["detail"]
    problem(await viewer.get(f"{SHOP}/products/{created.json()['id']}"), 403, "permission-denied")
    problem(await viewer.get(f"{SHOP}/inventory/adjustments"), 403, "permission-denied")
    # The new overrides replaced the old ones: products:write is gone again.
    problem(await viewer.post(f"{SHOP}/products", {"name": "Cap", "slug": "cap"}), 403, "permission-denied")

    # What /api/auth/me and /api/stores report follows the overrides too.
    mine = await viewer.get("/api/stores")
    assert mine.status_code == 200, mine.text
    [membership] = mine.json()
    assert set(membership["permissions"]) == EXPECTED["viewer"] - {"products:read"}


async def test_an_override_can_take_a_permission_from_an_owner(team, problem) -> None:
    owner, admin = team["owner"], team["admin"]
    # Owners manage owners; the admin here is an ordinary member whose settings:write an owner takes away.
    response = await owner.patch(f"{SHOP}/members/{admin.user_id}", {"permissions": {"settings:write": False}})
    assert response.status_code == 200, response.text
    problem(await admin.patch(f"{SHOP}/settings", {"name": "Renamed"}), 403, "permission-denied")
    assert (await admin.get(f"{SHOP}/settings")).status_code == 200
    assert (await owner.patch(f"{SHOP}/settings", {"name": "Renamed"})).status_code == 200
