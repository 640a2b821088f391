"""The admin catalog over HTTP: products and variants, list filters and sorting, stock adjustments with history,
store settings (audited), and another store's ids (404, nothing written)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

SLUG = "cat-shop"
SHOP = f"/api/admin/{SLUG}"
PRODUCTS = f"{SHOP}/products"
ADJUST = f"{SHOP}/inventory/adjustments"
SETTINGS = f"{SHOP}/settings"
STOREFRONT = f"/api/storefront/{SLUG}/products"

SHIRT = {
    "name": "Linen Shirt",
    "slug": "linen-shirt",
    "description": "Soft and cool.",
    "status": "active",
    "variants": [
        {"sku": "LS-S", "title": "Small", "price_minor": 2500, "inventory": 3, "attributes": {"size": "S"}},
        {"sku": "LS-M", "title": "Medium", "price_minor": 2600},
    ],
}


def fields_of(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


@pytest.fixture
async def ann(client, staff, open_store):
    """Ann, owner of cat-shop (EUR), signed in."""
    ann = await staff("ann@cat.test")
    ann.store_id = await open_store(ann, SLUG, "EUR")
    return ann


async def create(ann, body: dict) -> dict:
    response = await ann.post(PRODUCTS, body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def foreign(two_stores, admin_conn):
    """Ids of store bravo's rows (another store's): a product and one of its variants, and the store's id."""
    product_id = two_stores.b.product_ids[0]
    variant = await admin_conn.fetchrow(
        "SELECT id, inventory FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1", product_id
    )
    return {"store_id": two_stores.b.id, "product_id": str(product_id), "variant_id": str(variant["id"])}


# --- products and variants -----------------------------------------------------------------------------------------


async def test_create_a_product_with_variants(ann, rows) -> None:
    product = await create(ann, SHIRT)
    assert product["name"] == "Linen Shirt"
    assert product["slug"] == "linen-shirt"
    assert product["description"] == "Soft and cool."
    assert product["status"] == "active"
    assert [
        (v["sku"], v["title"], v["price"], v["inventory"], v["attributes"], v["position"]) for v in product["variants"]
    ] == [
        ("LS-S", "Small", {"amount_minor": 2500, "currency": "EUR"}, 3, {"size": "S"}, 0),
        ("LS-M", "Medium", {"amount_minor": 2600, "currency": "EUR"}, 0, {}, 1),
    ]
    assert (await ann.get(f"{PRODUCTS}/{product['id']}")).json() == product
    assert await rows("products", "store_id = $1", ann.store_id) == 1
    assert await rows("product_variants", "store_id = $1", ann.store_id) == 2

    # The initial stock is the first entry of the variant's history.
    small = product["variants"][0]["id"]
    history = (await ann.get(ADJUST, params={"variant_id": small})).json()
    assert [(e["delta"], e["inventory_after"], e["reason"]) for e in history["items"]] == [(3, 3, "initial stock")]
    assert history["items"][0]["actor_user_id"] == str(ann.user_id)

    # Defaults: a draft without variants.
    bare = await create(ann, {"name": "Bare", "slug": "bare"})
    assert (bare["status"], bare["description"], bare["variants"]) == ("draft", "", [])

    # Active ones are on the storefront, drafts are not.
    listed = (await ann.client.get(STOREFRONT)).json()
    assert [item["slug"] for item in listed["items"]] == ["linen-shirt"]


