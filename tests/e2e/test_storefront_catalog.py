"""The public catalog over HTTP: ``/api/storefront/{slug}/products`` and ``.../products/{product_slug}``."""

from __future__ import annotations

import re
from typing import Any

from tenantcommerce.testing import StoreFixture, TwoStores

UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def products_path(store: str) -> str:
    return f"/api/storefront/{store}/products"


def check_product(item: dict[str, Any], store: StoreFixture, currency: str) -> None:
    """One product as the fixture made it: two variants (Small in stock, Large not), prices in the store currency."""
    assert set(item) >= {"id", "slug", "name", "description", "variants"}
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
    for variant in variants:
        assert set(variant) >= {"id", "sku", "title", "price", "in_stock", "attributes"}
        assert UUID_TEXT.match(variant["id"])
        assert variant["attributes"] == {}


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
