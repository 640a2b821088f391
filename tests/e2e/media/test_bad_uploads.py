"""Bad uploads answer 4xx naming what to fix, and write nothing: no ``product_media`` row, no file, in any store."""

from __future__ import annotations

import uuid

import pytest

SLUG, OTHER = "up-shop", "other-shop"


@pytest.fixture
async def world(client, staff, open_store):
    """Uma owns up-shop; Oscar owns other-shop. Each store has a product with two variants."""
    uma = await staff("uma@up.test")
    mine = await open_store(uma, SLUG)
    oscar = await staff("oscar@other.test")
    theirs = await open_store(oscar, OTHER, "USD")
    return {"uma": uma, "mine": mine, "oscar": oscar, "theirs": theirs}


def fields_of(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


NOT_IMAGES = {
    "text": b"hello, I am not a picture",
    "empty": b"",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><script>alert(1)</script></svg>',
    "html": b"<!doctype html><script>alert(1)</script>",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "png signature only": b"\x89PNG\r\n\x1a\n",
    "png without IHDR": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIDAT" + b"\x00" * 20,
    "png of 0 x 0": b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 8 + b"\x08\x00\x00\x00\x00",
    "jpeg without a frame header": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    "jpeg cut short": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "jpeg with a broken segment": b"\xff\xd8\xff\xe0\x00\x01" + b"\x00" * 40,
    "gif header cut short": b"GIF89a\x01",
    "webp of an unknown chunk": b"RIFF\x20\x00\x00\x00WEBPABCD" + b"\x00" * 30,
    "riff but not webp": b"RIFF\x20\x00\x00\x00WAVEfmt " + b"\x00" * 30,
}


@pytest.mark.parametrize("name", list(NOT_IMAGES))
async def test_anything_but_a_supported_image_is_415_naming_file(world, upload, written, problem, name) -> None:
    before = await written.snapshot()
    response = await upload(
        world["uma"], SLUG, world["mine"]["product"]["id"], NOT_IMAGES[name], content_type="image/png"
    )
    body = problem(response, 415, "unsupported-media-type")
    assert fields_of(body) == ["file"]
    assert "JPEG, PNG, WebP or GIF" in body["detail"]
    assert await written.snapshot() == before


async def test_a_file_over_the_limit_is_413_naming_the_limit(world, upload, written, problem, img) -> None:
    before = await written.snapshot()
    product_id = world["mine"]["product"]["id"]
    one_too_many = img.png(2, 2, pad=img.max_bytes - len(img.png(2, 2)) + 1)
    far_too_many = img.png(2, 2, pad=200_000)  # refused by its Content-Length, before the body is read
    for data in (one_too_many, far_too_many):
        body = problem(await upload(world["uma"], SLUG, product_id, data), 413, "payload-too-large")
        assert str(img.max_bytes) in body["detail"]
        assert fields_of(body) == ["file"]
    assert await written.snapshot() == before


async def test_an_unknown_or_foreign_variant_is_422_naming_variant_id(world, upload, written, problem, img) -> None:
    uma = world["uma"]
    mug = await uma.post(
        f"/api/admin/{SLUG}/products",
        json={"name": "Mug", "slug": "mug", "variants": [{"sku": "MUG-1", "price_minor": 900}]},
    )
    candidates = {
        "unknown": str(uuid.uuid4()),
        "another product's": mug.json()["variants"][0]["id"],
        "another store's": world["theirs"]["variants"][0],
    }
    before = await written.snapshot()
    answers = {}
    for label, variant_id in candidates.items():
        response = await upload(uma, SLUG, world["mine"]["product"]["id"], img.png(), variant_id=variant_id)
        body = problem(response, 422, "unprocessable")
        assert fields_of(body) == ["variant_id"], label
        answers[label] = (body["detail"], body["errors"])
    assert len(set(map(str, answers.values()))) == 1, "another store's variant is answered like an unknown one"
    assert await written.snapshot() == before


async def test_another_stores_product_is_404_like_an_unknown_one(world, upload, written, problem, img) -> None:
    before = await written.snapshot()
    foreign = await upload(world["uma"], SLUG, world["theirs"]["product"]["id"], img.png())
    unknown = await upload(world["uma"], SLUG, str(uuid.uuid4()), img.png())
    assert problem(foreign, 404, "not-found") == problem(unknown, 404, "not-found")
    listed = await world["uma"].get(f"/api/admin/{SLUG}/products/{world['theirs']['product']['id']}/media")
    problem(listed, 404, "not-found")
    assert await written.snapshot() == before


async def test_another_stores_image_is_404_like_an_unknown_one(world, upload, written, problem, img) -> None:
    theirs = await upload(world["oscar"], OTHER, world["theirs"]["product"]["id"], img.png())
    assert theirs.status_code == 201, theirs.text
    before = await written.snapshot()
    mine = f"/api/admin/{SLUG}/products/{world['mine']['product']['id']}/media"
    for media_id in (theirs.json()["id"], str(uuid.uuid4())):
        problem(await world["uma"].patch(f"{mine}/{media_id}", json={"alt": "mine now"}), 404, "not-found")
        problem(await world["uma"].delete(f"{mine}/{media_id}"), 404, "not-found")
    # Through the other store's path the caller is no member: 404 as well.
    theirs_path = f"/api/admin/{OTHER}/products/{world['theirs']['product']['id']}/media/{theirs.json()['id']}"
    problem(await world["uma"].delete(theirs_path), 404, "not-found")
    assert await written.snapshot() == before


async def test_malformed_forms_are_400_naming_the_field(world, written, problem, img) -> None:
    uma = world["uma"]
    path = f"/api/admin/{SLUG}/products/{world['mine']['product']['id']}/media"
    image = ("a.png", img.png(), "image/png")
    cases = [
        ("no file", {"files": {"alt": (None, "x")}}, "file"),
        ("file as text", {"files": {"file": (None, "not a file")}}, "file"),
        ("two files", {"files": [("file", image), ("file", image)]}, "file"),
        ("alt too long", {"data": {"alt": "x" * 301}, "files": {"file": image}}, "alt"),
        ("alt with NUL", {"data": {"alt": "a\x00b"}, "files": {"file": image}}, "alt"),
        ("negative position", {"data": {"position": "-1"}, "files": {"file": image}}, "position"),
        ("huge position", {"data": {"position": "10001"}, "files": {"file": image}}, "position"),
        ("position not a number", {"data": {"position": "first"}, "files": {"file": image}}, "position"),
        ("variant_id not a uuid", {"data": {"variant_id": "red"}, "files": {"file": image}}, "variant_id"),
        ("unknown field", {"data": {"colour": "red"}, "files": {"file": image}}, "colour"),
    ]
    before = await written.snapshot()
    for label, kwargs, field in cases:
        body = problem(await uma.post(path, **kwargs), 400, "invalid-input")
        assert any(field in name for name in fields_of(body)), (label, body)
    problem(await uma.post(path, json={"file": "x"}), 400, "invalid-input")
    problem(await uma.post(path, content=b"--nope\r\n", headers={"Content-Type": "multipart/form-data"}), 400)
    assert await written.snapshot() == before
