"""Bad input on every admin write endpoint: 400 problem+json naming the field, never a 500, and nothing written.

Each endpoint is described by its fields (kind, bounds, required or not); the cases are generated from that: each
required field missing, wrong types, null, out-of-bounds and oversized values, NUL characters, unknown fields and
malformed bodies. One test per endpoint sends all its cases and reports every wrong answer at once. After each case
the store's rows (plugin config, state and events included), the global rows and the mail outbox are compared with
what they were before.

``PATCH /api/admin/{slug}/plugins/{plugin_id}`` is exercised on two test plugins with the same settings Struct:
``badinput-plain`` (served by the core's ``{plugin_id}`` route) and ``badinput-probe``, which mounts admin routes of its
own and so gets its management path from its own router. Routes a plugin mounts (``/plugins/<id>/...``) take the
plugin's own schemas: the plugin's tests own their bad input, except for the probe's list, checked with the others.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
import pytest
from litestar import get

from tenantcommerce import hookimpl
from tenantcommerce.auth.guards import requires
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.plugins.registrations import Routes

SLUG = "bad-shop"
SHOP = f"/api/admin/{SLUG}"
PLAIN = "badinput-plain"
PROBE = "badinput-probe"
PLUGIN_PATH = re.compile(r"^/api/admin/\{slug(?::[a-z]+)?\}/plugins/([a-z0-9-]+)(/.*)?$")
"""``/plugins/<id>`` (a plugin's management path, the core's handler) or ``/plugins/<id>/...`` (mounted by it)."""
PLUGIN_TABLES = ("store_plugins", "store_plugin_state", "outbox_events")
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
"""A 1x1 GIF, for the product's image."""
MULTIPART_ROUTES = {("POST", "/api/admin/{slug:str}/products/{product_id:uuid}/media")}
"""Uploads take a multipart form, not JSON: their bad input is tested in tests/e2e/media/test_bad_uploads.py."""


class ProbeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    greeting: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    max_quantity: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3


class PlainPlugin:
    """Settings only: its ``PATCH`` is the core's ``/plugins/{plugin_id}`` route."""

    @hookimpl
    def tc_register_settings_schemas(self, register: Callable[[type[msgspec.Struct]], None]) -> None:
        register(ProbeSettings)


