"""The catalog pages over HTTP: home, product list (pagination, search), product detail; both URL forms; the store's
look; errors as pages."""

from __future__ import annotations


async def test_home_lists_the_newest_products_and_links_under_the_path_prefix(client, two_stores, text) -> None:
    response = await client.get("/s/alpha/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    shown = text(response)
    assert "Alpha" in shown
    assert "alpha product 3" in shown
    assert "Draft" not in shown
    assert 'href="/s/alpha/products/alpha-product-1"' in response.text
    assert 'lang="en"' in response.text
    assert 'id="main"' in response.text
    assert "bravo product" not in shown
    assert response.headers["cache-control"] == "no-store", "pages hold the cart, addresses and a CSRF token"


async def test_the_same_pages_answer_on_the_store_host_with_root_links(client, two_stores) -> None:
    response = await client.get("http://alpha.shop.test/products")
    assert response.status_code == 200, response.text
    assert 'href="/products/alpha-product-1"' in response.text
    assert "/s/alpha" not in response.text


async def test_the_root_of_the_platform_host_is_no_store(client, two_stores) -> None:
    response = await client.get("/products")
    assert response.status_code == 404


async def test_product_list_paginates_and_searches(client, two_stores, tc_database, text) -> None:
    from tenantcommerce.testing.stores import make_store

    await make_store(tc_database, "many", "EUR", products=14)
    first = await client.get("/s/many/products")
    assert first.status_code == 200
    assert "Page 1 of 2" in text(first)
    assert "14 products" in text(first)
    assert 'href="/s/many/products?page=2"' in first.text
    second = await client.get("/s/many/products?page=2")
    assert "Page 2 of 2" in text(second)
    assert text(second).count("many product") == 2
    found = await client.get("/s/many/products", params={"q": "product 1"})
    names = [
        name
        for name in ("many product 1 ", "many product 10", "many product 14", "many product 2 ")
        if name in text(found) + " "
    ]
    assert names == ["many product 1 ", "many product 10", "many product 14"]
    nothing = await client.get("/s/many/products", params={"q": "100%_"})
    assert "No product matches" in text(nothing)
    junk = await client.get("/s/many/products?page=abc&sort=cheapest&in_stock=maybe")
    assert junk.status_code == 200
    assert "Page 1 of 2" in text(junk)
    assert '<option value="newest" selected>' in junk.text


async def test_product_list_filters_and_sorts_and_keeps_them_across_pages(
    client, two_stores, tc_database, admin_conn, text
) -> None:
    from tenantcommerce.testing.stores import make_store

    many = await make_store(tc_database, "many", "EUR", products=14)
    # Product 14 (the newest) sells out; product 1 gets the dearest price.
    await admin_conn.execute(
        "UPDATE product_variants SET reserved = inventory WHERE product_id = $1", many.product_ids[13]
    )
    await admin_conn.execute(
        "UPDATE product_variants SET price_minor = price_minor + 10000 WHERE product_id = $1", many.product_ids[0]
    )
    stocked = await client.get("/s/many/products", params={"in_stock": "1", "sort": "price_desc"})
    assert stocked.status_code == 200
    assert "13 products in stock" in text(stocked)
    assert "Page 1 of 2" in text(stocked)
    assert 'name="in_stock" type="checkbox" value="1" checked' in stocked.text
    assert '<option value="price_desc" selected>' in stocked.text
    assert 'href="/s/many/products?page=2&amp;in_stock=1&amp;sort=price_desc"' in stocked.text
    first_card = stocked.text.index("<article")
    assert stocked.text.index("many product 1<", first_card) < stocked.text.index("many product 13<", first_card)
    assert "many product 14<" not in stocked.text
    second = await client.get("/s/many/products", params={"in_stock": "1", "sort": "price_desc", "page": "2"})
    assert text(second).count("many product") == 1
    assert "many product 2<" in second.text  # the cheapest in stock comes last
    nothing = await client.get("/s/many/products", params={"in_stock": "1", "q": "product 14"})
    assert "No product in stock matches “product 14”." in text(nothing)


async def test_product_detail_shows_variants_as_radios_with_stock(client, two_stores, text) -> None:
    response = await client.get("/s/alpha/products/alpha-product-1")
    assert response.status_code == 200
    assert response.text.count('type="radio"') == 2
    shown = text(response)
    assert "Only 5 left" in shown
    assert "Sold out" in shown
    assert "10.00 EUR" in shown
    assert "15.00 EUR" in shown
    assert 'name="_csrf_token"' in response.text


async def test_unknown_and_draft_products_are_html_404s(client, two_stores, text) -> None:
    for slug in ("nope", two_stores.a.draft_slug, "bravo-product-1", "Bad Slug"):
        response = await client.get(f"/s/alpha/products/{slug}")
        assert response.status_code == 404, slug
        assert response.headers["content-type"].startswith("text/html")
        assert "Not found" in text(response)


async def test_the_store_look_comes_from_its_settings(client, two_stores, admin_conn, text) -> None:
    await admin_conn.execute(
        "UPDATE stores SET settings = settings || $2::jsonb WHERE id = $1",
        two_stores.a.id,
        '{"logo": "/logo.png", "primary_color": "#ffcc00", "accent_color": "#112233"}',
    )
    response = await client.get("/s/alpha/")
    assert '<img src="/logo.png"' in response.text
    assert "--primary: #ffcc00; --primary-foreground: #000000;" in response.text
    assert "--accent: #112233; --accent-foreground: #ffffff;" in response.text
    other = await client.get("/s/bravo/")
    assert "--primary:" not in other.text
    assert "USD" in text(other)


async def test_another_shoppers_or_an_unknown_checkout_is_an_html_404(client, two_stores, text) -> None:
    response = await client.get("/s/alpha/checkout/01a21fce-9c54-77ad-ac51-32a4c815fcd4")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Back to the shop" in text(response)
    assert (await client.get("/s/alpha/checkout/not-a-uuid")).status_code == 404