async def test_duplicate_slugs_and_skus_are_conflicts_naming_the_field(ann, two_stores, problem, rows) -> None:
    shirt = await create(ann, SHIRT)

    body = problem(await ann.post(PRODUCTS, {**SHIRT, "variants": []}), 409, "conflict")
    assert fields_of(body) == ["slug"]
    body = problem(
        await ann.post(PRODUCTS, {"name": "Other", "slug": "other", "variants": [{"sku": "LS-M", "price_minor": 1}]}),
        409,
        "conflict",
    )
    assert fields_of(body) == ["sku"]
    twice = [{"sku": "DUP", "price_minor": 1}, {"sku": "DUP", "price_minor": 2}]
    body = problem(await ann.post(PRODUCTS, {"name": "Twice", "slug": "twice", "variants": twice}), 409, "conflict")
    assert fields_of(body) == ["sku"]
    assert await rows("products", "store_id = $1", ann.store_id) == 1, "a refused product left rows behind"
    assert await rows("product_variants", "store_id = $1", ann.store_id) == 2

    other = await create(ann, {"name": "Other", "slug": "other", "variants": [{"sku": "OT-1", "price_minor": 1}]})
    body = problem(await ann.post(f"{PRODUCTS}/{other['id']}/variants", {"sku": "LS-S", "price_minor": 1}), 409)
    assert fields_of(body) == ["sku"]
    variant_url = f"{PRODUCTS}/{other['id']}/variants/{other['variants'][0]['id']}"
    body = problem(await ann.patch(variant_url, {"sku": "LS-S"}), 409)
    assert fields_of(body) == ["sku"]
    body = problem(await ann.patch(f"{PRODUCTS}/{other['id']}", {"slug": shirt["slug"]}), 409)
    assert fields_of(body) == ["slug"]
    assert (await ann.get(f"{PRODUCTS}/{other['id']}")).json() == other

    # Another store's slugs and SKUs are no conflict.
    bravo_slug = two_stores.b.product_slugs[0]
    await create(ann, {"name": "Same", "slug": bravo_slug, "variants": [{"sku": "bravo-1-s", "price_minor": 1}]})


async def test_list_filters_sorts_and_pages(ann, problem) -> None:
    made = {}
    for name, slug, status in [
        ("Alpha Mug", "alpha-mug", "active"),
        ("Beta Cup", "beta-cup", "draft"),
        ("Gamma Plate", "gamma-plate", "archived"),
        ("Delta 100% Bowl", "delta-bowl", "active"),
    ]:
        made[slug] = await create(ann, {"name": name, "slug": slug, "status": status})

    async def slugs(**params) -> tuple[list[str], dict]:
        response = await ann.get(PRODUCTS, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "limit", "offset", "total"}
        return [item["slug"] for item in page["items"]], page

    found, page = await slugs()
    assert found == ["delta-bowl", "gamma-plate", "beta-cup", "alpha-mug"], "newest first by default"
    assert (page["limit"], page["offset"], page["total"]) == (24, 0, 4)

    assert (await slugs(status="active"))[0] == ["delta-bowl", "alpha-mug"]
    assert (await slugs(status="archived"))[0] == ["gamma-plate"]
    assert (await slugs(status="draft"))[1]["total"] == 1
    assert (await slugs(q="MUG"))[0] == ["alpha-mug"]
    assert (await slugs(q="beta-c"))[0] == ["beta-cup"], "q matches slugs too"
    assert (await slugs(q="100%"))[0] == ["delta-bowl"]
    assert (await slugs(q="%"))[0] == ["delta-bowl"], "% is a literal, not a wildcard"
    assert (await slugs(q="_"))[1]["total"] == 0, "_ is a literal, not a wildcard"
    assert (await slugs(q="a", status="active"))[0] == ["delta-bowl", "alpha-mug"]
    assert (await slugs(q="zzz"))[1] == {"items": [], "limit": 24, "offset": 0, "total": 0}

    assert (await slugs(sort="name"))[0] == ["alpha-mug", "beta-cup", "delta-bowl", "gamma-plate"]
    assert (await slugs(sort="-name"))[0] == ["gamma-plate", "delta-bowl", "beta-cup", "alpha-mug"]
    assert (await slugs(sort="created_at"))[0] == ["alpha-mug", "beta-cup", "gamma-plate", "delta-bowl"]
    await ann.patch(f"{PRODUCTS}/{made['beta-cup']['id']}", {"description": "touched"})
    assert (await slugs(sort="-updated_at"))[0][0] == "beta-cup"
    assert (await slugs(sort="updated_at"))[0][-1] == "beta-cup"

    found, page = await slugs(limit=2, offset=1)
    assert found == ["gamma-plate", "beta-cup"]
    assert (page["limit"], page["offset"], page["total"]) == (2, 1, 4)
    found, page = await slugs(limit=2, offset=4)
    assert (found, page["total"]) == ([], 4)
    assert (await slugs(limit=100))[1]["limit"] == 100
    assert (await slugs(status="active", limit=1))[1]["total"] == 2, "total counts the filtered products"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "price"}, "sort"),
        ({"sort": "name;drop table products"}, "sort"),
        ({"sort": "id"}, "sort"),
        ({"sort": ""}, "sort"),
        ({"status": "deleted"}, "status"),
        ({"status": "ACTIVE"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"q": "x" * 101}, "q"),
    ],
)
async def test_bad_list_parameters_are_400_naming_them(ann, problem, params, field) -> None:
    body = problem(await ann.get(PRODUCTS, params=params), 400, "invalid-input")
    assert field in fields_of(body), body


