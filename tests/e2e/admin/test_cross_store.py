"""A member of store A gets 404 (never 403, never 400) on every admin endpoint of store B, and writes nothing there.

The routes are enumerated from the app (every ``/api/admin/{slug}/...`` route and method), so a route added later is
covered without touching this file. Path parameters are filled with random UUIDs and with the ids of B's real rows:
both must answer alike, so an answer never tells whether something exists in another store.

Plugins add admin routes under ``/api/admin/{slug}/plugins/<plugin_id>/...``: those of the installed plugins are
enumerated like the core's, and a test plugin (``xstore-probe``, enabled in both stores, with config and state in B)
adds a read and a write route, so a leak through a plugin route would show as an answer or a write.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import pytest
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from tenantcommerce import hookimpl
from tenantcommerce.auth.guards import requires
from tenantcommerce.auth.permissions import PERMISSIONS
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.registrations import Routes
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

A, B = "alpha-shop", "bravo-shop"
PREFIX = re.compile(r"^/api/admin/\{slug(:[a-z]+)?\}")
PROBE = "xstore-probe"
PLUGIN_MOUNTED = re.compile(r"^/plugins/([a-z0-9-]+)/")
"""A route a plugin mounted (``/plugins/<id>/...``), not the core's ``/plugins/<id>`` of that plugin."""
PLUGIN_TABLES = ("store_plugins", "store_plugin_state", "outbox_events")

KNOWN_ROUTES = {
    ("GET", "/audit"),
    ("GET", "/inventory/adjustments"),
    ("POST", "/inventory/adjustments"),
    ("GET", "/members"),
    ("GET", "/plugins"),
    ("GET", "/plugins/{plugin_id}"),
    ("PATCH", "/plugins/{plugin_id}"),
    ("GET", f"/plugins/{PROBE}"),
    ("PATCH", f"/plugins/{PROBE}"),
    ("GET", f"/plugins/{PROBE}/note"),
    ("POST", f"/plugins/{PROBE}/note"),
    ("GET", "/members/invitations"),
    ("POST", "/members/invitations"),
    ("DELETE", "/members/invitations/{invitation_id}"),
    ("DELETE", "/members/{user_id}"),
    ("PATCH", "/members/{user_id}"),
    ("GET", "/products"),
    ("POST", "/products"),
    ("GET", "/products/{product_id}"),
    ("PATCH", "/products/{product_id}"),
    ("POST", "/products/{product_id}/variants"),
    ("PATCH", "/products/{product_id}/variants/{variant_id}"),
    ("GET", "/settings"),
    ("PATCH", "/settings"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token_id}"),
    ("GET", "/discounts"),
    ("POST", "/discounts"),
    ("GET", "/discounts/{discount_id}"),
    ("PATCH", "/discounts/{discount_id}"),
    ("DELETE", "/discounts/{discount_id}"),
}


class ProbeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    greeting: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class NoteIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Probe:
    """A plugin with config and admin routes: read its state (``settings:read``), write it (``settings:write``)."""

    def __init__(self) -> None:
        @get("/note", guards=[requires("settings:read")])
        async def read_note(runtime: NamedDependency[Runtime]) -> dict[str, Any]:
            return await PluginContext(PROBE, current_store().id, None, runtime.database).get_state()

        @post("/note", guards=[requires("settings:write")])
        async def write_note(runtime: NamedDependency[Runtime], data: JSONBody[NoteIn]) -> dict[str, Any]:
            await PluginContext(PROBE, current_store().id, None, runtime.database).set_state({"note": data.note})
            return {"note": data.note}

        self.routes = Routes("admin", [read_note, write_note])

    @hookimpl
    def tc_register_settings_schemas(self, register: Callable[[type[msgspec.Struct]], None]) -> None:
        register(ProbeSettings)

    @hookimpl
    def tc_register_routes(self, register: Callable[[Routes], None]) -> None:
        register(self.routes)