class ProbePlugin(PlainPlugin):
    """Settings and an admin list of its own (``GET /plugins/badinput-probe/items``)."""

    def __init__(self) -> None:
        @get("/items", guards=[requires("settings:read")])
        async def items(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Page[dict[str, str]]:
            return Page(items=[], limit=limit, offset=offset, total=0)

        self.routes = Routes("admin", [items])

    @hookimpl
    def tc_register_routes(self, register: Callable[[Routes], None]) -> None:
        register(self.routes)


@pytest.fixture(autouse=True)
def test_plugins(register_plugin: Callable[..., Any]) -> None:
    """Both plugins, registered before the routes are enumerated (autouse fixtures come first)."""
    register_plugin(PlainPlugin(), PLAIN)
    register_plugin(ProbePlugin(), PROBE)


def plugin_path(path: str) -> tuple[str, bool] | None:
    """``(plugin_id, mounted)`` for a path under ``/plugins/<id>`` (``mounted``: a route the plugin added), else
    ``None`` (the core's ``/plugins`` and ``/plugins/{plugin_id}`` included)."""
    match = PLUGIN_PATH.match(path)
    if match is None or match.group(1) is None:
        return None
    return match.group(1), match.group(2) is not None


PROBLEM_PREFIX = "urn:tenantcommerce:problem:"


@dataclass(frozen=True)
class Field:
    kind: str  # text | slug | int | list | dict | uuid | choice | email | token
    required: bool = False
    max_length: int | None = None
    min_length: int = 0
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()


@dataclass
class Case:
    label: str
    body: Any
    field: str | None  # the field ``errors`` must name (``None``: any)
    statuses: frozenset[int] = frozenset({400})
    raw: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Endpoint:
    method: str
    path: str
    good: dict[str, Any]
    fields: dict[str, Field]
    nested: dict[str, tuple[dict[str, Any], dict[str, Field]]] = field(default_factory=dict)
    extra: list[Case] = field(default_factory=list)


WRONG_TYPES: dict[str, list[Any]] = {
    "text": [123, 1.5, True, [], {}, ["x"]],
    "int": [1.5, True, [], {}, "x", "1.5"],  # numeric strings: see test_json_bodies_are_typed_strictly
    "list": ["x", 1, {}, True],
    "dict": ["x", 1, [], True],
    "bool": [1, 0, "true", "yes", 1.5, [], {}],
    "uuid": [123, "not-a-uuid", [], "", "00000000-0000-0000-0000-00000000000g"],
}
UNKNOWN_FIELDS: list[dict[str, Any]] = [
    {"id": str(uuid.uuid4())},
    {"store_id": str(uuid.uuid4())},
    {"created_at": "2020-01-01T00:00:00Z"},
    {"is_operator": True},
    {"__proto__": {}},
]
RAW_BODIES = [b"[]", b"null", b'"text"', b"42", b"{", b"", b'{"name": ', b"\xff\xfe", b"{}" * 500, b"\x00"]
MALFORMED_EMAILS = ["", "plain", "ann@", "@example.com", "ann@example", "a b@example.com", "ann\x00@example.com"]


def bad_values(spec: Field) -> list[tuple[str, Any]]:
    """(label, value) pairs that break ``spec`` (types, bounds, NUL)."""
    kind = "text" if spec.kind in ("slug", "choice", "email", "token") else spec.kind
    out: list[tuple[str, Any]] = [(repr(value), value) for value in WRONG_TYPES[kind]]
    out.append(("null", None))
    if spec.kind in ("text", "slug", "email", "token"):
        if spec.max_length is not None:
            out.append((f"{spec.max_length + 1} chars", "a" * (spec.max_length + 1)))
            out.append(("100000 chars", "a" * 100_000))
        out.append(("NUL", "ab\x00cd" * 5))
        out.append(("NUL only", "\x00"))
        if spec.min_length:
            out.append(("empty", ""))
    if spec.kind == "slug":
        out += [("uppercase", "Bad-Slug"), ("space", "bad slug"), ("leading hyphen", "-bad"), ("slash", "a/b")]
    if spec.kind == "email":
        out += [(f"email {value!r}", value) for value in MALFORMED_EMAILS]
    if spec.kind == "token":
        out += [("short", "abc"), ("bad characters", "a" * 30 + "!*")]
    if spec.kind == "choice":
        out += [("unknown choice", "nope"), ("other case", spec.choices[0].swapcase()), ("empty", "")]
    if spec.kind == "int":
        if spec.low is not None:
            out.append((f"{spec.low - 1}", spec.low - 1))
        if spec.high is not None:
            out.append((f"{spec.high + 1}", spec.high + 1))
        out += [("2**70", 2**70), ("-2**70", -(2**70))]
    if spec.kind == "list" and spec.min_length:
        out.append(("empty list", []))
    if spec.kind == "list" and spec.max_length is not None:
        out.append((f"{spec.max_length + 1} items", ["products:read"] * (spec.max_length + 1)))
    return out


def cases_for(endpoint: Endpoint) -> list[Case]:
    good = endpoint.good
    cases: list[Case] = []
    for name, spec in endpoint.fields.items():
        if spec.required:
            cases.append(Case(f"missing {name}", {k: v for k, v in good.items() if k != name}, name))
        for label, value in bad_values(spec):
            cases.append(Case(f"{name}={label}", {**good, name: value}, name))
    for list_name, (item, specs) in endpoint.nested.items():
        path = f"{list_name}[0]"
        for name, spec in specs.items():
            if spec.required:
                broken = {k: v for k, v in item.items() if k != name}
                cases.append(Case(f"{path} missing {name}", {**good, list_name: [broken]}, name))
            for label, value in bad_values(spec):
                cases.append(Case(f"{path}.{name}={label}", {**good, list_name: [{**item, name: value}]}, name))
        cases.append(Case(f"{path} unknown field", {**good, list_name: [{**item, "stock": 1}]}, "stock"))
        cases.append(Case(f"{path} not an object", {**good, list_name: ["x"]}, list_name))
    for extra in UNKNOWN_FIELDS:
        (name,) = extra
        cases.append(Case(f"unknown field {name}", {**good, **extra}, name))
    cases.append(Case("unknown field, case variant", {**good, next(iter(good)).upper(): "x"}, None))
    for raw in RAW_BODIES:
        cases.append(Case(f"raw body {raw[:12]!r}", None, None, raw=raw))
    cases.append(Case("form body", None, None, frozenset({400, 415}), raw=b"name=a", content_type="text/plain"))
    return [*cases, *endpoint.extra]


def plain_field(name: str) -> str:
    """The last segment of a field path, without indexes: ``variants[0].sku`` -> ``sku``, ``permissions[0]`` ->
    ``permissions``."""
    return re.sub(r"\[[^\]]*\]", "", name).rsplit(".", 1)[-1]


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
            if not any(plain_field(name) == case.field or name == case.field for name in named):
                return f"errors name {sorted(named)}, not {case.field!r}"
    return None


@pytest.fixture
async def shop(client, staff, open_store, admin_conn, make_user, add_member):
    """bad-shop: Ann (owner, signed in), a product with a variant, and Vic, a viewer."""
    ann = await staff("ann@bad.test")
    store_id = await open_store(ann, SLUG)
    product = await ann.post(
        f"{SHOP}/products", {"name": "Mug", "slug": "mug", "variants": [{"sku": "MUG-1", "price_minor": 900}]}
    )
    assert product.status_code == 201, product.text
    image = await ann.send(
        "POST", f"{SHOP}/products/{product.json()['id']}/media", files={"file": ("dot.gif", GIF, "image/gif")}
    )
    assert image.status_code == 201, image.text
    vic = await make_user("vic@bad.test")
    await add_member(store_id, vic, "viewer")
    discount = await ann.post(f"{SHOP}/discounts", {"code": "SAVE10", "kind": "percentage", "value": 1000})
    assert discount.status_code == 201, discount.text
    return {
        "ann": ann,
        "store_id": store_id,
        "product_id": product.json()["id"],
        "variant_id": product.json()["variants"][0]["id"],
        "viewer_id": str(vic),
        "discount_id": discount.json()["id"],
        "media_id": image.json()["id"],
        # Bad bodies are refused before the order is looked up: any id does.
        "order_id": str(uuid.uuid4()),
        "payment_id": str(uuid.uuid4()),
    }


@pytest.fixture
def written(admin_conn, store_snapshot, tc_mailer):
    """``state = await written.snapshot()`` before, ``await written.snapshot() == state`` after."""

    class Written:
        def __init__(self, store_id: uuid.UUID) -> None:
            self.store_id = store_id

        async def snapshot(self) -> tuple[Any, ...]:
            store = await store_snapshot(self.store_id)
            for table in PLUGIN_TABLES:
                store[table] = await admin_conn.fetchval(
                    f"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '') FROM {table} t"
                    " WHERE t.store_id = $1",
                    self.store_id,
                )
            globals_ = await admin_conn.fetchrow(
                "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM stores) AS stores,"
                " (SELECT coalesce(string_agg(m::text, ',' ORDER BY m.id), '') FROM store_members m) AS members"
            )
            return store, dict(globals_), len(tc_mailer.outbox)

    return Written


UNIQUE_VALUES = ("cup", "MUG-2")
"""Values of unique columns in the good bodies: each case gets its own, so one wrongly accepted case cannot make
the next one fail for another reason (a duplicate)."""


CASE_NUMBERS = itertools.count()


def uniquify(body: Any, n: int) -> Any:
    if isinstance(body, dict):
        return {key: uniquify(value, n) for key, value in body.items()}
    if isinstance(body, list):
        return [uniquify(value, n) for value in body]
    if isinstance(body, str) and body in UNIQUE_VALUES:
        return f"{body}-{n}"
    return body


async def send_all(actor, endpoint: Endpoint, written, cases: list[Case] | None = None) -> list[str]:
    failures = []
    for case in cases if cases is not None else cases_for(endpoint):
        n = next(CASE_NUMBERS)
        before = await written.snapshot()
        if case.raw is not None:
            response = await actor.send(
                endpoint.method, endpoint.path, content=case.raw, headers={"content-type": case.content_type}
            )
        else:
            response = await actor.send(endpoint.method, endpoint.path, uniquify(case.body, n))
        wrong = what_is_wrong(response, case)
        if wrong is not None:
            failures.append(f"{endpoint.method} {endpoint.path} {case.label}: {wrong}")
        if await written.snapshot() != before:
            failures.append(f"{endpoint.method} {endpoint.path} {case.label}: wrote something")
    return failures


def report(failures: list[str]) -> str:
    return f"{len(failures)} bad answers:\n" + "\n".join(failures)


VARIANT_FIELDS = {
    "sku": Field("text", required=True, max_length=100, min_length=1),
    "price_minor": Field("int", required=True, low=0, high=10**12),
    "title": Field("text", max_length=200, min_length=1),
    "inventory": Field("int", low=0, high=10**9),
    "attributes": Field("dict"),
}
ATTRIBUTE_CASES = {
    # The create schema allows 50 keys; an update must not allow more.
    "key limit": [("attributes with 51 keys", {f"k{i}": i for i in range(51)})],
    # Every other text input is bounded (the longest, a description, at 20000 characters).
    "sizes": [
        ("an attribute value of 30000 chars", {"note": "a" * 30_000}),
        ("an attribute key of 30000 chars", {"k" * 30_000: 1}),
    ],
    # jsonb cannot store NUL: refused like NUL in any other field, by name, before the database sees it.
    "NUL": [("NUL in an attribute value", {"size": "S\x00"}), ("NUL in an attribute key", {"si\x00ze": "S"})],
}


PLUGIN_FIELDS = {
    "enabled": Field("bool"),
    "priority": Field("int", low=-1000, high=1000),
    "config": Field("dict"),
}
PLUGIN_GOOD = {"enabled": True, "priority": 5, "config": {"greeting": "hi", "max_quantity": 2}}
REFUSED = frozenset({422})
PLUGIN_EXTRA = [
    Case("state is the plugin's, not writable here", {"state": {"account": "mine"}}, "state"),
    Case("state beside a good change", {**PLUGIN_GOOD, "state": {}}, "state"),
    Case("enabling without the required config", {"enabled": True}, "config.greeting", REFUSED),
    Case("enabling with an empty config", {"enabled": True, "config": {}}, "config.greeting", REFUSED),
    Case("config missing a required field", {"config": {"max_quantity": 2}}, "config.greeting", REFUSED),
    Case("config field of the wrong type", {"config": {"greeting": 5}}, "config.greeting", REFUSED),
    Case("config field too short", {"config": {"greeting": ""}}, "config.greeting", REFUSED),
    Case("config field too long", {"config": {"greeting": "x" * 51}}, "config.greeting", REFUSED),
    Case(
        "config field out of bounds", {"config": {"greeting": "hi", "max_quantity": 11}}, "config.max_quantity", REFUSED
    ),
    Case("config field huge", {"config": {"greeting": "hi", "max_quantity": 2**70}}, "config.max_quantity", REFUSED),
    Case("config field unknown", {"config": {"greeting": "hi", "colour": "red"}}, "config.colour", REFUSED),
    Case("config with NUL", {"config": {"greeting": "h\x00i"}}, "config.greeting"),
    Case("config key with NUL", {"config": {"greeting": "hi", "co\x00lour": "red"}}, "config"),
]


DISCOUNT_GOOD = {"code": "cup", "kind": "percentage", "value": 1000, "min_subtotal_minor": 0, "active": True}


def discount_extra(base: dict[str, Any]) -> list[Case]:
    """Cases the field generator cannot make for discounts (nullable fields, codes, rules), on top of ``base``."""
    return [
        Case("code not a code", {**base, "code": "two words"}, "code"),
        Case("code of 51 characters", {**base, "code": "A" * 51}, "code"),
        Case("code of spaces", {**base, "code": "   "}, "code"),
        Case("usage_limit 0", {**base, "usage_limit": 0}, "usage_limit"),
        Case("usage_limit a string", {**base, "usage_limit": "5"}, "usage_limit"),
        Case("starts_at without an offset", {**base, "starts_at": "2030-01-01T00:00:00"}, "starts_at"),
        Case("ends_at not a time", {**base, "ends_at": "soon"}, "ends_at"),
        Case("percentage above 100 %", {**base, "value": 10_001}, "value", REFUSED),
        Case(
            "ends_at before starts_at",
            {**base, "starts_at": "2030-02-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
            "ends_at",
            REFUSED,
        ),
    ]


ORDER_LINE = {"order_item_id": "0190a4a0-0000-7000-8000-000000000001", "qty": 1}
ORDER_LINE_FIELDS = {
    "order_item_id": Field("uuid", required=True),
    "qty": Field("int", required=True, low=1, high=1_000_000),
}


def order_endpoints(shop: dict[str, Any]) -> dict[str, Endpoint]:
    order_url = f"{SHOP}/orders/{shop['order_id']}"
    return {
        "orders.fulfil": Endpoint(
            "POST",
            f"{order_url}/fulfillments",
            {
                "lines": [ORDER_LINE],
                "tracking_number": "T-1",
                "tracking_url": "https://track.test/T-1",
                "carrier_id": "post",
                "buy_label": False,
                "notify_customer": True,
            },
            {
                "lines": Field("list", min_length=1, max_length=500),
                "tracking_number": Field("text", max_length=200, min_length=1),
                "tracking_url": Field("text", max_length=2000),
                "carrier_id": Field("text", max_length=100, min_length=1),
                "buy_label": Field("bool"),
                "notify_customer": Field("bool"),
            },
            nested={"lines": (ORDER_LINE, ORDER_LINE_FIELDS)},
            extra=[Case("tracking_url not http(s)", {"tracking_url": "javascript:alert(1)"}, "tracking_url")],
        ),
        "orders.cancel": Endpoint(
            "POST",
            f"{order_url}/cancel",
            {"reason": "changed mind"},
            {"reason": Field("text", max_length=500, min_length=1)},
        ),
        "orders.refund": Endpoint(
            "POST",
            f"{order_url}/refunds",
            {"amount_minor": 100, "reason": "broken", "restock": [ORDER_LINE]},
            {
                "amount_minor": Field("int", required=True, low=1, high=2**63 - 1),
                "reason": Field("text", max_length=500, min_length=1),
                "restock": Field("list", min_length=1, max_length=500),
            },
            nested={"restock": (ORDER_LINE, ORDER_LINE_FIELDS)},
        ),
        "orders.confirm_payment": Endpoint(
            "POST",
            f"{order_url}/payments/{shop['payment_id']}/confirm",
            {"note": "statement line 7"},
            {"note": Field("text", max_length=1000, min_length=1)},
        ),
    }


def endpoints(shop: dict[str, Any]) -> dict[str, Endpoint]:
    product_url = f"{SHOP}/products/{shop['product_id']}"
    variant_good = {"sku": "MUG-2", "price_minor": 1000, "title": "Large", "inventory": 1, "attributes": {"a": "b"}}
    return {
        "products.create": Endpoint(
            "POST",
            f"{SHOP}/products",
            {"name": "Cup", "slug": "cup", "description": "d", "status": "draft", "variants": [variant_good]},
            {
                "name": Field("text", required=True, max_length=200, min_length=1),
                "slug": Field("slug", required=True, max_length=200),
                "description": Field("text", max_length=20_000),
                "status": Field("choice", choices=("draft", "active", "archived")),
                "variants": Field("list", max_length=100),
            },
            nested={"variants": (variant_good, VARIANT_FIELDS)},
            extra=[
                Case(
                    "101 variants",
                    {
                        "name": "Cup",
                        "slug": "cup",
                        "variants": [{"sku": f"S{i}", "price_minor": 1} for i in range(101)],
                    },
                    "variants",
                )
            ],
        ),
        "products.update": Endpoint(
            "PATCH",
            product_url,
            {"name": "Mug 2", "slug": "mug-2", "description": "d", "status": "active"},
            {
                "name": Field("text", max_length=200, min_length=1),
                "slug": Field("slug", max_length=200),
                "description": Field("text", max_length=20_000),
                "status": Field("choice", choices=("draft", "active", "archived")),
            },
            extra=[Case("variants are not patched here", {"variants": []}, "variants")],
        ),
        "variants.create": Endpoint("POST", f"{product_url}/variants", variant_good, VARIANT_FIELDS),
        "media.update": Endpoint(
            "PATCH",
            f"{product_url}/media/{shop['media_id']}",
            {"alt": "A mug", "position": 1},
            {"alt": Field("text", max_length=300), "position": Field("int", low=0, high=10_000)},
            extra=[
                # variant_id may be null (no variant), so it is not described as a Field.
                Case("variant_id not a uuid", {"variant_id": "red"}, "variant_id"),
                Case("variant_id a number", {"variant_id": 5}, "variant_id"),
                Case("variant_id of no variant here", {"variant_id": str(uuid.uuid4())}, "variant_id", REFUSED),
                Case("the file is not patched", {"file": "x"}, "file"),
                Case("the storage key is not patched", {"storage_key": "../x.png"}, "storage_key"),
            ],
        ),
        "variants.update": Endpoint(
            "PATCH",
            f"{product_url}/variants/{shop['variant_id']}",
            {"sku": "MUG-9", "title": "T", "price_minor": 5, "attributes": {"a": 1}, "position": 2},
            {
                "sku": Field("text", max_length=100, min_length=1),
                "title": Field("text", max_length=200, min_length=1),
                "price_minor": Field("int", low=0, high=10**12),
                "attributes": Field("dict"),
                "position": Field("int", low=0, high=10_000),
            },
            extra=[Case("stock is not patched", {"inventory": 5}, "inventory")],
        ),
        "inventory.adjust": Endpoint(
            "POST",
            f"{SHOP}/inventory/adjustments",
            {"variant_id": shop["variant_id"], "delta": 1, "reason": "count"},
            {
                "variant_id": Field("uuid", required=True),
                "delta": Field("int", required=True, low=-(10**9), high=10**9),
                "reason": Field("text", required=True, max_length=200, min_length=1),
            },
        ),
        "settings.update": Endpoint(
            "PATCH",
            f"{SHOP}/settings",
            {"name": "Bad Shop 2", "theme": "dark", "contact_email": "hi@bad.test"},
            {
                "name": Field("text", max_length=200, min_length=1),
                "theme": Field("text", max_length=50, min_length=1),
                "currency": Field("choice", choices=("EUR",)),
            },
            extra=[
                *[Case(f"contact_email {v!r}", {"contact_email": v}, "contact_email") for v in MALFORMED_EMAILS],
                Case(
                    "contact_email 321 chars", {"contact_email": "a" * 64 + "@" + "b" * 252 + ".com"}, "contact_email"
                ),
                Case("contact_email NUL", {"contact_email": "a\x00@bad.test"}, "contact_email"),
                Case("contact_email number", {"contact_email": 5}, "contact_email"),
                Case("theme with spaces", {"theme": "dark mode"}, "theme"),
                Case("currency lower case", {"currency": "eur"}, "currency"),
                Case("status", {"status": "suspended"}, "status"),
            ],
        ),
        "tokens.create": Endpoint(
            "POST",
            f"{SHOP}/tokens",
            {"name": "ci", "permissions": ["products:read"], "expires_in_days": 30},
            {
                "name": Field("text", required=True, max_length=100, min_length=1),
                "permissions": Field("list", required=True, min_length=1, max_length=16),
                "expires_in_days": Field("int", low=1, high=365),
            },
            extra=[
                Case("a permission that is not a string", {"name": "ci", "permissions": [1]}, "permissions"),
                Case("permissions of null", {"name": "ci", "permissions": [None]}, "permissions"),
                Case(
                    "unknown permission", {"name": "ci", "permissions": ["root"]}, "permissions", frozenset({400, 422})
                ),
                Case(
                    "NUL permission",
                    {"name": "ci", "permissions": ["products:read\x00"]},
                    "permissions",
                    frozenset({400, 422}),
                ),
            ],
        ),
        "invitations.create": Endpoint(
            "POST",
            f"{SHOP}/members/invitations",
            {"email": "new@bad.test", "role": "staff"},
            {
                "email": Field("email", required=True, max_length=320),
                "role": Field("choice", choices=("owner", "admin", "staff", "viewer")),
            },
        ),
        "members.update": Endpoint(
            "PATCH",
            f"{SHOP}/members/{shop['viewer_id']}",
            {"role": "staff", "permissions": {"orders:refund": True}},
            {
                "role": Field("choice", choices=("owner", "admin", "staff", "viewer")),
                "permissions": Field("dict"),
            },
            extra=[
                Case("override not a boolean", {"permissions": {"orders:refund": "yes"}}, "permissions"),
                Case("override of null", {"permissions": {"orders:refund": None}}, "permissions"),
                Case("unknown override", {"permissions": {"root": True}}, None, frozenset({400, 422})),
                Case("huge override name", {"permissions": {"x" * 100_000: True}}, None, frozenset({400, 422})),
                Case("NUL override name", {"permissions": {"orders:refund\x00": True}}, None, frozenset({400, 422})),
            ],
        ),
        "invitations.accept": Endpoint(
            "POST",
            "/api/auth/invitations/accept",
            {"token": "A" * 43},
            {"token": Field("token", required=True, max_length=200)},
        ),
        "discounts.create": Endpoint(
            "POST",
            f"{SHOP}/discounts",
            DISCOUNT_GOOD,
            {
                "code": Field("text", required=True, max_length=100, min_length=1),
                "kind": Field("choice", required=True, choices=("percentage", "fixed_amount", "free_shipping")),
                "value": Field("int", low=0, high=10**12),
                "min_subtotal_minor": Field("int", low=0, high=10**12),
                "active": Field("bool"),
            },
            extra=discount_extra(DISCOUNT_GOOD),
        ),
        "discounts.update": Endpoint(
            "PATCH",
            f"{SHOP}/discounts/{shop['discount_id']}",
            {"code": "cup", "value": 1500, "min_subtotal_minor": 100, "active": False},
            {
                "code": Field("text", max_length=100, min_length=1),
                "value": Field("int", low=0, high=10**12),
                "min_subtotal_minor": Field("int", low=0, high=10**12),
                "active": Field("bool"),
            },
            extra=[
                *discount_extra({}),
                Case("kind cannot change", {"kind": "fixed_amount"}, "kind", REFUSED),
                Case("times_used is not an input", {"times_used": 0}, "times_used"),
            ],
        ),
        "plugins.update": Endpoint("PATCH", f"{SHOP}/plugins/{PLAIN}", PLUGIN_GOOD, PLUGIN_FIELDS, extra=PLUGIN_EXTRA),
        "plugins.update (own router)": Endpoint(
            "PATCH", f"{SHOP}/plugins/{PROBE}", PLUGIN_GOOD, PLUGIN_FIELDS, extra=PLUGIN_EXTRA
        ),
        **order_endpoints(shop),
    }


ENDPOINT_NAMES = [
    "products.create",
    "products.update",
    "variants.create",
    "variants.update",
    "media.update",
    "inventory.adjust",
    "settings.update",
    "tokens.create",
    "invitations.create",
    "members.update",
    "invitations.accept",
    "discounts.create",
    "discounts.update",
    "plugins.update",
    "plugins.update (own router)",
    "orders.fulfil",
    "orders.cancel",
    "orders.refund",
    "orders.confirm_payment",
]


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
async def test_bad_input(shop, written, name: str) -> None:
    endpoint = endpoints(shop)[name]
    failures = await send_all(shop["ann"], endpoint, written(shop["store_id"]))
    assert not failures, report(failures)


async def test_every_admin_write_endpoint_is_covered(admin_routes, shop) -> None:
    """A new admin write endpoint needs its bad-input cases here. Routes that plugins mount take their plugins'
    schemas (their own tests cover them); the management path of a plugin with admin routes is the core's handler,
    covered here through the probe's."""
    described = {(endpoint.method, endpoint.path) for endpoint in endpoints(shop).values()}
    ids = {
        "product_id": shop["product_id"],
        "variant_id": shop["variant_id"],
        "user_id": shop["viewer_id"],
        "plugin_id": PLAIN,
        "discount_id": shop["discount_id"],
        "media_id": shop["media_id"],
        "order_id": shop["order_id"],
        "payment_id": shop["payment_id"],
    }
    missing = []
    for route in admin_routes:
        if not route.has_body or (route.method, route.path) in MULTIPART_ROUTES:
            continue
        under_plugin = plugin_path(route.path)
        if under_plugin is not None and (under_plugin[1] or under_plugin[0] != PROBE):
            continue
        url = route.url(SLUG, {name: ids.get(name, "") for name in route.params})
        if (route.method, url) not in described:
            missing.append(f"{route.method} {route.path}")
    assert not missing, f"admin write endpoints without bad-input cases: {missing}"


async def test_a_refused_member_has_bad_input_refused_the_same_way(shop, sign_in, written) -> None:
    """Bad input from someone without the permission is a 403 (the guard runs first): no schema leaks to them."""
    vic = await sign_in("vic@bad.test")
    state = written(shop["store_id"])
    before = await state.snapshot()
    for method, path, body in [
        ("POST", f"{SHOP}/products", {"name": 1}),
        ("PATCH", f"{SHOP}/settings", {"status": "x"}),
        ("POST", f"{SHOP}/tokens", {}),
        ("PATCH", f"{SHOP}/plugins/{PLAIN}", {"enabled": "yes"}),
        ("PATCH", f"{SHOP}/plugins/{PROBE}", {"state": {}}),
    ]:
        response = await vic.send(method, path, body)
        assert response.status_code == 403, response.text
    assert await state.snapshot() == before


async def test_json_bodies_are_typed_strictly(shop, written) -> None:
    """JSON has numbers and booleans: a string (or a number for a boolean) is the wrong type, as DESIGN.md §10 says
    (400 naming the field), not something to coerce."""
    api = endpoints(shop)
    product = api["products.create"].good
    cases = {
        "products.create": [
            Case(
                "variants[0].price_minor='100'",
                {**product, "variants": [{"sku": "cup", "price_minor": "100"}]},
                "price_minor",
            ),
            Case(
                "variants[0].inventory='3'",
                {**product, "variants": [{"sku": "cup", "price_minor": 1, "inventory": "3"}]},
                "inventory",
            ),
        ],
        "variants.create": [Case("price_minor='100'", {"sku": "MUG-2", "price_minor": "100"}, "price_minor")],
        "variants.update": [
            Case("price_minor='1'", {"price_minor": "1"}, "price_minor"),
            Case("position='1'", {"position": "1"}, "position"),
        ],
        "inventory.adjust": [Case("delta='5'", {**api["inventory.adjust"].good, "delta": "5"}, "delta")],
        "tokens.create": [
            Case("expires_in_days='1'", {**api["tokens.create"].good, "expires_in_days": "1"}, "expires_in_days")
        ],
        "plugins.update": [
            Case("enabled='true'", {"enabled": "true"}, "enabled"),
            Case("enabled=1", {"enabled": 1}, "enabled"),
            Case("priority='5'", {"priority": "5"}, "priority"),
            Case("priority=5.0", {"priority": 5.0}, "priority"),
        ],
        "members.update": [
            Case("override of 1", {"permissions": {"orders:refund": 1}}, "permissions"),
            Case("override of 'true'", {"permissions": {"orders:refund": "true"}}, "permissions"),
            Case("override of 0", {"permissions": {"products:read": 0}}, "permissions"),
        ],
    }
    failures = []
    for name, endpoint_cases in cases.items():
        failures += await send_all(shop["ann"], api[name], written(shop["store_id"]), endpoint_cases)
    assert not failures, report(failures)


@pytest.mark.parametrize("group", list(ATTRIBUTE_CASES))
async def test_variant_attributes_are_bounded_and_storable(shop, written, group: str) -> None:
    """Attributes are a JSON object stored in jsonb: bad ones answer 400 naming ``attributes``, on every endpoint
    that takes them, and write nothing."""
    api = endpoints(shop)
    variant = api["variants.create"].good
    product = api["products.create"].good
    failures = []
    for label, value in ATTRIBUTE_CASES[group]:
        for name, body in (
            ("products.create", {**product, "variants": [{**variant, "attributes": value}]}),
            ("variants.create", {**variant, "attributes": value}),
            ("variants.update", {"attributes": value}),
        ):
            failures += await send_all(
                shop["ann"], api[name], written(shop["store_id"]), [Case(label, body, "attributes")]
            )
    assert not failures, report(failures)


# --- lists ---------------------------------------------------------------------------------------------------------


def list_routes(app) -> list[tuple[str, bool]]:
    """``(path, paged)`` of every admin GET route that answers a list (``list[...]`` or ``Page[...]``), from the app.

    Of the routes plugins mount, only the probe's: another plugin's answer 404 until a store enables it, and enabling
    it takes config only that plugin knows."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/api/admin/{slug"):
            continue
        under_plugin = plugin_path(route.path)
        if under_plugin is not None and under_plugin[1] and under_plugin[0] != PROBE:
            continue
        for handler in getattr(route, "route_handlers", []):
            if "GET" not in handler.http_methods:
                continue
            returned = handler.parsed_fn_signature.return_type
            origin = getattr(returned.annotation, "__origin__", None) or returned.origin
            if origin is list or origin is Page or returned.annotation is Page:
                found.append((route.path, origin is Page))
    return sorted(found)


def list_url(path: str, shop: dict[str, Any]) -> str:
    """A list route's path with the shop's slug and ids (``{product_id}``: its product) filled in."""
    ids = {"slug": SLUG, "product_id": shop["product_id"]}
    return re.sub(r"\{([a-z_]+)(?::[a-z]+)?\}", lambda match: ids[match.group(1)], path)


async def enable_probe(shop: dict[str, Any]) -> None:
    response = await shop["ann"].patch(f"{SHOP}/plugins/{PROBE}", {"enabled": True, "config": {"greeting": "hi"}})
    assert response.status_code == 200, response.text


async def test_every_admin_list_answers_the_list_envelope(app, shop) -> None:
    """DESIGN.md §10: every list is ``{"items": [...], "limit": n, "offset": n, "total": n}`` (limit 24 by default)."""
    await enable_probe(shop)
    routes = list_routes(app)
    assert f"{SHOP}/plugins/{PROBE}/items".replace(SHOP, "/api/admin/{slug:str}") in [path for path, _ in routes]
    assert len(routes) >= 6, routes
    failures = []
    for path, _ in routes:
        url = list_url(path, shop)
        response = await shop["ann"].get(url)
        if response.status_code != 200:
            failures.append(f"GET {url}: {response.status_code} {response.text[:200]}")
            continue
        body = response.json()
        if not isinstance(body, dict) or set(body) != {"items", "limit", "offset", "total"}:
            failures.append(f"GET {url}: not the list envelope: {response.text[:200]}")
            continue
        if (body["limit"], body["offset"]) != (24, 0) or body["total"] < len(body["items"]):
            failures.append(f"GET {url}: limit/offset/total {body['limit']}/{body['offset']}/{body['total']}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "first"}, "offset"),
        ({"offset": "10000000000"}, "offset"),
    ],
)
async def test_every_paged_admin_list_refuses_bad_limits(app, shop, problem, query, field) -> None:
    await enable_probe(shop)
    failures = []
    for path, paged in list_routes(app):
        if not paged:
            continue  # test_every_admin_list_answers_the_list_envelope reports those
        url = list_url(path, shop)
        response = await shop["ann"].get(url, params=query)
        try:
            body = problem(response, 400, "invalid-input")
            assert field in [error["field"] for error in body["errors"]], body
        except AssertionError as exc:
            failures.append(f"GET {url}?{query}: {response.status_code} {exc}")
    assert not failures, "\n".join(failures)