async def test_patch_and_archive_take_a_product_off_the_storefront(ann, client, problem) -> None:
    product = await create(ann, SHIRT)
    url = f"{PRODUCTS}/{product['id']}"
    assert (await client.get(f"{STOREFRONT}/linen-shirt")).status_code == 200

    renamed = await ann.patch(url, {"name": "Linen Shirt II", "description": "Even softer."})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["description"]) == ("Linen Shirt II", "Even softer.")
    assert renamed.json()["updated_at"] > product["updated_at"]
    assert renamed.json()["variants"] == product["variants"]
    assert (await client.get(f"{STOREFRONT}/linen-shirt")).json()["name"] == "Linen Shirt II"

    archived = await ann.patch(url, {"status": "archived"})
    assert archived.status_code == 200, archived.text
    assert archived.json()["status"] == "archived"
    assert [item["slug"] for item in (await client.get(STOREFRONT)).json()["items"]] == []
    problem(await client.get(f"{STOREFRONT}/linen-shirt"), 404)
    assert (await ann.get(url)).json()["status"] == "archived", "the admin still sees it"

    restored = await ann.patch(url, {"status": "active", "slug": "linen-shirt-2"})
    assert restored.status_code == 200, restored.text
    assert [item["slug"] for item in (await client.get(STOREFRONT)).json()["items"]] == ["linen-shirt-2"]
    problem(await client.get(f"{STOREFRONT}/linen-shirt"), 404)


async def test_add_a_variant_and_change_its_price(ann, client) -> None:
    product = await create(ann, {**SHIRT, "variants": SHIRT["variants"][:1]})
    added = await ann.post(
        f"{PRODUCTS}/{product['id']}/variants",
        {"sku": "LS-L", "title": "Large", "price_minor": 2700, "inventory": 2, "attributes": {"size": "L"}},
    )
    assert added.status_code == 201, added.text
    variants = added.json()["variants"]
    assert [(v["sku"], v["position"], v["inventory"]) for v in variants] == [("LS-S", 0, 3), ("LS-L", 1, 2)]
    large = variants[1]

    url = f"{PRODUCTS}/{product['id']}/variants/{large['id']}"
    changed = await ann.patch(url, {"price_minor": 2999, "title": "Large!"})
    assert changed.status_code == 200, changed.text
    [updated] = [v for v in changed.json()["variants"] if v["id"] == large["id"]]
    assert updated["price"] == {"amount_minor": 2999, "currency": "EUR"}
    assert updated["title"] == "Large!"
    assert updated["inventory"] == 2, "stock changes only through adjustments"
    shown = (await client.get(f"{STOREFRONT}/linen-shirt")).json()
    assert {v["sku"]: v["price"]["amount_minor"] for v in shown["variants"]} == {"LS-S": 2500, "LS-L": 2999}

    moved = await ann.patch(url, {"position": 0, "attributes": {"size": "L", "fit": "loose"}})
    assert moved.status_code == 200, moved.text
    [large_now] = [v for v in moved.json()["variants"] if v["id"] == large["id"]]
    assert (large_now["position"], large_now["attributes"]) == (0, {"size": "L", "fit": "loose"})