@pytest.fixture(autouse=True)
def probe(register_plugin: Callable[..., Any]) -> None:
    """``xstore-probe`` is registered before the routes are enumerated (autouse fixtures come first)."""
    register_plugin(Probe(), PROBE)


@pytest.fixture
def store_snapshot(store_snapshot, admin_conn):
    """The admin tests' snapshot plus the store's plugin config, plugin state and outbox."""

    async def snapshot(store_id: uuid.UUID) -> dict[str, Any]:
        rows = await store_snapshot(store_id)
        for table in PLUGIN_TABLES:
            rows[table] = await admin_conn.fetchval(
                f"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '') FROM {table} t WHERE t.store_id = $1",
                store_id,
            )
        return rows

    return snapshot


def mounted_by(route) -> str | None:
    """The plugin that mounted ``route`` (``None`` for the core's routes)."""
    match = PLUGIN_MOUNTED.match(key_of(route)[1])
    return match.group(1) if match else None


def key_of(route) -> tuple[str, str]:
    """``("PATCH", "/products/{product_id}")`` for a route (the prefix and parameter types dropped)."""
    suffix = PREFIX.sub("", route.path)
    return route.method, re.sub(r"\{([a-z_]+):[a-z]+\}", r"{\1}", suffix) or "/"


def plausible_body(route, ids: dict[str, str]) -> dict | None:
    """A body that would succeed in the caller's own store (so a leak would write), or ``{}`` for unknown routes."""
    if not route.has_body:
        return None
    bodies = {
        ("POST", "/products"): {
            "name": "Planted",
            "slug": "planted",
            "status": "active",
            "variants": [{"sku": "PLANTED-1", "price_minor": 100, "inventory": 3}],
        },
        ("PATCH", "/products/{product_id}"): {"name": "Hijacked", "status": "archived"},
        ("POST", "/products/{product_id}/variants"): {"sku": "PLANTED-2", "price_minor": 1, "inventory": 1},
        ("PATCH", "/products/{product_id}/variants/{variant_id}"): {"price_minor": 1, "sku": "HIJACKED"},
        ("POST", "/inventory/adjustments"): {"variant_id": ids["variant_id"], "delta": 7, "reason": "planted"},
        ("PATCH", "/settings"): {"name": "Hijacked", "contact_email": "mallory@evil.test"},
        ("POST", "/tokens"): {"name": "planted", "permissions": ["products:read"]},
        ("POST", "/members/invitations"): {"email": "mallory@evil.test", "role": "owner"},
        ("PATCH", "/members/{user_id}"): {"role": "owner", "permissions": {"members:manage": True}},
        ("PATCH", "/plugins/{plugin_id}"): {"enabled": False, "priority": 999, "config": {"greeting": "hijacked"}},
        ("PATCH", f"/plugins/{PROBE}"): {"enabled": False, "priority": 999, "config": {"greeting": "hijacked"}},
        ("POST", f"/plugins/{PROBE}/note"): {"note": "planted"},
        ("POST", "/discounts"): {"code": "PLANTED", "kind": "percentage", "value": 10_000},
        ("PATCH", "/discounts/{discount_id}"): {"value": 10_000, "usage_limit": None, "active": True},
        ("POST", "/orders/{order_id}/refunds"): {"amount_minor": 100},
    }
    return bodies.get(key_of(route), {})


async def plant_order(admin_conn, store_id: uuid.UUID) -> dict[str, str]:
    """A paid order of the store, with its payment and a pending refund (inserted as the superuser); their ids."""
    order_id, payment_id, refund_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await admin_conn.execute(
        "INSERT INTO orders (store_id, id, order_number, email, currency, subtotal_minor, total_minor, payment_status,"
        " payment_method) SELECT id, $2, 1001, 'ada@example.com', currency, 900, 900, 'paid', 'bank-transfer'"
        " FROM stores WHERE id = $1",
        store_id,
        order_id,
    )
    await admin_conn.execute(
        "INSERT INTO payments (store_id, id, order_id, amount_minor, currency, method, status, transaction_id)"
        " SELECT id, $2, $3, 900, currency, 'bank-transfer', 'succeeded', 'PAY-PLANTED' FROM stores WHERE id = $1",
        store_id,
        payment_id,
        order_id,
    )
    await admin_conn.execute(
        "INSERT INTO refunds (store_id, id, order_id, payment_id, amount_minor, currency, status)"
        " SELECT id, $2, $3, $4, 100, currency, 'pending' FROM stores WHERE id = $1",
        store_id,
        refund_id,
        order_id,
        payment_id,
    )
    return {"order_id": str(order_id), "payment_id": str(payment_id), "refund_id": str(refund_id)}


