"""Store resolution at the edge, over HTTP: subdomains, custom domains, path slugs, platform hosts and paths."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tenantcommerce.tenancy.services import set_store_status
from tenantcommerce.testing import TwoStores, insert_sample_row
from tenantcommerce.testing.plugin import TEST_METRICS_TOKEN

ALPHA = "/api/storefront/alpha/products"
BRAVO = "/api/storefront/bravo/products"
CUSTOM = "shop.alpha.example"
METRICS_AUTH = {"authorization": f"Bearer {TEST_METRICS_TOKEN}"}


def slugs_of(response) -> list[str]:
    return sorted(item["slug"] for item in response.json()["items"])


def request_series(text: str) -> list[dict[str, str]]:
    """The label sets of ``tenantcommerce_http_requests_total``."""
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tenantcommerce_http_requests_total"
    ]


async def test_subdomain_resolves_its_store(client, two_stores: TwoStores) -> None:
    for host in ("alpha.shop.test", "Alpha.Shop.Test:8000", "alpha.shop.test."):
        response = await client.get(ALPHA, headers={"host": host})
        assert response.status_code == 200, host
        assert slugs_of(response) == sorted(two_stores.a.product_slugs)
        detail = await client.get(f"{ALPHA}/alpha-product-2", headers={"host": host})
        assert detail.status_code == 200, host
        assert detail.json()["variants"][0]["price"]["currency"] == "EUR"
    bravo = await client.get(BRAVO, headers={"host": "bravo.shop.test"})
    assert bravo.status_code == 200
    assert slugs_of(bravo) == sorted(two_stores.b.product_slugs)


async def test_host_and_path_naming_different_stores_is_404(client, two_stores: TwoStores, problem) -> None:
    for host, path in (
        ("alpha.shop.test", BRAVO),
        ("alpha.shop.test", f"{BRAVO}/bravo-product-1"),
        ("bravo.shop.test", ALPHA),
        ("bravo.shop.test", f"{ALPHA}/alpha-product-1"),
    ):
        problem(await client.get(path, headers={"host": host}), 404, "store-not-found")


async def test_unknown_subdomain_is_404(client, two_stores: TwoStores, problem) -> None:
    for path in (ALPHA, f"{ALPHA}/alpha-product-1"):
        problem(await client.get(path, headers={"host": "nope.shop.test"}), 404, "store-not-found")


async def test_custom_domain_resolves_its_store(client, two_stores: TwoStores, add_domain, problem) -> None:
    await add_domain(two_stores.a.id, CUSTOM)
    for host in (CUSTOM, "SHOP.alpha.example:443"):
        response = await client.get(ALPHA, headers={"host": host})
        assert response.status_code == 200, host
        assert slugs_of(response) == sorted(two_stores.a.product_slugs)
    assert (await client.get(f"{ALPHA}/alpha-product-1", headers={"host": CUSTOM})).status_code == 200
    problem(await client.get(BRAVO, headers={"host": CUSTOM}), 404, "store-not-found")
    problem(await client.get(f"{BRAVO}/bravo-product-1", headers={"host": CUSTOM}), 404, "store-not-found")


async def test_custom_domain_added_while_running_is_served(client, two_stores: TwoStores, add_domain, problem) -> None:
    problem(await client.get(ALPHA, headers={"host": CUSTOM}), 404, "store-not-found")
    await add_domain(two_stores.a.id, CUSTOM)
    assert (await client.get(ALPHA, headers={"host": CUSTOM})).status_code == 200


async def test_custom_domain_removed_while_running_stops_resolving(
    client, two_stores: TwoStores, add_domain, admin_conn, problem, poll
) -> None:
    await add_domain(two_stores.a.id, CUSTOM)
    assert (await client.get(ALPHA, headers={"host": CUSTOM})).status_code == 200  # now cached
    await admin_conn.execute("DELETE FROM store_domains WHERE domain = $1", CUSTOM)
    gone = await poll(lambda: client.get(ALPHA, headers={"host": CUSTOM}), 404)
    problem(gone, 404, "store-not-found")
    # The store itself is looked up (and cached) again by its slug...
    assert (await client.get(ALPHA)).status_code == 200
    # ...which must not bring the removed domain back.
    problem(await client.get(ALPHA, headers={"host": CUSTOM}), 404, "store-not-found")


async def test_unknown_custom_domain_is_404_on_store_paths(client, two_stores: TwoStores, add_domain, problem) -> None:
    await add_domain(two_stores.b.id, "shop.bravo.example")
    for host in ("unknown.example", "alpha.example", CUSTOM):
        for path in (ALPHA, BRAVO, f"{ALPHA}/alpha-product-1"):
            problem(await client.get(path, headers={"host": host}), 404, "store-not-found")
        assert (await client.get("/health", headers={"host": host})).status_code == 200


async def test_platform_hosts_leave_the_store_to_the_path(client, two_stores: TwoStores, admin_conn) -> None:
    # A store called "www" (the API refuses the slug; the row is forced in) must not make www a store host.
    await insert_sample_row(admin_conn, "stores", slug="www", name="WWW", currency="EUR", status="active")
    hosts = ("www.shop.test", "WWW.shop.test:8000", "shop.test", "shop.test:8000", "127.0.0.1", "127.0.0.1:8000",
             "[::1]:8000")  # fmt: skip
    for host in hosts:
        for path, store in ((ALPHA, two_stores.a), (BRAVO, two_stores.b)):
            response = await client.get(path, headers={"host": host})
            assert response.status_code == 200, (host, path, response.text)
            assert slugs_of(response) == sorted(store.product_slugs)


async def test_platform_paths_never_resolve_a_store(client, tc_database, two_stores: TwoStores, add_domain) -> None:
    await add_domain(two_stores.a.id, CUSTOM)
    await set_store_status(tc_database, "bravo", "suspended")
    for host in ("alpha.shop.test", "bravo.shop.test", "nope.shop.test", CUSTOM, "unknown.example"):
        for path in ("/health", "/ready", "/schema", "/schema/openapi.json"):
            response = await client.get(path, headers={"host": host})
            assert response.status_code == 200, (host, path, response.text)
        assert (await client.get("/metrics", headers={"host": host, **METRICS_AUTH})).status_code == 200, host


async def test_platform_path_on_a_store_host_is_counted_as_platform(client, two_stores: TwoStores) -> None:
    assert (await client.get("/health", headers={"host": "alpha.shop.test"})).status_code == 200
    assert (await client.get(ALPHA, headers={"host": "alpha.shop.test"})).status_code == 200
    metrics = await client.get("/metrics", headers=METRICS_AUTH)
    assert metrics.status_code == 200
    series = request_series(metrics.text)
    assert {labels["store"] for labels in series if labels["route"] == "/health"} == {"_platform"}
    assert {labels["store"] for labels in series if labels["route"].startswith("/api/storefront/")} == {"alpha"}


async def test_suspension_and_reactivation_reach_a_running_app(
    client, tc_settings, tc_database, two_stores: TwoStores, add_domain, problem, poll
) -> None:
    # Only the NOTIFY invalidation can explain a change within 2 s when a cached store lives this long.
    assert tc_settings.store_cache_ttl >= 10
    await add_domain(two_stores.a.id, CUSTOM)
    ways_in = [
        (ALPHA, {}),
        (ALPHA, {"host": "alpha.shop.test"}),
        (f"{ALPHA}/alpha-product-1", {"host": CUSTOM}),
    ]
    for path, headers in ways_in:  # alpha is now cached under its slug and its domain
        assert (await client.get(path, headers=headers)).status_code == 200

    await set_store_status(tc_database, "alpha", "suspended")
    body = problem(await poll(lambda: client.get(ALPHA), 403), 403, "store-suspended")
    assert "alpha" in body["detail"]
    for path, headers in ways_in:
        problem(await client.get(path, headers=headers), 403, "store-suspended")
    # Other stores, and platform paths on the suspended store's host, are untouched.
    assert (await client.get(BRAVO)).status_code == 200
    assert (await client.get("/health", headers={"host": "alpha.shop.test"})).status_code == 200

    await set_store_status(tc_database, "alpha", "active")
    assert (await poll(lambda: client.get(ALPHA), 200)).status_code == 200
    for path, headers in ways_in:
        assert (await client.get(path, headers=headers)).status_code == 200


async def test_suspended_store_is_403_from_a_cold_cache(client, tc_database, two_stores: TwoStores, problem) -> None:
    await set_store_status(tc_database, "bravo", "suspended")
    problem(await client.get(BRAVO), 403, "store-suspended")
    problem(await client.get(f"{BRAVO}/bravo-product-1", headers={"host": "bravo.shop.test"}), 403, "store-suspended")
    assert (await client.get(ALPHA)).status_code == 200