async def test_another_stores_products_and_variants_are_404(ann, foreign, store_snapshot, changed, problem) -> None:
    own = await create(ann, SHIRT)
    other = await create(ann, {"name": "Other", "slug": "other", "variants": [{"sku": "OT-1", "price_minor": 1}]})
    own_variant = own["variants"][0]["id"]
    b_product, b_variant = foreign["product_id"], foreign["variant_id"]
    before_b = await store_snapshot(foreign["store_id"])
    before_a = await store_snapshot(ann.store_id)

    attempts = [
        ("GET", f"{PRODUCTS}/{b_product}", None),
        ("PATCH", f"{PRODUCTS}/{b_product}", {"name": "Hijacked", "status": "archived"}),
        ("POST", f"{PRODUCTS}/{b_product}/variants", {"sku": "PLANTED", "price_minor": 1}),
        ("PATCH", f"{PRODUCTS}/{b_product}/variants/{b_variant}", {"price_minor": 1}),
        ("PATCH", f"{PRODUCTS}/{own['id']}/variants/{b_variant}", {"price_minor": 1}),
        ("PATCH", f"{PRODUCTS}/{b_product}/variants/{own_variant}", {"price_minor": 1}),
        # One's own variant under one's own other product is no variant of that product either.
        ("PATCH", f"{PRODUCTS}/{other['id']}/variants/{own_variant}", {"price_minor": 1}),
        ("GET", f"{PRODUCTS}/{uuid.uuid4()}", None),
        ("PATCH", f"{PRODUCTS}/{uuid.uuid4()}", {"name": "Ghost"}),
    ]
    for method, path, body in attempts:
        problem(await ann.send(method, path, body), 404, "not-found")
    assert changed(before_b, await store_snapshot(foreign["store_id"])) == []
    assert changed(before_a, await store_snapshot(ann.store_id)) == []


# --- stock ---------------------------------------------------------------------------------------------------------


async def test_stock_adjustments_keep_a_history(ann, rows, problem, admin_conn) -> None:
    product = await create(ann, {"name": "Mug", "slug": "mug", "variants": [{"sku": "MUG-1", "price_minor": 900}]})
    variant_id = product["variants"][0]["id"]

    added = await ann.post(ADJUST, {"variant_id": variant_id, "delta": 5, "reason": "delivery from supplier"})
    assert added.status_code == 201, added.text
    assert (added.json()["delta"], added.json()["inventory_after"]) == (5, 5)
    removed = await ann.post(ADJUST, {"variant_id": variant_id, "delta": -3, "reason": "sold at the fair"})
    assert removed.status_code == 201, removed.text
    entry = removed.json()
    assert (entry["variant_id"], entry["delta"], entry["inventory_after"]) == (variant_id, -3, 2)
    assert entry["reason"] == "sold at the fair"
    assert entry["actor_user_id"] == str(ann.user_id)
    assert (await ann.get(f"{PRODUCTS}/{product['id']}")).json()["variants"][0]["inventory"] == 2

    # Removing more than is on hand: 422 naming delta, and nothing changes.
    body = problem(await ann.post(ADJUST, {"variant_id": variant_id, "delta": -3, "reason": "oops"}), 422)
    assert fields_of(body) == ["delta"]
    assert "2" in body["detail"]
    # A delta of 0 changes nothing and is refused.
    zero = await ann.post(ADJUST, {"variant_id": variant_id, "delta": 0, "reason": "nothing"})
    problem(zero, zero.status_code)
    assert zero.status_code in (400, 422), zero.text
    assert "delta" in fields_of(zero.json())
    assert await rows("inventory_adjustments", "variant_id = $1", uuid.UUID(variant_id)) == 2
    assert await admin_conn.fetchval("SELECT inventory FROM product_variants WHERE id = $1", uuid.UUID(variant_id)) == 2

    # Down to exactly zero is fine.
    emptied = await ann.post(ADJUST, {"variant_id": variant_id, "delta": -2, "reason": "stocktake"})
    assert emptied.status_code == 201, emptied.text
    assert emptied.json()["inventory_after"] == 0

    history = await ann.get(ADJUST, params={"variant_id": variant_id})
    assert history.status_code == 200, history.text
    page = history.json()
    assert set(page) == {"items", "limit", "offset", "total"}
    assert page["total"] == 3
    assert [(e["delta"], e["inventory_after"], e["reason"]) for e in page["items"]] == [
        (-2, 0, "stocktake"),
        (-3, 2, "sold at the fair"),
        (5, 5, "delivery from supplier"),
    ]
    assert [e["id"] for e in page["items"]][::-1] == [added.json()["id"], entry["id"], emptied.json()["id"]]
    paged = (await ann.get(ADJUST, params={"variant_id": variant_id, "limit": 1, "offset": 1})).json()
    assert [e["reason"] for e in paged["items"]] == ["sold at the fair"]
    assert (paged["limit"], paged["offset"], paged["total"]) == (1, 1, 3)