@pytest.fixture
async def world(client, staff, open_store, make_user, add_member, make_token, admin_conn):
    """Ann owns store A; Bob owns store B, which holds a product with a variant and stock, a token, a pending
    invitation and a viewer (Carl). Ann is no member of B. Ann holds a token of A with every permission."""
    ann = await staff("ann@alpha.test")
    a_id = await open_store(ann, A)
    bob = await staff("bob@bravo.test")
    b_id = await open_store(bob, B)

    product = await bob.post(
        f"/api/admin/{B}/products",
        {"name": "B Tee", "slug": "b-tee", "status": "active", "variants": [{"sku": "B-1", "price_minor": 900}]},
    )
    assert product.status_code == 201, product.text
    adjusted = await bob.post(
        f"/api/admin/{B}/inventory/adjustments",
        {"variant_id": product.json()["variants"][0]["id"], "delta": 4, "reason": "delivery"},
    )
    assert adjusted.status_code == 201, adjusted.text
    token = await bob.post(f"/api/admin/{B}/tokens", {"name": "b-ci", "permissions": ["products:read"]})
    assert token.status_code in (200, 201), token.text
    invitation = await bob.post(f"/api/admin/{B}/members/invitations", {"email": "dora@bravo.test", "role": "staff"})
    assert invitation.status_code in (200, 201), invitation.text
    carl = await make_user("carl@bravo.test")
    await add_member(b_id, carl, "viewer")

    for actor, slug in ((bob, B), (ann, A)):
        enabled = await actor.patch(
            f"/api/admin/{slug}/plugins/{PROBE}", {"enabled": True, "config": {"greeting": slug}}
        )
        assert enabled.status_code == 200, enabled.text
    noted = await bob.post(f"/api/admin/{B}/plugins/{PROBE}/note", {"note": "bravo's own"})
    assert noted.status_code == 201, noted.text

    a_product = await ann.post(f"/api/admin/{A}/products", {"name": "A Tee", "slug": "a-tee"})
    assert a_product.status_code == 201, a_product.text
    a_token = await make_token(ann, A, list(PERMISSIONS), name="a-all")
    b_discount = await bob.post(f"/api/admin/{B}/discounts", {"code": "B-ONLY", "kind": "fixed_amount", "value": 500})
    assert b_discount.status_code == 201, b_discount.text
    a_discount = await ann.post(f"/api/admin/{A}/discounts", {"code": "A-ONLY", "kind": "fixed_amount", "value": 500})
    assert a_discount.status_code == 201, a_discount.text

    b_ids = {
        "product_id": product.json()["id"],
        "variant_id": product.json()["variants"][0]["id"],
        "token_id": token.json()["details"]["id"],
        "invitation_id": invitation.json()["id"],
        "user_id": str(carl),
        "plugin_id": PROBE,
        "discount_id": b_discount.json()["id"],
    }
    a_ids = {"product_id": a_product.json()["id"], "plugin_id": PROBE}
    b_ids |= await plant_order(admin_conn, b_id)
    # real ids for reads only: a write with them would work
    a_read_ids = {"discount_id": a_discount.json()["id"], **await plant_order(admin_conn, a_id)}
    return {"ann": ann, "bob": bob, "a_id": a_id, "b_id": b_id, "b_ids": b_ids, "a_ids": a_ids,
            "a_read_ids": a_read_ids, "a_token": a_token}  # fmt: skip


