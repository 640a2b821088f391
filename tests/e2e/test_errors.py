"""Error answers over HTTP: always problem+json, never a 500 for bad input."""

from __future__ import annotations

from tenantcommerce.testing import TwoStores

ALPHA = "/api/storefront/alpha/products"

# (path, extra headers, statuses that are right for it)
BAD_INPUTS: list[tuple[str, dict[str, str], set[int]]] = [
    (f"{ALPHA}?limit=0", {}, {400}),
    (f"{ALPHA}?limit=101", {}, {400}),
    (f"{ALPHA}?limit=abc", {}, {400}),
    (f"{ALPHA}?limit=", {}, {400}),
    (f"{ALPHA}?limit=1.5", {}, {400}),
    (f"{ALPHA}?limit=%00", {}, {400}),
    (f"{ALPHA}?offset=-1", {}, {400}),
    (f"{ALPHA}?offset=abc", {}, {400}),
    (f"{ALPHA}?offset=99999999999999999999999", {}, {400}),
    (f"{ALPHA}/{'x' * 201}", {}, {404}),
    (f"{ALPHA}/{'x' * 10_000}", {}, {404}),
    (f"{ALPHA}/%ff%fe", {}, {400, 404}),
    (f"{ALPHA}/%20", {}, {400, 404}),
    (f"{ALPHA}/a%00b", {}, {400, 404}),
    ("/api/storefront/a%00b/products", {}, {400, 404}),
    (f"/api/storefront/{'a' * 300}/products", {}, {404}),
    (f"/api/storefront/{'a' * 300}/products/alpha-product-1", {}, {404}),
    ("/api/storefront/%ff/products", {}, {400, 404}),
    ("/api/storefront/ALPHA/products", {}, {404}),
    (ALPHA, {"host": "bravo.shop.test"}, {404}),
    (ALPHA, {"host": "nope.shop.test"}, {404}),
    (ALPHA, {"host": ".shop.test"}, {400, 404}),
    (ALPHA, {"host": f"{'a' * 300}.shop.test"}, {400, 404}),
    (ALPHA, {"host": f"{'a' * 300}.example"}, {400, 404}),
    (ALPHA, {"host": "ex ample.com"}, {400}),
]


async def test_unknown_route_is_problem_404(client, problem) -> None:
    for path in ("/no/such/route", "/api/storefront", "/api/storefront/alpha", "/api/storefront/alpha/nothing"):
        problem(await client.get(path), 404, "not-found")


async def test_method_not_allowed_is_problem_405(client, two_stores: TwoStores, problem) -> None:
    for method, path in (("POST", ALPHA), ("DELETE", f"{ALPHA}/alpha-product-1"), ("PUT", "/health")):
        response = await client.request(method, path)
        problem(response, 405, "method-not-allowed")
        assert "GET" in response.headers["allow"]


async def test_bad_input_is_never_a_500(client, two_stores: TwoStores, problem) -> None:
    wrong = []
    for path, headers, statuses in BAD_INPUTS:
        response = await client.get(path, headers=headers)
        if response.status_code not in statuses:
            wrong.append((path[:80], headers, response.status_code, response.text[:200]))
            continue
        problem(response, response.status_code)
    assert not wrong


async def test_store_still_answers_after_bad_input(client, two_stores: TwoStores) -> None:
    # A failed request must not leave a pooled connection in a broken transaction or with a store set.
    for path in (f"{ALPHA}/a%00b", f"{ALPHA}?limit=0", f"{ALPHA}/{'x' * 300}"):
        await client.get(path)
    for _ in range(3):
        response = await client.get(ALPHA)
        assert response.status_code == 200
        assert response.json()["total"] == 3
    response = await client.get("/api/storefront/bravo/products")
    assert {item["slug"] for item in response.json()["items"]} == set(two_stores.b.product_slugs)