async def test_adjustments_never_take_away_stock_that_checkouts_hold(ann, rows, problem, admin_conn) -> None:
    product = await create(
        ann, {"name": "Mug", "slug": "mug", "variants": [{"sku": "MUG-1", "price_minor": 900, "inventory": 5}]}
    )
    variant_id = product["variants"][0]["id"]
    await admin_conn.execute("UPDATE product_variants SET reserved = 3 WHERE id = $1", uuid.UUID(variant_id))
    body = problem(await ann.post(ADJUST, {"variant_id": variant_id, "delta": -3, "reason": "breakage"}), 422)
    assert fields_of(body) == ["delta"]
    assert "at most 2 can be removed" in body["detail"]
    stock = await admin_conn.fetchrow(
        "SELECT inventory, reserved FROM product_variants WHERE id = $1", uuid.UUID(variant_id)
    )
    assert (stock["inventory"], stock["reserved"]) == (5, 3), "a refused adjustment changes nothing"
    assert await rows("inventory_adjustments", "variant_id = $1", uuid.UUID(variant_id)) == 1  # the initial stock
    removed = await ann.post(ADJUST, {"variant_id": variant_id, "delta": -2, "reason": "breakage"})
    assert removed.status_code == 201, removed.text
    assert removed.json()["inventory_after"] == 3
    assert (await ann.get(f"{PRODUCTS}/{product['id']}")).json()["variants"][0]["reserved"] == 3


async def test_concurrent_removals_never_take_stock_below_zero(ann, rows) -> None:
    product = await create(
        ann, {"name": "Mug", "slug": "mug", "variants": [{"sku": "MUG-1", "price_minor": 900, "inventory": 3}]}
    )
    variant_id = product["variants"][0]["id"]
    answers = await asyncio.gather(
        *[ann.post(ADJUST, {"variant_id": variant_id, "delta": -1, "reason": f"sale {n}"}) for n in range(6)]
    )
    assert sorted(answer.status_code for answer in answers) == [201, 201, 201, 422, 422, 422]
    assert sorted(answer.json()["inventory_after"] for answer in answers if answer.status_code == 201) == [0, 1, 2]
    assert (await ann.get(f"{PRODUCTS}/{product['id']}")).json()["variants"][0]["inventory"] == 0
    assert await rows("inventory_adjustments", "variant_id = $1", uuid.UUID(variant_id)) == 4  # with the initial


async def test_adjusting_another_stores_variant_is_404_and_writes_nothing(
    ann, foreign, store_snapshot, changed, admin_conn, problem
) -> None:
    before_b = await store_snapshot(foreign["store_id"])
    before_a = await store_snapshot(ann.store_id)
    for delta in (5, -1, -1000):
        body = problem(
            await ann.post(ADJUST, {"variant_id": foreign["variant_id"], "delta": delta, "reason": "steal"}),
            404,
            "not-found",
        )
        assert "variant_id" in fields_of(body) or not body.get("errors")
    problem(await ann.post(ADJUST, {"variant_id": str(uuid.uuid4()), "delta": 1, "reason": "ghost"}), 404)
    assert changed(before_b, await store_snapshot(foreign["store_id"])) == []
    assert changed(before_a, await store_snapshot(ann.store_id)) == []
    # Nor does the history show another store's entries.
    history = (await ann.get(ADJUST, params={"variant_id": foreign["variant_id"]})).json()
    assert (history["items"], history["total"]) == ([], 0)
    assert (await ann.get(ADJUST)).json()["total"] == 0
    assert (
        await admin_conn.fetchval("SELECT count(*) FROM inventory_adjustments WHERE store_id = $1", ann.store_id) == 0
    )


# --- settings ------------------------------------------------------------------------------------------------------


