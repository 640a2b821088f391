from tenantcommerce.testing import TwoStores


async def test_catalog_lists_active_products_of_one_store(client, two_stores: TwoStores) -> None:
    response = await client.get(f"/api/storefront/{two_stores.a.slug}/products")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert sorted(item["slug"] for item in body["items"]) == sorted(two_stores.a.product_slugs)
