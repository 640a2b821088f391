"""Products in the dashboard: list with search, create, edit with variants and stock; errors next to their fields;
roles."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

pytestmark = pytest.mark.asyncio

NEW = {
    "name": "Linen shirt",
    "slug": "linen-shirt",
    "description": "Cool in summer.",
    "status": "active",
    "sku": "LS-M",
    "title": "M",
    "price": "49.90",
    "inventory": "7",
}


async def test_list_and_search(shop: Any) -> None:
    page = await shop.owner.get(shop.url("products"))
    assert page.status_code == 200
    assert "4 products" in page.text  # three active and a draft
    found = await shop.owner.get(shop.url("products"), params={"q": "product 2"})
    assert "alpha product 2" in found.text
    assert "alpha product 1" not in found.text
    drafts = await shop.owner.get(shop.url("products"), params={"status": "draft"})
    assert "1 product<" in drafts.text
    nothing = await shop.owner.get(shop.url("products"), params={"q": "zzz"})
    assert "No product matches these filters." in nothing.text


async def test_create_a_product_with_its_first_variant(shop: Any, db: asyncpg.Connection) -> None:
    form = await shop.owner.get(shop.url("products/new"))
    assert form.status_code == 200
    assert 'for="slug"' in form.text
    response = await shop.owner.submit(shop.url("products"), NEW)
    assert response.status_code == 303, response.text
    assert re.fullmatch(rf"/admin/{shop.slug}/products/[0-9a-f-]{{36}}\?notice=created", response.headers["location"])
    row = await db.fetchrow(
        "SELECT p.status, v.price_minor, v.inventory, v.currency FROM products p JOIN product_variants v "
        "ON v.product_id = p.id WHERE p.store_id = $1 AND p.slug = 'linen-shirt'",
        shop.id,
    )
    assert dict(row) == {"status": "active", "price_minor": 4990, "inventory": 7, "currency": "EUR"}
    page = await shop.owner.get(response.headers["location"])
    assert "Product created." in page.text
    assert 'value="49.90"' in page.text


async def test_create_errors_sit_next_to_their_fields(shop: Any, db: asyncpg.Connection) -> None:
    bad_slug = await shop.owner.submit(shop.url("products"), {**NEW, "slug": "Not A Slug"})
    assert bad_slug.status_code == 400
    assert 'id="slug-error"' in bad_slug.text
    assert 'value="Linen shirt"' in bad_slug.text  # what was typed stays
    bad_price = await shop.owner.submit(shop.url("products"), {**NEW, "price": "4.999"})
    assert bad_price.status_code == 400
    assert 'id="price-error"' in bad_price.text
    taken = await shop.owner.submit(shop.url("products"), {**NEW, "slug": "alpha-product-1"})
    assert taken.status_code == 409
    assert 'id="slug-error"' in taken.text
    assert "is taken" in taken.text
    sku_taken = await shop.owner.submit(shop.url("products"), {**NEW, "sku": "alpha-1-s"})
    assert sku_taken.status_code == 409
    assert 'id="sku-error"' in sku_taken.text
    assert await db.fetchval("SELECT count(*) FROM products WHERE slug = 'linen-shirt'") == 0


async def test_edit_product_variant_and_stock(shop: Any, db: asyncpg.Connection) -> None:
    product_id = shop.products[0]
    variant_id = shop.variants["alpha-1-s"]
    base = f"products/{product_id}"
    saved = await shop.owner.submit(
        shop.url(base), {"name": "Renamed", "slug": "renamed", "description": "", "status": "archived"}
    )
    assert saved.status_code == 303, saved.text
    assert await db.fetchval("SELECT status FROM products WHERE id = $1", product_id) == "archived"
    variant = await shop.owner.submit(
        shop.url(f"{base}/variants/{variant_id}"), {"sku": "alpha-1-s", "title": "Small", "price": "12.00"}
    )
    assert variant.status_code == 303, variant.text
    assert await db.fetchval("SELECT price_minor FROM product_variants WHERE id = $1", variant_id) == 1200
    stock = await shop.owner.submit(
        shop.url(f"{base}/variants/{variant_id}/stock"), {"delta": "3", "reason": "delivery"}
    )
    assert stock.status_code == 303, stock.text
    assert await shop.inventory("alpha-1-s") == 8
    too_many = await shop.owner.submit(
        shop.url(f"{base}/variants/{variant_id}/stock"), {"delta": "-100", "reason": "count"}
    )
    assert too_many.status_code == 422
    assert f'id="stock-{variant_id}-delta-error"' in too_many.text
    assert await shop.inventory("alpha-1-s") == 8
    added = await shop.owner.submit(
        shop.url(f"{base}/variants"), {"sku": "alpha-1-xl", "title": "XL", "price": "20", "inventory": "2"}
    )
    assert added.status_code == 303, added.text
    page = await shop.owner.get(added.headers["location"])
    assert "Variant added." in page.text
    assert "alpha-1-xl" in page.text


async def test_stock_of_another_products_variant_is_refused(shop: Any) -> None:
    other_variant = shop.variants["alpha-2-s"]
    response = await shop.owner.submit(
        shop.url(f"products/{shop.products[0]}/variants/{other_variant}/stock"), {"delta": "1", "reason": "x"}
    )
    assert response.status_code == 404
    assert await shop.inventory("alpha-2-s") == 5


async def test_roles(shop: Any, member: Callable[..., Awaitable[Any]]) -> None:
    viewer = await member(shop.id, "viewer@alpha.test", "viewer")
    page = await viewer.get(shop.url(f"products/{shop.products[0]}"))
    assert page.status_code == 200
    assert "Save product" not in page.text
    assert "Adjust stock" not in page.text
    listing = await viewer.get(shop.url("products"))
    assert "New product" not in listing.text
    assert (await viewer.get(shop.url("products/new"))).status_code == 403
    refused = await viewer.submit(shop.url("products"), NEW)
    assert refused.status_code == 403
    staff = await member(shop.id, "staff@alpha.test", "staff", {"inventory:write": False})
    staff_page = await staff.get(shop.url(f"products/{shop.products[0]}"))
    assert "Save product" in staff_page.text
    assert "Adjust stock" not in staff_page.text


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


async def test_upload_and_remove_an_image(shop: Any, db: asyncpg.Connection) -> None:
    product_id = shop.products[0]
    await shop.owner.get(shop.url(f"products/{product_id}"))
    url = shop.url(f"products/{product_id}/images")
    uploaded = await shop.owner.client.post(
        url,
        data={"_csrf_token": shop.owner.token, "alt": "A linen shirt"},
        files={"file": ("shirt.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    media_id = await db.fetchval("SELECT id FROM product_media WHERE product_id = $1", product_id)
    page = await shop.owner.get(uploaded.headers["location"])
    assert 'alt="A linen shirt"' in page.text
    not_an_image = await shop.owner.client.post(
        url,
        data={"_csrf_token": shop.owner.token, "alt": "text"},
        files={"file": ("notes.png", b"just text", "image/png")},
        follow_redirects=False,
    )
    assert not_an_image.status_code == 415
    assert 'id="image-file-error"' in not_an_image.text
    removed = await shop.owner.submit(shop.url(f"products/{product_id}/images/{media_id}/delete"))
    assert removed.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM product_media WHERE product_id = $1", product_id) == 0


async def upload_png(shop: Any, product_id: Any, alt: str) -> None:
    response = await shop.owner.client.post(
        shop.url(f"products/{product_id}/images"),
        data={"_csrf_token": shop.owner.token, "alt": alt},
        files={"file": ("shirt.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


async def test_images_get_alt_text_order_and_variant_later(shop: Any, db: asyncpg.Connection) -> None:
    product_id = shop.products[0]
    await shop.owner.get(shop.url(f"products/{product_id}"))
    for alt in ("front", "back"):
        await upload_png(shop, product_id, alt)
    rows = await db.fetch(
        "SELECT id, alt, position FROM product_media WHERE product_id = $1 ORDER BY position, id", product_id
    )
    assert [(row["alt"], row["position"]) for row in rows] == [("front", 0), ("back", 1)]
    front, back = rows[0]["id"], rows[1]["id"]
    small = await db.fetchval(
        "SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1", product_id
    )
    page = await shop.owner.get(shop.url(f"products/{product_id}"))
    assert f'action="/admin/{shop.slug}/products/{product_id}/images/{back}"' in page.text
    assert f'<option value="{small}">' in page.text

    saved = await shop.owner.submit(
        shop.url(f"products/{product_id}/images/{back}"),
        {"alt": "The back, small", "position": "0", "variant_id": str(small)},
    )
    assert saved.status_code == 303, saved.text
    await shop.owner.submit(
        shop.url(f"products/{product_id}/images/{front}"), {"alt": "front", "position": "5", "variant_id": ""}
    )
    rows = await db.fetch(
        "SELECT alt, position, variant_id FROM product_media WHERE product_id = $1 ORDER BY position, id", product_id
    )
    assert [tuple(row) for row in rows] == [("The back, small", 0, small), ("front", 5, None)]
    shown = await shop.owner.get(saved.headers["location"])
    assert "Image saved." in shown.text
    assert f'<option value="{small}" selected>' in shown.text
    # The storefront shows them in the new order, the back tied to its variant.
    product_slug = await db.fetchval("SELECT slug FROM products WHERE id = $1", product_id)
    public = await shop.owner.client.get(f"/api/storefront/{shop.slug}/products/{product_slug}")
    assert [(item["alt"], item["variant_id"]) for item in public.json()["media"]] == [
        ("The back, small", str(small)),
        ("front", None),
    ]


async def test_bad_image_changes_are_shown_next_to_their_field_and_change_nothing(
    shop: Any, db: asyncpg.Connection
) -> None:
    product_id, other_product = shop.products[0], shop.products[1]
    await shop.owner.get(shop.url(f"products/{product_id}"))
    await upload_png(shop, product_id, "front")
    image = await db.fetchval("SELECT id FROM product_media WHERE product_id = $1", product_id)
    foreign_variant = await db.fetchval("SELECT id FROM product_variants WHERE product_id = $1 LIMIT 1", other_product)
    url = shop.url(f"products/{product_id}/images/{image}")
    cases = [
        ({"alt": "x", "position": "first", "variant_id": ""}, "position", 400),
        ({"alt": "x", "position": "-1", "variant_id": ""}, "position", 400),
        ({"alt": "x" * 301, "position": "0", "variant_id": ""}, "alt", 400),
        ({"alt": "x", "position": "0", "variant_id": "not-a-uuid"}, "variant_id", 400),
        ({"alt": "x", "position": "0", "variant_id": str(foreign_variant)}, "variant_id", 422),
    ]
    for fields, field, status in cases:
        refused = await shop.owner.submit(url, fields)
        assert refused.status_code == status, (fields, refused.text)
        assert f'id="image-{image}-{field}-error"' in refused.text, (fields, field)
        assert f'value="{fields["alt"]}"' in refused.text or field == "alt", "what was typed stays in the form"
    row = await db.fetchrow("SELECT alt, position, variant_id FROM product_media WHERE id = $1", image)
    assert tuple(row) == ("front", 0, None)
    elsewhere = await shop.owner.submit(
        shop.url(f"products/{other_product}/images/{image}"), {"alt": "x", "position": "0", "variant_id": ""}
    )
    assert elsewhere.status_code == 404, "an image is changed only through its own product"


async def test_the_filter_form_as_a_browser_sends_it(shop: Any) -> None:
    page = await shop.owner.get(shop.url("products?q=product+1&status="))
    assert page.status_code == 200, page.text
    assert "alpha product 1" in page.text
    assert (await shop.owner.get(shop.url("products?status=lost"))).status_code == 400
