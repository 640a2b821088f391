"""Product media in the admin API: upload, list, change and delete images, with permissions, and bad input refused
with nothing written (no row, no file)."""

from __future__ import annotations

import hashlib
import uuid

import pytest

SLUG = "pic-shop"
FORMATS = ["png", "gif", "jpeg", "webp lossy", "webp lossless", "webp extended"]


@pytest.fixture
async def shop(client, staff, open_store):
    """Owner Olga's store with a product of two variants."""
    olga = await staff("olga@pic.test")
    store = await open_store(olga, SLUG)
    return {"olga": olga, **store, "product_id": store["product"]["id"]}


def media_path(shop, suffix: str = "") -> str:
    return f"/api/admin/{SLUG}/products/{shop['product_id']}/media{suffix}"


def fields_of(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


# --- upload ---------------------------------------------------------------------------------------------------------


async def test_upload_stores_the_file_and_describes_it(img, shop, upload, media_dir, admin_conn) -> None:
    data = img.png(3, 2)
    variant_id = shop["variants"][1]
    response = await upload(
        shop["olga"], SLUG, shop["product_id"], data, alt="Front view", variant_id=variant_id, position=4
    )
    assert response.status_code == 201, response.text
    body = response.json()
    media_id = body["id"]
    assert body == {
        "id": media_id,
        "product_id": shop["product_id"],
        "variant_id": variant_id,
        "url": f"/api/storefront/{SLUG}/media/{media_id}",
        "content_type": "image/png",
        "byte_size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "width": 3,
        "height": 2,
        "alt": "Front view",
        "position": 4,
        "created_at": body["created_at"],
    }
    assert uuid.UUID(media_id).version == 7
    key = f"{shop['id']}/{media_id}.png"
    assert (media_dir / key).read_bytes() == data
    assert not [path for path in (media_dir / str(shop["id"])).iterdir() if path.name.startswith(".")]
    row = await admin_conn.fetchrow("SELECT * FROM product_media WHERE id = $1", uuid.UUID(media_id))
    assert row["store_id"] == shop["id"]
    assert row["storage_key"] == key
    assert (row["content_type"], row["byte_size"], row["width"], row["height"]) == ("image/png", len(data), 3, 2)


@pytest.mark.parametrize("name", FORMATS)
async def test_the_type_and_size_come_from_the_bytes(img, shop, upload, media_dir, name: str) -> None:
    make, content_type, (width, height) = img.catalog[name]
    data = make()
    # The client's file name and type say something else: they are ignored.
    response = await upload(shop["olga"], SLUG, shop["product_id"], data, filename="x.svg", content_type="image/svg")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == (content_type, width, height)
    extension = {"image/png": "png", "image/gif": "gif", "image/jpeg": "jpg", "image/webp": "webp"}[content_type]
    assert (media_dir / str(shop["id"]) / f"{body['id']}.{extension}").read_bytes() == data


async def test_an_image_of_exactly_the_limit_is_accepted(img, shop, upload) -> None:
    data = img.png(2, 2)
    data = img.png(2, 2, pad=img.max_bytes - len(data))
    assert len(data) == img.max_bytes
    response = await upload(shop["olga"], SLUG, shop["product_id"], data)
    assert response.status_code == 201, response.text
    assert response.json()["byte_size"] == img.max_bytes


async def test_positions_default_to_after_the_others_and_the_list_is_in_order(img, shop, upload) -> None:
    olga = shop["olga"]
    first = (await upload(olga, SLUG, shop["product_id"], img.png(), position=7)).json()
    second = (await upload(olga, SLUG, shop["product_id"], img.gif())).json()
    third = (await upload(olga, SLUG, shop["product_id"], img.jpeg(), position=0)).json()
    assert (first["position"], second["position"], third["position"]) == (7, 8, 0)

    listed = (await olga.get(media_path(shop))).json()
    assert (listed["limit"], listed["offset"], listed["total"]) == (24, 0, 3)
    assert [item["id"] for item in listed["items"]] == [third["id"], first["id"], second["id"]]
    assert listed["items"][1] == first

    window = (await olga.get(media_path(shop), params={"limit": 1, "offset": 1})).json()
    assert [item["id"] for item in window["items"]] == [first["id"]]
    assert window["total"] == 3


# --- change and delete --------------------------------------------------------------------------------------------


async def test_patch_changes_alt_position_and_variant(img, shop, upload) -> None:
    olga = shop["olga"]
    created = (await upload(olga, SLUG, shop["product_id"], img.png(), alt="old")).json()
    path = media_path(shop, f"/{created['id']}")

    changed = await olga.patch(path, json={"alt": "new", "position": 3, "variant_id": shop["variants"][0]})
    assert changed.status_code == 200, changed.text
    assert {key: changed.json()[key] for key in ("alt", "position", "variant_id")} == {
        "alt": "new",
        "position": 3,
        "variant_id": shop["variants"][0],
    }
    kept = await olga.patch(path, json={"alt": "newer"})  # absent fields stay
    assert (kept.json()["position"], kept.json()["variant_id"]) == (3, shop["variants"][0])
    detached = await olga.patch(path, json={"variant_id": None})
    assert detached.json()["variant_id"] is None
    assert detached.json()["alt"] == "newer"
    assert (await olga.get(media_path(shop))).json()["items"] == [detached.json()]


async def test_delete_removes_the_row_and_the_file(img, shop, upload, media_dir, client, rows_of_media) -> None:
    olga = shop["olga"]
    created = (await upload(olga, SLUG, shop["product_id"], img.png())).json()
    file = media_dir / str(shop["id"]) / f"{created['id']}.png"
    assert file.exists()
    assert (await client.get(created["url"])).status_code == 200

    response = await olga.delete(media_path(shop, f"/{created['id']}"))
    assert response.status_code == 204, response.text
    assert not file.exists()
    assert await rows_of_media(shop["id"]) == 0
    assert (await client.get(created["url"])).status_code == 404
    assert (await olga.delete(media_path(shop, f"/{created['id']}"))).status_code == 404


@pytest.fixture
def rows_of_media(admin_conn):
    async def count(store_id) -> int:
        return await admin_conn.fetchval("SELECT count(*) FROM product_media WHERE store_id = $1", store_id)

    return count


async def test_patch_to_another_products_variant_is_refused(img, shop, upload, written, problem) -> None:
    olga = shop["olga"]
    created = (await upload(olga, SLUG, shop["product_id"], img.png())).json()
    other = await olga.post(
        f"/api/admin/{SLUG}/products",
        json={"name": "Mug", "slug": "mug", "variants": [{"sku": "MUG-1", "price_minor": 900}]},
    )
    other_variant = other.json()["variants"][0]["id"]
    before = await written.snapshot()
    for variant_id in (other_variant, str(uuid.uuid4())):
        response = await olga.patch(media_path(shop, f"/{created['id']}"), json={"variant_id": variant_id})
        assert fields_of(problem(response, 422, "unprocessable")) == ["variant_id"]
    for body, field in (({"alt": 5}, "alt"), ({"position": -1}, "position"), ({"colour": "red"}, "colour")):
        response = await olga.patch(media_path(shop, f"/{created['id']}"), json=body)
        assert field in fields_of(problem(response, 400, "invalid-input")), response.text
    assert await written.snapshot() == before


async def test_media_of_another_product_is_not_found_under_this_one(img, shop, upload, problem) -> None:
    olga = shop["olga"]
    created = (await upload(olga, SLUG, shop["product_id"], img.png())).json()
    other = await olga.post(f"/api/admin/{SLUG}/products", json={"name": "Mug", "slug": "mug"})
    wrong = f"/api/admin/{SLUG}/products/{other.json()['id']}/media/{created['id']}"
    problem(await olga.patch(wrong, json={"alt": "x"}), 404, "not-found")
    problem(await olga.delete(wrong), 404, "not-found")
    assert (await olga.get(media_path(shop))).json()["total"] == 1


# --- permissions --------------------------------------------------------------------------------------------------


async def test_reading_needs_products_read_and_changing_products_write(
    img, shop, staff, upload, written, problem
) -> None:
    created = (await upload(shop["olga"], SLUG, shop["product_id"], img.png())).json()
    viewer = await staff("vera@pic.test", shop["id"], "viewer")
    clerk = await staff("stan@pic.test", shop["id"], "staff")
    outsider = await staff("otto@pic.test")

    assert (await viewer.get(media_path(shop))).status_code == 200
    before = await written.snapshot()
    refused = [
        await upload(viewer, SLUG, shop["product_id"], img.png()),
        await viewer.patch(media_path(shop, f"/{created['id']}"), json={"alt": "x"}),
        await viewer.delete(media_path(shop, f"/{created['id']}")),
    ]
    for response in refused:
        assert "products:write" in problem(response, 403, "permission-denied")["detail"]
    for response in (
        await outsider.get(media_path(shop)),
        await upload(outsider, SLUG, shop["product_id"], img.png()),
        await outsider.delete(media_path(shop, f"/{created['id']}")),
    ):
        problem(response, 404, "not-found")
    assert await written.snapshot() == before

    made = await upload(clerk, SLUG, shop["product_id"], img.gif())
    assert made.status_code == 201, made.text
    assert (await clerk.delete(media_path(shop, f"/{made.json()['id']}"))).status_code == 204


async def test_tokens_carry_the_permissions_they_were_given(img, shop, bearer, upload, problem) -> None:
    async def token(permissions: list[str]) -> str:
        response = await shop["olga"].post(
            f"/api/admin/{SLUG}/tokens", json={"name": "-".join(permissions), "permissions": permissions}
        )
        assert response.status_code in (200, 201), response.text
        return response.json()["token"]

    reader = bearer(await token(["products:read"]))
    writer = bearer(await token(["products:read", "products:write"]))
    assert "products:write" in problem(await upload(reader, SLUG, shop["product_id"], img.png()), 403)["detail"]
    made = await upload(writer, SLUG, shop["product_id"], img.png())
    assert made.status_code == 201, made.text
    assert (await reader.get(media_path(shop))).json()["total"] == 1


async def test_anonymous_callers_get_401(img, shop, anonymous, upload, problem) -> None:
    nobody = await anonymous()
    problem(await nobody.get(media_path(shop)), 401, "authentication-required")
    problem(await upload(nobody, SLUG, shop["product_id"], img.png()), 401, "authentication-required")
