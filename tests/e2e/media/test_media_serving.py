"""Serving images: ``GET /api/storefront/{slug}/media/{media_id}`` for anyone, cacheable for a year, 304 on a matching
``If-None-Match``, and 404 for another store's image, an unknown one, or one of a product that is not active."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from tenantcommerce.app import runtime_of

SLUG, OTHER = "see-shop", "far-shop"
CACHE = "public, max-age=31536000, immutable"


@pytest.fixture
async def world(client, staff, open_store, upload, img):
    """Two stores, each with an active product holding one uploaded image (a PNG in see-shop, a GIF in far-shop)."""
    sam = await staff("sam@see.test")
    mine = await open_store(sam, SLUG)
    fay = await staff("fay@far.test")
    theirs = await open_store(fay, OTHER, "USD")
    png, gif = img.png(4, 4), img.gif(2, 2)
    made = await upload(sam, SLUG, mine["product"]["id"], png)
    assert made.status_code == 201, made.text
    other = await upload(fay, OTHER, theirs["product"]["id"], gif)
    assert other.status_code == 201, other.text
    return {"sam": sam, "mine": mine, "image": made.json(), "data": png, "theirs": other.json(), "their_data": gif}


async def test_the_file_is_served_with_its_type_and_cache_headers(client, world) -> None:
    response = await client.get(world["image"]["url"])
    assert response.status_code == 200
    assert response.content == world["data"]
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == CACHE
    assert response.headers["etag"] == f'"{hashlib.sha256(world["data"]).hexdigest()}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert int(response.headers["content-length"]) == len(world["data"])
    assert response.headers["content-disposition"].startswith("inline")
    assert "set-cookie" not in response.headers  # a public, cacheable answer carries no cookie


async def test_a_matching_if_none_match_is_304_without_a_body(client, world) -> None:
    etag = f'"{world["image"]["sha256"]}"'
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await client.get(world["image"]["url"], headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == CACHE
    stale = await client.get(world["image"]["url"], headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200
    assert stale.content == world["data"]


async def test_another_stores_image_is_404_like_an_unknown_one(client, world, problem) -> None:
    theirs = world["theirs"]
    foreign = await client.get(f"/api/storefront/{SLUG}/media/{theirs['id']}")
    unknown_id = str(uuid.uuid4())
    unknown = await client.get(f"/api/storefront/{SLUG}/media/{unknown_id}")
    foreign_body, unknown_body = problem(foreign, 404, "not-found"), problem(unknown, 404, "not-found")
    assert foreign_body["detail"].replace(theirs["id"], "<id>") == unknown_body["detail"].replace(unknown_id, "<id>")
    # Even a client that knows the other store's ETag learns nothing.
    etag = f'"{theirs["sha256"]}"'
    problem(await client.get(f"/api/storefront/{SLUG}/media/{theirs['id']}", headers={"If-None-Match": etag}), 404)
    # Under its own store it is served.
    own = await client.get(theirs["url"])
    assert own.status_code == 200
    assert own.content == world["their_data"]
    assert own.headers["content-type"] == "image/gif"


async def test_images_of_a_product_that_is_not_active_are_not_served(client, world, problem) -> None:
    product_id = world["mine"]["product"]["id"]
    for status in ("draft", "archived"):
        changed = await world["sam"].patch(f"/api/admin/{SLUG}/products/{product_id}", json={"status": status})
        assert changed.status_code == 200, changed.text
        problem(await client.get(world["image"]["url"]), 404, "not-found")
    await world["sam"].patch(f"/api/admin/{SLUG}/products/{product_id}", json={"status": "active"})
    assert (await client.get(world["image"]["url"])).status_code == 200


@pytest.mark.parametrize(
    "media_id", ["nope", "0" * 32, "../../etc/passwd", "%2e%2e%2fsecret", "{00000000-0000-0000-0000-000000000000}"]
)
async def test_ids_that_are_not_uuids_are_404(client, world, problem, media_id) -> None:
    response = await client.get(f"/api/storefront/{SLUG}/media/{media_id}")
    assert response.status_code == 404


async def test_an_unknown_store_is_404(client, world, problem) -> None:
    problem(await client.get(f"/api/storefront/no-such-shop/media/{world['image']['id']}"), 404, "store-not-found")


async def test_a_row_whose_file_is_gone_answers_404_not_500(client, world, media_dir: Path, problem) -> None:
    (media_dir / str(world["mine"]["id"]) / f"{world['image']['id']}.png").unlink()
    problem(await client.get(world["image"]["url"]), 404, "not-found")


class BytesStorage:
    """Another storage, as a host project would plug in (an object store, say): it answers bytes, not paths."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.files[key] = data

    async def open(self, key: str) -> bytes:
        from tenantcommerce.catalog.media import MissingMedia

        if key not in self.files:
            raise MissingMedia(key)
        return self.files[key]

    async def delete(self, key: str) -> None:
        self.files.pop(key, None)


async def test_a_storage_that_answers_bytes_is_served_the_same_way(app, client, world, upload, img, media_dir) -> None:
    storage = BytesStorage()
    runtime_of(app).media_storage = storage
    data = img.jpeg(3, 3)
    made = await upload(world["sam"], SLUG, world["mine"]["product"]["id"], data)
    assert made.status_code == 201, made.text
    key = f"{world['mine']['id']}/{made.json()['id']}.jpg"
    assert storage.files == {key: data}
    assert not (media_dir / key).exists()
    served = await client.get(made.json()["url"])
    assert (served.status_code, served.content, served.headers["content-type"]) == (200, data, "image/jpeg")
    assert served.headers["cache-control"] == CACHE
    assert served.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    deleted = await world["sam"].delete(
        f"/api/admin/{SLUG}/products/{world['mine']['product']['id']}/media/{made.json()['id']}"
    )
    assert deleted.status_code == 204
    assert storage.files == {}


class BrokenStorage(BytesStorage):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        raise OSError("disk full")


async def test_a_storage_failure_leaves_no_row(app, world, upload, img, written) -> None:
    runtime_of(app).media_storage = BrokenStorage()
    before = await written.snapshot()
    response = await upload(world["sam"], SLUG, world["mine"]["product"]["id"], img.png())
    assert response.status_code == 500
    assert await written.snapshot() == before
