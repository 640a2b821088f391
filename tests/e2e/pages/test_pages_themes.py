"""Per-store themes: two stores on different themes side by side, the fallback to the default theme's templates,
the appearance settings through the admin API, and the themes' static files."""

from __future__ import annotations

import re

from tenantcommerce.testing.accounts import TEST_PASSWORD, sign_in
from tenantcommerce.testing.accounts import password_hash as kit_password_hash


async def test_two_stores_on_different_themes_render_side_by_side(client, two_stores, midnight, text) -> None:
    await midnight(two_stores.b)
    dark = await client.get("/s/bravo/")
    light = await client.get("/s/alpha/")
    assert dark.status_code == 200, dark.text
    assert light.status_code == 200, light.text
    assert 'data-theme="midnight"' in dark.text
    assert "/static/themes/midnight/midnight.css?v=" in dark.text
    assert "/static/themes/default/theme.css?v=" in dark.text, "a file the theme lacks comes from the default"
    assert 'data-theme="midnight"' not in light.text
    assert "midnight.css" not in light.text
    # every page falls back to the default theme's template, inside the midnight layout
    product = await client.get("/s/bravo/products/bravo-product-1")
    assert 'data-theme="midnight"' in product.text
    assert "Add to cart" in text(product)


async def test_a_theme_the_store_has_not_enabled_is_not_shown(client, two_stores, midnight, admin_conn) -> None:
    await midnight(two_stores.b)
    await admin_conn.execute(
        'UPDATE stores SET settings = settings || \'{"theme": "midnight"}\'::jsonb WHERE id = $1', two_stores.a.id
    )
    response = await client.get("/s/alpha/")
    assert response.status_code == 200
    assert 'data-theme="midnight"' not in response.text


async def test_theme_static_files_are_long_cached_when_versioned(client, two_stores) -> None:
    page = await client.get("/s/alpha/")
    url = re.search(r'href="(/static/themes/default/theme\.css\?v=[0-9a-f]+)"', page.text)
    assert url is not None
    versioned = await client.get(url.group(1))
    assert versioned.status_code == 200
    assert versioned.headers["content-type"].startswith("text/css")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "set-cookie" not in versioned.headers
    plain = await client.get("/static/themes/default/theme.css?v=stale")
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "public, max-age=300"
    js = await client.get("/static/themes/default/htmx.min.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    for missing in (
        "/static/themes/default/nope.css",
        "/static/themes/nope/theme.css",
        "/static/themes/default/../plugin.py",
        "/static/themes/default/%2e%2e/plugin.py",
    ):
        assert (await client.get(missing)).status_code == 404, missing


async def test_appearance_settings_are_validated_and_shown(client, two_stores, admin_conn) -> None:
    hashed = kit_password_hash(TEST_PASSWORD)
    await admin_conn.execute("UPDATE users SET password_hash = $2 WHERE email = $1", "owner@alpha.test", hashed)
    signed_in = await sign_in(client, "owner@alpha.test")
    assert signed_in.status_code == 200, signed_in.text
    headers = {"X-CSRFToken": client.cookies.get("csrftoken")}
    url = "/api/admin/alpha/settings"
    for bad in (
        {"primary_color": "red"},
        {"accent_color": "#12345"},
        {"logo": "javascript:alert(1)"},
        {"logo": "//evil.test/x"},
    ):
        response = await client.patch(url, json=bad, headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == next(iter(bad))
    good = {"logo": "/media/logo.png", "primary_color": "#1d4ed8", "accent_color": "#fde68a"}
    changed = await client.patch(url, json=good, headers=headers)
    assert changed.status_code == 200, changed.text
    assert {name: changed.json()[name] for name in good} == good
    page = await client.get("/s/alpha/")
    assert '<img src="/media/logo.png"' in page.text
    assert "--primary: #1d4ed8; --primary-foreground: #ffffff;" in page.text
    assert "--accent: #fde68a; --accent-foreground: #000000;" in page.text
    cleared = await client.patch(url, json={"logo": None, "primary_color": None}, headers=headers)
    assert "logo" not in cleared.json()
    assert "--primary:" not in (await client.get("/s/alpha/")).text
