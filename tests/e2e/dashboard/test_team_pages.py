"""Members and invitations, API tokens, the audit log."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from tenantcommerce.auth.permissions import PERMISSIONS as ALL_PERMISSIONS
from tenantcommerce.auth.permissions import ROLE_PERMISSIONS

STAFF_DEFAULTS = sorted(ROLE_PERMISSIONS["staff"])

pytestmark = pytest.mark.asyncio


async def test_invite_change_role_and_remove(
    shop: Any, member: Callable[..., Awaitable[Any]], db: asyncpg.Connection, tc_mailer: Any
) -> None:
    staff = await member(shop.id, "staff@alpha.test", "staff")
    await staff.get("/admin/login")  # a fresh token; the member stays signed in
    page = await shop.owner.get(shop.url("members"))
    assert page.status_code == 200
    assert "staff@alpha.test" in page.text
    assert "owner@alpha.test" in page.text
    invited = await shop.owner.submit(shop.url("members/invitations"), {"email": "new@alpha.test", "role": "viewer"})
    assert invited.status_code == 303, invited.text
    assert await db.fetchval("SELECT count(*) FROM store_invitations WHERE store_id = $1", shop.id) == 1
    listing = await shop.owner.get(invited.headers["location"])
    assert "Invitation sent." in listing.text
    assert "new@alpha.test" in listing.text
    bad = await shop.owner.submit(shop.url("members/invitations"), {"email": "nope", "role": "viewer"})
    assert bad.status_code == 400
    assert 'id="email-error"' in bad.text
    staff_id = await db.fetchval("SELECT id FROM users WHERE email = 'staff@alpha.test'")
    changed = await shop.owner.submit(shop.url(f"members/{staff_id}/role"), {"role": "admin"})
    assert changed.status_code == 303, changed.text
    assert await db.fetchval("SELECT role FROM store_members WHERE user_id = $1", staff_id) == "admin"
    owner_id = await db.fetchval("SELECT id FROM users WHERE email = 'owner@alpha.test'")
    last_owner = await shop.owner.submit(shop.url(f"members/{owner_id}/role"), {"role": "viewer"})
    assert last_owner.status_code == 422
    assert f'id="member-{owner_id}-error"' in last_owner.text
    removed = await shop.owner.submit(shop.url(f"members/{staff_id}/remove"))
    assert removed.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM store_members WHERE user_id = $1", staff_id) == 0


async def test_member_permissions_are_overrides_of_the_role(
    shop: Any, member: Callable[..., Awaitable[Any]], db: asyncpg.Connection
) -> None:
    staff = await member(shop.id, "staff@alpha.test", "staff")
    staff_id = await db.fetchval("SELECT id FROM users WHERE email = 'staff@alpha.test'")
    assert (await staff.get(shop.url("members"))).status_code == 403
    assert (await staff.get(shop.url("products/new"))).status_code == 200
    listing = await shop.owner.get(shop.url("members"))
    assert f'href="/admin/{shop.slug}/members/{staff_id}"' in listing.text
    page = await shop.owner.get(shop.url(f"members/{staff_id}"))
    assert page.status_code == 200
    assert 'value="products:write" checked' in page.text
    assert 'value="members:read">' in page.text
    assert "Save permissions" in page.text

    audited = await db.fetchval("SELECT count(*) FROM audit_log WHERE store_id = $1", shop.id)
    chosen = [name for name in STAFF_DEFAULTS if name != "products:write"] + ["members:read"]
    saved = await shop.owner.client.post(
        shop.url(f"members/{staff_id}/permissions"),
        data={"_csrf_token": shop.owner.token, "permissions": chosen},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    overrides = await db.fetchval("SELECT permissions FROM store_members WHERE user_id = $1", staff_id)
    assert json.loads(overrides) == {"members:read": True, "products:write": False}
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE store_id = $1", shop.id) == audited + 1
    shown = await shop.owner.get(saved.headers["location"])
    assert "Permissions saved." in shown.text
    assert "taken away" in shown.text
    assert "added" in shown.text
    # The server applies them at once: the member reads the staff list now, and may no longer create products.
    read_only = await staff.get(shop.url(f"members/{staff_id}"))
    assert read_only.status_code == 200
    assert 'value="members:read" checked disabled' in read_only.text
    assert "Save permissions" not in read_only.text
    assert (
        await staff.submit(shop.url(f"members/{staff_id}/permissions"), {"permissions": "orders:refund"})
    ).status_code == 403
    assert (await staff.get(shop.url("products/new"))).status_code == 403
    assert (await staff.submit(shop.url("products"), {"name": "Sneaky"})).status_code == 403

    # Saving the same choice again changes nothing and records nothing.
    again = await shop.owner.client.post(
        shop.url(f"members/{staff_id}/permissions"),
        data={"_csrf_token": shop.owner.token, "permissions": chosen},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE store_id = $1", shop.id) == audited + 1


async def test_bad_permission_changes_are_refused_and_change_nothing(shop: Any, db: asyncpg.Connection) -> None:
    owner_id = await db.fetchval("SELECT id FROM users WHERE email = 'owner@alpha.test'")
    before = await db.fetchval("SELECT permissions FROM store_members WHERE user_id = $1", owner_id)
    everything_but_members = [name for name in ALL_PERMISSIONS if name != "members:manage"]
    last_owner = await shop.owner.client.post(
        shop.url(f"members/{owner_id}/permissions"),
        data={"_csrf_token": shop.owner.token, "permissions": everything_but_members},
        follow_redirects=False,
    )
    assert last_owner.status_code == 422, last_owner.text
    assert 'id="perm-members:manage-error"' in last_owner.text
    assert 'aria-describedby="perm-members:manage-error"' in last_owner.text
    assert 'value="members:manage" aria-invalid="true"' in last_owner.text, "the form keeps what was submitted"
    unknown = await shop.owner.client.post(
        shop.url(f"members/{owner_id}/permissions"),
        data={"_csrf_token": shop.owner.token, "permissions": [*ALL_PERMISSIONS, "bogus:power"]},
        follow_redirects=False,
    )
    assert unknown.status_code == 422
    assert "unknown permissions: bogus:power" in unknown.text
    assert await db.fetchval("SELECT permissions FROM store_members WHERE user_id = $1", owner_id) == before
    stranger = await shop.owner.get(shop.url(f"members/{uuid.uuid4()}"))
    assert stranger.status_code == 404
    nobody = await shop.owner.submit(shop.url(f"members/{uuid.uuid4()}/permissions"), {"permissions": "orders:read"})
    assert nobody.status_code == 404


async def test_tokens_are_created_shown_once_and_revoked(shop: Any, db: asyncpg.Connection) -> None:
    page = await shop.owner.get(shop.url("tokens"))
    assert page.status_code == 200
    assert "No tokens yet." in page.text
    no_permissions = await shop.owner.submit(shop.url("tokens"), {"name": "ci"})
    assert no_permissions.status_code == 400
    assert 'id="permissions-error"' in no_permissions.text
    created = await shop.owner.client.post(
        shop.url("tokens"),
        data={"_csrf_token": shop.owner.token, "name": "ci", "permissions": ["orders:read", "products:read"]},
        follow_redirects=False,
    )
    assert created.status_code == 201, created.text
    secret = re.search(r'id="new-token" readonly value="(tc_[^"]+)"', created.text)
    assert secret
    api = await shop.owner.client.get(
        f"/api/admin/{shop.slug}/orders", headers={"Authorization": f"Bearer {secret.group(1)}"}
    )
    assert api.status_code == 200
    again = await shop.owner.get(shop.url("tokens"))
    assert secret.group(1) not in again.text
    token_id = await db.fetchval("SELECT id FROM api_tokens WHERE store_id = $1", shop.id)
    revoked = await shop.owner.submit(shop.url(f"tokens/{token_id}/revoke"))
    assert revoked.status_code == 303
    assert await db.fetchval("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1", token_id)


async def test_audit_log_lists_changes(shop: Any) -> None:
    empty = await shop.owner.get(shop.url("audit"))
    assert empty.status_code == 200
    await shop.owner.submit(
        shop.url("settings"), {"name": "Alpha Two", "contact_email": "", "currency": "EUR", "theme": "default"}
    )
    page = await shop.owner.get(shop.url("audit"))
    assert "settings.updated" in page.text
    assert "owner@alpha.test" in page.text
    assert "Alpha Two" in page.text


async def test_staff_see_none_of_it(shop: Any, member: Callable[..., Awaitable[Any]]) -> None:
    staff = await member(shop.id, "staff@alpha.test", "staff")
    overview = await staff.get(shop.url())
    for section in ("members", "tokens", "audit", "settings"):
        assert f'href="/admin/{shop.slug}/{section}"' not in overview.text
        assert (await staff.get(shop.url(section))).status_code == 403
    assert (await staff.submit(shop.url("tokens"), {"name": "x", "permissions": "orders:read"})).status_code == 403
    assert (await staff.submit(shop.url("members/invitations"), {"email": "a@b.test"})).status_code == 403


async def test_customers_with_their_orders(shop: Any, db: asyncpg.Connection) -> None:
    empty = await shop.owner.get(shop.url("customers"))
    assert empty.status_code == 200
    assert "No customers yet." in empty.text
    ada, grace = uuid.uuid4(), uuid.uuid4()
    for customer_id, email, name in ((ada, "ada@example.com", "Ada"), (grace, "grace@example.com", None)):
        await db.execute(
            "INSERT INTO store_customers (store_id, id, email, name) VALUES ($1, $2, $3, $4)",
            shop.id, customer_id, email, name,
        )  # fmt: skip
    await shop.place([("alpha-1-s", 1)], paid=True, customer_id=ada)
    await shop.place([("alpha-2-s", 1)], paid=True, customer_id=ada)
    page = await shop.owner.get(shop.url("customers"))
    assert "2 customers" in page.text
    assert f'href="/admin/{shop.slug}/orders?customer_id={ada}">2</a>' in page.text
    assert "30.01 EUR" in page.text  # 10.00 + 10.01 + 2 x 5.00 shipping
    found = await shop.owner.get(shop.url("customers"), params={"q": "grace"})
    assert "grace@example.com" in found.text
    assert "ada@example.com" not in found.text
    orders = await shop.owner.get(shop.url("orders"), params={"customer_id": str(ada)})
    assert "2 orders of one customer" in orders.text


async def test_a_manager_without_a_permission_cannot_tick_it_for_anyone(
    shop: Any, member: Callable[..., Awaitable[Any]], db: asyncpg.Connection
) -> None:
    manager = await member(shop.id, "lead@alpha.test", "staff", {"members:manage": True, "members:read": True})
    lead_id = await db.fetchval("SELECT id FROM users WHERE email = 'lead@alpha.test'")
    before = await db.fetchval("SELECT permissions FROM store_members WHERE user_id = $1", lead_id)
    chosen = [*STAFF_DEFAULTS, "members:manage", "members:read", "settings:write"]
    refused = await manager.client.post(
        shop.url(f"members/{lead_id}/permissions"),
        data={"_csrf_token": manager.token, "permissions": chosen},
        follow_redirects=False,
    )
    assert refused.status_code == 422, refused.text
    assert 'id="perm-settings:write-error"' in refused.text
    assert "you do not hold" in refused.text
    assert await db.fetchval("SELECT permissions FROM store_members WHERE user_id = $1", lead_id) == before
