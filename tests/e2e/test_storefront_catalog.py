"""The public catalog over HTTP: ``/api/storefront/{slug}/products`` and ``.../products/{product_slug}``."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from tenantcommerce.testing import StoreFixture, TwoStores

UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def products_path(store: str) -> str:
    return f"/api/storefront/{store}/products"


def check_product(item: dict[str, Any], store: StoreFixture, currency: str) -> None:
    """One product as the fixture made it: two variants (Small in stock, Large not), prices in the store currency."""
    assert set(item) == {"id", "slug", "name", "description", "variants", "media"}
    assert UUID_TEXT.match(item["id"])
    index = store.product_slugs.index(item["slug"])
    assert item["id"] == str(store.product_ids[index])
    assert item["name"] == f"{store.slug} product {index + 1}"
    assert item["description"] == ""
    variants = item["variants"]
    assert [variant["sku"] for variant in variants] == [f"{store.slug}-{index + 1}-s", f"{store.slug}-{index + 1}-l"]
    assert [variant["title"] for variant in variants] == ["Small", "Large"]
    assert [variant["price"] for variant in variants] == [
        {"amount_minor": 1000 + index, "currency": currency},
        {"amount_minor": 1500 + index, "currency": currency},
    ]
    assert [variant["in_stock"] for variant in variants] == [True, False]
    assert [variant["available"] for variant in variants] == [5, 0]
    for variant in variants:
        assert set(variant) == {"id", "sku", "title", "price", "in_stock", "available", "attributes"}
        assert UUID_TEXT.match(variant["id"])
        assert variant["attributes"] == {}
    assert item["media"] == []


async def test_list_has_only_the_stores_active_products(client, two_stores: TwoStores) -> None:
    for store, other, currency in ((two_stores.a, two_stores.b, "EUR"), (two_stores.b, two_stores.a, "USD")):
        response = await client.get(products_path(store.slug))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert set(body) == {"items", "limit", "offset", "total"}
        assert body["limit"] == 24  # the documented default
        assert body["offset"] == 0
        assert body["total"] == 3
        slugs = [item["slug"] for item in body["items"]]
        assert sorted(slugs) == sorted(store.product_slugs)
        assert store.draft_slug not in slugs
        assert not set(slugs) & set(other.product_slugs)
        for item in body["items"]:
            check_product(item, store, currency)


async def test_list_is_newest_first(client, two_stores: TwoStores) -> None:
    response = await client.get(products_path("alpha"))
    assert [item["slug"] for item in response.json()["items"]] == list(reversed(two_stores.a.product_slugs))


async def test_pagination_moves_the_window_and_keeps_the_total(client, two_stores: TwoStores) -> None:
    pages = []
    for offset in (0, 2, 3):
        response = await client.get(products_path("alpha"), params={"limit": 2, "offset": offset})
        assert response.status_code == 200
        body = response.json()
        assert (body["limit"], body["offset"], body["total"]) == (2, offset, 3)
        pages.append([item["slug"] for item in body["items"]])
    first, second, past_the_end = pages
    assert len(first) == 2
    assert len(second) == 1
    assert past_the_end == []
    assert sorted(first + second) == sorted(two_stores.a.product_slugs)

    one = (await client.get(products_path("alpha"), params={"limit": 1, "offset": 1})).json()
    assert [item["slug"] for item in one["items"]] == first[1:2]
    assert one["total"] == 3

    for limit in (1, 100):  # both bounds are accepted
        response = await client.get(products_path("alpha"), params={"limit": limit})
        assert response.status_code == 200
        assert response.json()["limit"] == limit
        assert len(response.json()["items"]) == min(limit, 3)


async def test_detail_by_slug(client, two_stores: TwoStores) -> None:
    for store, currency in ((two_stores.a, "EUR"), (two_stores.b, "USD")):
        for slug in store.product_slugs:
            response = await client.get(f"{products_path(store.slug)}/{slug}")
            assert response.status_code == 200
            body = response.json()
            assert body["slug"] == slug
            check_product(body, store, currency)


async def test_another_stores_product_is_answered_like_an_unknown_one(client, two_stores: TwoStores, problem) -> None:
    for store, other in ((two_stores.a, two_stores.b), (two_stores.b, two_stores.a)):
        foreign_slug = other.product_slugs[0]
        unknown_slug = "no-such-product"
        foreign = await client.get(f"{products_path(store.slug)}/{foreign_slug}")
        unknown = await client.get(f"{products_path(store.slug)}/{unknown_slug}")
        foreign_body = problem(foreign, 404, "not-found")
        unknown_body = problem(unknown, 404, "not-found")
        assert foreign.headers["content-type"] == unknown.headers["content-type"]
        # Same answer but for the echoed slug: nothing tells the other store's product apart from a missing one.
        assert set(foreign_body) == set(unknown_body)
        redacted = {key: str(value).replace(foreign_slug, "<slug>") for key, value in foreign_body.items()}
        assert redacted == {key: str(value).replace(unknown_slug, "<slug>") for key, value in unknown_body.items()}
        for revealing in (other.slug, str(other.id), other.store.name):
            assert revealing not in foreign.text.replace(foreign_slug, "")


async def test_draft_product_is_not_found(client, two_stores: TwoStores, problem) -> None:
    response = await client.get(f"{products_path('alpha')}/{two_stores.a.draft_slug}")
    problem(response, 404, "not-found")


async def test_unknown_store_is_problem_404(client, two_stores: TwoStores, problem) -> None:
    for suffix in ("", "/alpha-product-1"):
        problem(await client.get(products_path("no-such-store") + suffix), 404, "store-not-found")


BAD_PAGINATION = [
    ("limit=0", {"limit"}),
    ("limit=101", {"limit"}),
    ("limit=abc", {"limit"}),
    ("limit=", {"limit"}),
    ("limit=2.5", {"limit"}),
    ("offset=-1", {"offset"}),
    ("offset=abc", {"offset"}),
    ("offset=99999999999999999999999", {"offset"}),
    ("limit=0&offset=-1", {"limit", "offset"}),
]


async def test_bad_pagination_is_400_naming_the_field(client, two_stores: TwoStores, problem) -> None:
    for query, fields in BAD_PAGINATION:
        response = await client.get(f"{products_path('alpha')}?{query}")
        body = problem(response, 400, "invalid-input")
        errors = body.get("errors")
        assert isinstance(errors, list), query
        assert {error["field"] for error in errors} == fields, query
        for error in errors:
            assert isinstance(error["message"], str)
            assert error["message"]


async def test_over_long_product_slug_is_404(client, two_stores: TwoStores, problem) -> None:
    for length in (201, 300, 5000):
        problem(await client.get(f"{products_path('alpha')}/{'x' * length}"), 404, "not-found")


async def test_openapi_documents_the_catalog(client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    listing = paths["/api/storefront/{slug}/products"]["get"]
    detail = paths["/api/storefront/{slug}/products/{product_slug}"]["get"]
    parameters = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert parameters["slug"]["in"] == "path"
    assert parameters["limit"]["in"] == "query"
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["limit"]["schema"]["maximum"] == 100
    assert parameters["offset"]["schema"]["minimum"] == 0
    assert {parameter["name"] for parameter in detail["parameters"]} == {"slug", "product_slug"}
    assert "200" in listing["responses"]
    assert "200" in detail["responses"]


# --- stock held by checkouts, and images -------------------------------------------------------------------------


async def variant_ids(conn: asyncpg.Connection, product_id: UUID) -> list[UUID]:
    rows = await conn.fetch("SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position", product_id)
    return [row["id"] for row in rows]


def availability(product: dict[str, Any]) -> list[tuple[bool, int]]:
    return [(variant["in_stock"], variant["available"]) for variant in product["variants"]]


async def test_reserved_stock_is_not_offered(client, two_stores: TwoStores, admin_conn: asyncpg.Connection) -> None:
    store = two_stores.a
    slug = store.product_slugs[0]
    small, large = await variant_ids(admin_conn, store.product_ids[0])
    await admin_conn.execute("UPDATE product_variants SET inventory = 3 WHERE id = $1", large)

    async def seen() -> tuple[list[tuple[bool, int]], list[tuple[bool, int]]]:
        detail = (await client.get(f"{products_path(store.slug)}/{slug}")).json()
        listed = (await client.get(products_path(store.slug))).json()["items"]
        (item,) = [item for item in listed if item["slug"] == slug]
        return availability(detail), availability(item)

    assert await seen() == ([(True, 5), (True, 3)],) * 2
    # Checkouts hold 4 of 5 small and all 3 large: one small left to sell, no large, though all are on hand.
    await admin_conn.execute("UPDATE product_variants SET reserved = 4 WHERE id = $1", small)
    await admin_conn.execute("UPDATE product_variants SET reserved = 3 WHERE id = $1", large)
    assert await seen() == ([(True, 1), (False, 0)],) * 2
    await admin_conn.execute("UPDATE product_variants SET reserved = 5 WHERE id = $1", small)
    assert await seen() == ([(False, 0), (False, 0)],) * 2
    # Another store's catalog is untouched by these reservations.
    other = (await client.get(f"{products_path(two_stores.b.slug)}/{two_stores.b.product_slugs[0]}")).json()
    assert availability(other) == [(True, 5), (False, 0)]


async def add_image(conn: asyncpg.Connection, store_id: UUID, product_id: UUID, **values: Any) -> str:
    media_id = uuid4()
    row = {"variant_id": None, "alt": "", "position": 0, "content_type": "image/webp", "width": 640, "height": 480}
    row.update(values)
    await conn.execute(
        "INSERT INTO product_media (store_id, id, product_id, variant_id, storage_key, content_type, byte_size, sha256,"
        " width, height, alt, position) VALUES ($1, $2, $3, $4, $5, $6, 100, $7, $8, $9, $10, $11)",
        store_id,
        media_id,
        product_id,
        row["variant_id"],
        f"{store_id}/{media_id}.webp",
        row["content_type"],
        "0" * 64,
        row["width"],
        row["height"],
        row["alt"],
        row["position"],
    )
    return str(media_id)


async def test_products_carry_their_images_in_order(client, two_stores: TwoStores, admin_conn) -> None:
    store, other = two_stores.a, two_stores.b
    product_id, slug = store.product_ids[2], store.product_slugs[2]
    small, _ = await variant_ids(admin_conn, product_id)
    back = await add_image(admin_conn, store.id, product_id, position=2, alt="Back", width=None, height=None)
    front = await add_image(admin_conn, store.id, product_id, position=0, alt="Front", variant_id=small)
    side = await add_image(admin_conn, store.id, product_id, position=1, content_type="image/gif")
    await add_image(admin_conn, other.id, other.product_ids[2])

    detail = (await client.get(f"{products_path(store.slug)}/{slug}")).json()
    assert [image["id"] for image in detail["media"]] == [front, side, back]
    assert detail["media"][0] == {
        "id": front,
        "url": f"/api/storefront/{store.slug}/media/{front}",
        "alt": "Front",
        "width": 640,
        "height": 480,
        "variant_id": str(small),
        "content_type": "image/webp",
    }
    assert detail["media"][1]["content_type"] == "image/gif"
    assert (detail["media"][2]["width"], detail["media"][2]["height"], detail["media"][2]["variant_id"]) == (
        None,
        None,
        None,
    )
    listed = {item["slug"]: item["media"] for item in (await client.get(products_path(store.slug))).json()["items"]}
    assert listed[slug] == detail["media"]
    assert [listed[other_slug] for other_slug in store.product_slugs[:2]] == [[], []]
    # The other store's image shows under its own product only, with its own store's path.
    theirs = (await client.get(f"{products_path(other.slug)}/{other.product_slugs[2]}")).json()["media"]
    assert len(theirs) == 1
    assert theirs[0]["url"].startswith(f"/api/storefront/{other.slug}/media/")


# --- filters and sort ------------------------------------------------------------------------------------------------


async def listed(client, store: str, **params: Any) -> tuple[list[str], int]:
    response = await client.get(products_path(store), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["slug"] for item in body["items"]], body["total"]


async def test_search_matches_names_in_any_case_within_the_store(client, two_stores: TwoStores, admin_conn) -> None:
    a = two_stores.a
    await admin_conn.execute("UPDATE products SET name = 'Merino 100%_Wool' WHERE id = $1", a.product_ids[1])
    assert await listed(client, "alpha", q="MERINO") == ([a.product_slugs[1]], 1)
    assert await listed(client, "alpha", q="100%_") == ([a.product_slugs[1]], 1)  # no LIKE wildcards
    assert await listed(client, "alpha", q="0%") == ([a.product_slugs[1]], 1)
    assert await listed(client, "alpha", q="_") == ([a.product_slugs[1]], 1)
    assert await listed(client, "alpha", q="  product 3 ") == ([a.product_slugs[2]], 1)  # trimmed
    assert await listed(client, "alpha", q="alpha product") == (list(reversed(a.product_slugs[::2])), 2)
    # The other store's products and the draft never match.
    assert await listed(client, "alpha", q="bravo") == ([], 0)
    draft_name = await admin_conn.fetchval("SELECT name FROM products WHERE slug = $1", a.draft_slug)
    assert await listed(client, "alpha", q=draft_name) == ([], 0)
    assert await listed(client, "bravo", q="product") == (list(reversed(two_stores.b.product_slugs)), 3)


async def test_in_stock_counts_what_checkouts_hold(client, two_stores: TwoStores, admin_conn) -> None:
    a = two_stores.a
    assert await listed(client, "alpha", in_stock="true") == (list(reversed(a.product_slugs)), 3)
    small, large = await variant_ids(admin_conn, a.product_ids[0])
    await admin_conn.execute("UPDATE product_variants SET reserved = inventory WHERE id = $1", small)
    first_gone = list(reversed(a.product_slugs[1:]))
    assert await listed(client, "alpha", in_stock="true") == (first_gone, 2)
    assert await listed(client, "alpha", in_stock="false") == (list(reversed(a.product_slugs)), 3)
    await admin_conn.execute("UPDATE product_variants SET inventory = 1 WHERE id = $1", large)  # the other variant
    assert await listed(client, "alpha", in_stock="true") == (list(reversed(a.product_slugs)), 3)
    assert await listed(client, "bravo", in_stock="true") == (list(reversed(two_stores.b.product_slugs)), 3)


async def test_sort_by_lowest_variant_price_and_by_name(client, two_stores: TwoStores, admin_conn) -> None:
    a = two_stores.a
    p1, p2, p3 = a.product_slugs  # lowest prices 1000, 1001, 1002 (the Small variants)
    small_3, _ = await variant_ids(admin_conn, a.product_ids[2])
    await admin_conn.execute("UPDATE product_variants SET price_minor = 500 WHERE id = $1", small_3)
    await admin_conn.execute("UPDATE products SET name = 'Zebra' WHERE id = $1", a.product_ids[0])
    await admin_conn.execute("UPDATE products SET name = 'apple' WHERE id = $1", a.product_ids[1])
    await admin_conn.execute("UPDATE products SET name = 'Mango' WHERE id = $1", a.product_ids[2])
    assert await listed(client, "alpha", sort="price_asc") == ([p3, p1, p2], 3)
    assert await listed(client, "alpha", sort="price_desc") == ([p2, p1, p3], 3)
    assert await listed(client, "alpha", sort="name") == ([p2, p3, p1], 3)
    assert await listed(client, "alpha", sort="newest") == ([p3, p2, p1], 3)
    # Sorted, then paged: the window moves over the sorted list and the total stays.
    assert await listed(client, "alpha", sort="price_asc", limit=1, offset=1) == ([p1], 3)
    # Combined with the filters.
    assert await listed(client, "alpha", sort="price_desc", q="E") == ([p2, p1], 2)  # apple, Zebra
    await admin_conn.execute("UPDATE product_variants SET reserved = inventory WHERE id = $1", small_3)
    assert await listed(client, "alpha", sort="price_asc", in_stock="true") == ([p1, p2], 2)


async def test_a_product_without_variants_sorts_last_by_price(client, two_stores: TwoStores, admin_conn) -> None:
    a = two_stores.a
    await admin_conn.execute("DELETE FROM product_variants WHERE product_id = $1", a.product_ids[0])
    p1, p2, p3 = a.product_slugs
    assert await listed(client, "alpha", sort="price_asc") == ([p2, p3, p1], 3)
    assert await listed(client, "alpha", sort="price_desc") == ([p3, p2, p1], 3)
    assert await listed(client, "alpha", in_stock="true") == ([p3, p2], 2)


BAD_FILTERS = [
    ("sort=cheapest", {"sort"}),
    ("sort=", {"sort"}),
    ("in_stock=maybe", {"in_stock"}),
    (f"q={'x' * 101}", {"q"}),
    ("sort=price&in_stock=2", {"sort", "in_stock"}),
]


async def test_bad_filters_are_400_naming_the_field(client, two_stores: TwoStores, problem) -> None:
    for query, fields in BAD_FILTERS:
        body = problem(await client.get(f"{products_path('alpha')}?{query}"), 400, "invalid-input")
        assert {error["field"] for error in body["errors"]} == fields, query
    assert (await client.get(products_path("alpha"), params={"q": "x" * 100})).status_code == 200