async def test_settings_read_and_change_are_audited(ann) -> None:
    read = await ann.get(SETTINGS)
    assert read.status_code == 200, read.text
    assert read.json() == {
        "slug": SLUG,
        "name": "Cat Shop",
        "currency": "EUR",
        "status": "active",
        "contact_email": None,
        "theme": "default",
    }

    changed = await ann.patch(SETTINGS, {"name": "Cat Shop Ltd", "contact_email": "hello@cat.test"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**read.json(), "name": "Cat Shop Ltd", "contact_email": "hello@cat.test"}
    assert (await ann.get(SETTINGS)).json() == changed.json()
    assert [store["name"] for store in (await ann.get("/api/stores")).json()] == ["Cat Shop Ltd"]

    themed = await ann.patch(SETTINGS, {"theme": "dark-mode", "contact_email": None})
    assert themed.status_code == 200, themed.text
    assert (themed.json()["theme"], themed.json()["contact_email"]) == ("dark-mode", None)

    noop = await ann.patch(SETTINGS, {"name": "Cat Shop Ltd"})
    assert noop.status_code == 200, noop.text

    entries = (await ann.get(f"{SHOP}/audit")).json()["items"]
    assert [entry["action"] for entry in entries] == ["settings.updated", "settings.updated"], "no entry for no-ops"
    newest, oldest = entries
    assert oldest["request_id"] == changed.headers["x-request-id"]
    assert oldest["actor_user_id"] == str(ann.user_id)
    assert oldest["target_id"] == str(ann.store_id)
    assert oldest["changes"] == {
        "name": {"from": "Cat Shop", "to": "Cat Shop Ltd"},
        "contact_email": {"from": None, "to": "hello@cat.test"},
    }
    assert newest["request_id"] == themed.headers["x-request-id"]
    assert newest["changes"] == {
        "theme": {"from": "default", "to": "dark-mode"},
        "contact_email": {"from": "hello@cat.test", "to": None},
    }


async def test_the_currency_changes_only_while_no_variant_is_priced(ann, rows, problem) -> None:
    changed = await ann.patch(SETTINGS, {"currency": "USD"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["currency"] == "USD"
    # New prices are in the new currency.
    product = await create(ann, {"name": "Mug", "slug": "mug", "variants": [{"sku": "M", "price_minor": 5}]})
    assert product["variants"][0]["price"]["currency"] == "USD"

    audit_before = (await ann.get(f"{SHOP}/audit")).json()["total"]
    body = problem(await ann.patch(SETTINGS, {"currency": "EUR", "name": "Renamed"}), 422)
    assert fields_of(body) == ["currency"]
    settings = (await ann.get(SETTINGS)).json()
    assert (settings["currency"], settings["name"]) == ("USD", "Cat Shop"), "a refused change changes nothing"
    assert (await ann.get(f"{SHOP}/audit")).json()["total"] == audit_before
    # Naming the current currency is no change.
    assert (await ann.patch(SETTINGS, {"currency": "USD"})).status_code == 200


async def test_the_currency_stays_while_discounts_carry_amounts_in_it(ann, problem) -> None:
    percent = await ann.post(f"{SHOP}/discounts", {"code": "TENOFF", "kind": "percentage", "value": 1000})
    assert percent.status_code == 201, percent.text
    assert (await ann.patch(SETTINGS, {"currency": "USD"})).status_code == 200, "a percentage has no currency"
    fixed = await ann.post(f"{SHOP}/discounts", {"code": "FIVE", "kind": "fixed_amount", "value": 500})
    assert fixed.status_code == 201, fixed.text
    body = problem(await ann.patch(SETTINGS, {"currency": "EUR"}), 422)
    assert fields_of(body) == ["currency"]
    assert (await ann.get(SETTINGS)).json()["currency"] == "USD"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "suspended"}, "status"),
        ({"status": "active"}, "status"),
        ({"slug": "new-slug"}, "slug"),
        ({"owner_user_id": str(uuid.UUID(int=1))}, "owner_user_id"),
        ({"name": "Ok", "colour": "red"}, "colour"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"theme": "Dark Mode"}, "theme"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"name": ""}, "name"),
    ],
)
async def test_settings_refuse_unknown_and_read_only_fields(ann, store_snapshot, problem, body, field) -> None:
    before = await store_snapshot(ann.store_id)
    answer = problem(await ann.patch(SETTINGS, body), 400, "invalid-input")
    assert field in fields_of(answer), answer
    assert await store_snapshot(ann.store_id) == before