def requests_for(route, slug: str, real_ids: dict[str, str]):
    """(label, method, url, body) for one route: random ids and real ids, a plausible body and a bad one,
    and a bad query for reads (none of which may get past the store check)."""
    random_ids = {name: str(uuid.uuid4()) for name in route.params}
    random_ids.setdefault("variant_id", str(uuid.uuid4()))
    real = {**random_ids, **real_ids}
    out = []
    for label, ids in (("random ids", random_ids), ("real ids", real)):
        url = route.url(slug, ids)
        out.append((label, route.method, url, plausible_body(route, ids)))
        if route.has_body:
            out.append((f"{label}, bad body", route.method, url, {"__unknown__": True}))
        if route.method == "GET":
            out.append((f"{label}, bad query", route.method, url + "?limit=0&offset=-1&sort=nope", None))
    return out


async def assert_404_everywhere(actor, admin_routes, slug: str, real_ids: dict[str, str], problem) -> None:
    assert {key_of(route) for route in admin_routes} >= KNOWN_ROUTES, "the route enumeration lost routes"
    failures = []
    for route in admin_routes:
        answers = {}
        for label, method, url, body in requests_for(route, slug, real_ids):
            response = await actor.send(method, url, body)
            if response.status_code != 404:
                failures.append(f"{label}: {method} {url} -> {response.status_code} {response.text[:200]}")
                continue
            try:
                answer = problem(response, 404, "not-found")
            except AssertionError as exc:
                failures.append(f"{label}: {method} {url} -> not a 404 problem: {exc}")
                continue
            if "errors" in answer:
                failures.append(f"{label}: {method} {url} -> names fields: {answer['errors']}")
            answers[label] = (answer["title"], answer["detail"])
        if answers.get("random ids") != answers.get("real ids"):
            failures.append(f"{route.method} {route.path}: real and random ids answer differently: {answers}")
    assert not failures, "\n".join(failures)


async def test_a_session_of_store_a_gets_404_on_every_admin_route_of_store_b(
    world, admin_routes, problem, store_snapshot, changed
) -> None:
    ann = world["ann"]
    before_b = await store_snapshot(world["b_id"])
    before_a = await store_snapshot(world["a_id"])

    await assert_404_everywhere(ann, admin_routes, B, world["b_ids"], problem)

    assert changed(before_b, await store_snapshot(world["b_id"])) == [], "store B was written to"
    assert changed(before_a, await store_snapshot(world["a_id"])) == [], "store A was written to"


async def test_a_token_of_store_a_gets_404_on_every_admin_route_of_store_b(
    world, admin_routes, bearer, problem, store_snapshot, changed
) -> None:
    token = bearer(world["a_token"])
    assert (await token.get(f"/api/admin/{A}/products")).status_code == 200  # it is a live token (and now touched)
    before_b = await store_snapshot(world["b_id"])
    before_a = await store_snapshot(world["a_id"])

    await assert_404_everywhere(token, admin_routes, B, world["b_ids"], problem)

    assert changed(before_b, await store_snapshot(world["b_id"])) == [], "store B was written to"
    assert changed(before_a, await store_snapshot(world["a_id"])) == [], "store A was written to"


async def test_a_member_of_both_stores_uses_a_token_of_a_on_b_and_gets_404(
    world, admin_routes, bearer, add_member, problem, store_snapshot, changed
) -> None:
    """The token is scoped to its store even when its creator also works in the other one."""
    await add_member(world["b_id"], world["ann"].user_id, "admin")
    assert (await world["ann"].get(f"/api/admin/{B}/products")).status_code == 200  # her session may, as admin
    token = bearer(world["a_token"])
    before_b = await store_snapshot(world["b_id"])

    await assert_404_everywhere(token, admin_routes, B, world["b_ids"], problem)

    assert changed(before_b, await store_snapshot(world["b_id"])) == []


async def test_anonymous_callers_get_401_on_every_admin_route(
    world, admin_routes, new_client, csrf_headers, bearer, problem, store_snapshot, changed
) -> None:
    """No session (with a valid CSRF pair, as a browser would have) or an unknown token of ours: 401 everywhere."""
    browser = new_client()
    anonymous_headers = await csrf_headers(browser)
    unknown_token = bearer("tc_" + "x" * 40)
    before = {key: await store_snapshot(world[key]) for key in ("a_id", "b_id")}
    failures = []
    for route in admin_routes:
        for slug, ids in ((A, world["a_ids"]), (B, world["b_ids"])):
            for label, method, url, body in requests_for(route, slug, ids):
                kwargs = {"json": body} if body is not None else {}
                answers = {
                    "no session": await browser.request(method, url, headers=anonymous_headers, **kwargs),
                    "unknown token": await unknown_token.send(method, url, body),
                }
                for who, response in answers.items():
                    try:
                        problem(response, 401, "authentication-required")
                    except AssertionError:
                        failures.append(f"{who}, {label}: {method} {url} -> {response.status_code} {response.text}")
    assert not failures, "\n".join(failures)
    for key, snapshot in before.items():
        assert changed(snapshot, await store_snapshot(world[key])) == [], key


async def test_a_store_that_does_not_exist_answers_404_too(world, problem) -> None:
    ann = world["ann"]
    for path in ("/api/admin/no-such-shop/products", "/api/admin/no-such-shop/settings"):
        problem(await ann.get(path), 404)
    problem(await ann.patch("/api/admin/no-such-shop/settings", {"name": "x"}), 404)


async def test_a_token_of_store_a_works_on_store_a_within_its_permissions(
    world, admin_routes, make_token, bearer, problem, store_snapshot, changed
) -> None:
    """Routes a plugin mounted answer 404 while the plugin is not enabled for the store (here: every installed
    plugin; the probe is enabled)."""
    ann = world["ann"]
    carried = {"products:read", "settings:read"}
    narrow = bearer(await make_token(ann, A, sorted(carried), name="narrow"))
    full = bearer(world["a_token"])
    await narrow.get(f"/api/admin/{A}/products")  # the first use touches last_used_at
    await full.get(f"/api/admin/{A}/products")
    before = await store_snapshot(world["a_id"])
    failures = []
    for route in admin_routes:
        ids = {name: str(uuid.uuid4()) for name in route.params} | world["a_ids"]
        if route.method == "GET":
            ids |= world["a_read_ids"]
        url = route.url(A, ids)
        if mounted_by(route) not in (None, PROBE):
            body = {"__unknown__": True} if route.has_body else None
            for name, token in (("full", full), ("narrow", narrow)):
                response = await token.send(route.method, url, body)
                if response.status_code != 404:
                    failures.append(f"{name} {route.method} {url} (plugin not enabled): {response.status_code}")
            continue
        if route.method == "GET":
            # Reads with real ids: the full token reads everything, the narrow one what it carries.
            for name, token, allowed in (
                ("full", full, True),
                ("narrow", narrow, set(route.permissions) <= carried),
            ):
                response = await token.get(url)
                wanted = 200 if allowed else 403
                if response.status_code != wanted:
                    failures.append(f"{name} GET {url}: {response.status_code}, wanted {wanted}: {response.text}")
        else:
            # Writes with a bad body or random ids: past the guard they change nothing (400 or 404).
            body = {"__unknown__": True} if route.has_body else None
            for name, token in (("full", full), ("narrow", narrow)):
                response = await token.send(route.method, url, body)
                allowed = name == "full" or set(route.permissions) <= carried
                if allowed and response.status_code not in (400, 404):
                    failures.append(f"{name} {route.method} {url}: {response.status_code}, wanted 400/404")
                if not allowed:
                    try:
                        answer = problem(response, 403, "permission-denied")
                        assert any(permission in answer["detail"] for permission in route.permissions)
                    except AssertionError:
                        failures.append(f"{name} {route.method} {url}: {response.status_code}, wanted 403")
    assert not failures, "\n".join(failures)
    assert changed(before, await store_snapshot(world["a_id"])) == []
