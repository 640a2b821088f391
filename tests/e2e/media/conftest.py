"""Helpers of the product media tests: signed-in staff, stores with products, images of every supported format, and
"nothing was written" checks over both the ``product_media`` rows and the media directory.

Test modules here are not a package (``--import-mode=importlib``), so helpers are offered as fixtures. The actors
are copied in spirit from ``tests/e2e/admin/conftest.py`` (conftest fixtures are per directory).
"""

from __future__ import annotations

import functools
import struct
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import TEST_PASSWORD as PASSWORD
from tenantcommerce.testing.accounts import csrf_headers
from tenantcommerce.testing.accounts import password_hash as kit_password_hash
from tenantcommerce.testing.accounts import sign_in as do_login

MAX_BYTES = 4096
"""``TC_MEDIA_MAX_BYTES`` of these tests: small, so "too big" is cheap to send."""


# --- images ----------------------------------------------------------------------------------------------------------


def png(width: int = 3, height: int = 2, *, pad: int = 0) -> bytes:
    """A real PNG (grey pixels), optionally followed by ``pad`` bytes after IEND (readers ignore them)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    image = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return image + b"\x00" * pad


def gif(width: int = 5, height: int = 4) -> bytes:
    """A GIF89a: header, a two-colour table and one (tiny) image block."""
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
        + b"\x00\x00\x00\xff\xff\xff"
        + b","
        + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02\x02\x44\x01\x00;"
    )


def jpeg(width: int = 7, height: int = 6) -> bytes:
    """A baseline JPEG's segments: APP0 (JFIF), a quantisation table, then the frame header with the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(range(1, 65))
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + dqt + b"\xff" + sof0 + sos + b"\x12\x34\x56" + b"\xff\xd9"


def webp(width: int = 9, height: int = 8, kind: str = "VP8 ") -> bytes:
    """A WebP RIFF container with a lossy (``VP8 ``), lossless (``VP8L``) or extended (``VP8X``) first chunk."""
    if kind == "VP8 ":
        body = b"\x30\x01\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 10
    elif kind == "VP8L":
        bits = (width - 1) | ((height - 1) << 14)
        body = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 8
    else:
        body = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = kind.encode() + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


IMAGES: dict[str, tuple[Callable[[], bytes], str, tuple[int, int]]] = {
    "png": (lambda: png(3, 2), "image/png", (3, 2)),
    "gif": (lambda: gif(5, 4), "image/gif", (5, 4)),
    "jpeg": (lambda: jpeg(7, 6), "image/jpeg", (7, 6)),
    "webp lossy": (lambda: webp(9, 8, "VP8 "), "image/webp", (9, 8)),
    "webp lossless": (lambda: webp(10, 11, "VP8L"), "image/webp", (10, 11)),
    "webp extended": (lambda: webp(1200, 900, "VP8X"), "image/webp", (1200, 900)),
}
"""Name -> (bytes, the type sniffed, the size read)."""


# --- settings and actors -----------------------------------------------------------------------------------------


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    """This test's media directory (``TC_MEDIA_DIR``)."""
    return tmp_path / "media"


@pytest.fixture
def tc_settings(postgres: TestDatabase, media_dir: Path) -> Settings:
    """The kit's settings with a media directory of this test's own and a small upload limit."""
    return msgspec.structs.replace(
        postgres.settings, log_format="json", media_dir=str(media_dir), media_max_bytes=MAX_BYTES
    )


@functools.cache
def password_hash() -> str:
    return kit_password_hash(PASSWORD)


@dataclass
class Actor:
    """A caller: a signed-in browser (session cookie + CSRF header) or a bearer-token client."""

    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)
    store_id: UUID | None = None

    async def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.send("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.send("POST", path, **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.send("PATCH", path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.send("DELETE", path, **kw)


@pytest.fixture
def new_client(app: Litestar, client: AsyncTestClient[Litestar]) -> Callable[[], AsyncTestClient[Litestar]]:
    """Another browser of the app ``client`` started (a cookie jar of its own)."""

    def make() -> AsyncTestClient[Litestar]:
        other: AsyncTestClient[Litestar] = AsyncTestClient(app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        return other

    return make


@pytest.fixture
def staff(
    admin_conn: asyncpg.Connection, new_client: Callable[[], AsyncTestClient[Litestar]]
) -> Callable[..., Awaitable[Actor]]:
    """``await staff(email, store_id=None, role=None)``: a new user (a member of the store in ``role``), signed in."""

    async def make(email: str, store_id: UUID | None = None, role: str | None = None) -> Actor:
        user_id = uuid.uuid4()
        await admin_conn.execute(
            "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, NULL, $3)",
            user_id,
            email,
            password_hash(),
        )
        if store_id is not None and role is not None:
            await admin_conn.execute(
                "INSERT INTO store_members (id, store_id, user_id, role) VALUES ($1, $2, $3, $4)",
                uuid.uuid4(),
                store_id,
                user_id,
                role,
            )
        browser = new_client()
        response = await do_login(browser, email)
        assert response.status_code == 200, response.text
        return Actor(browser, await csrf_headers(browser), store_id)

    return make


@pytest.fixture
def bearer(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[[str], Actor]:
    """``bearer(secret)``: a cookie-less client sending ``Authorization: Bearer <secret>``."""

    def make(secret: str) -> Actor:
        return Actor(new_client(), {"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def open_store(admin_conn: asyncpg.Connection) -> Callable[..., Awaitable[dict[str, Any]]]:
    """``await open_store(owner, slug)``: ``POST /api/stores`` as ``owner``, then an active product with two
    variants; returns ``{"id", "slug", "product", "variants"}`` (the product as the admin API answered)."""

    async def open_(owner: Actor, slug: str, currency: str = "EUR") -> dict[str, Any]:
        response = await owner.post("/api/stores", json={"slug": slug, "name": slug.title(), "currency": currency})
        assert response.status_code == 201, response.text
        store_id = await admin_conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)
        owner.store_id = store_id
        product = await owner.post(
            f"/api/admin/{slug}/products",
            json={
                "name": "Photo Tee",
                "slug": "photo-tee",
                "status": "active",
                "variants": [
                    {"sku": f"{slug}-red", "title": "Red", "price_minor": 1900, "inventory": 4},
                    {"sku": f"{slug}-blue", "title": "Blue", "price_minor": 1900},
                ],
            },
        )
        assert product.status_code == 201, product.text
        body = product.json()
        return {"id": store_id, "slug": slug, "product": body, "variants": [v["id"] for v in body["variants"]]}

    return open_


# --- what was written --------------------------------------------------------------------------------------------


@dataclass
class Written:
    """The media rows (as the superuser sees them) and the files under the media directory."""

    admin_conn: asyncpg.Connection
    media_dir: Path

    async def snapshot(self) -> tuple[list[str], list[str]]:
        rows = await self.admin_conn.fetch("SELECT t::text AS row FROM product_media t ORDER BY t.id")
        files = sorted(str(path.relative_to(self.media_dir)) for path in self.media_dir.rglob("*") if path.is_file())
        return [row["row"] for row in rows], files


@pytest.fixture
def written(admin_conn: asyncpg.Connection, media_dir: Path) -> Written:
    """``await written.snapshot()``: compare before and after to show nothing was written."""
    return Written(admin_conn, media_dir)


@pytest.fixture
def upload() -> Callable[..., Awaitable[httpx.Response]]:
    """``await upload(actor, slug, product_id, data, filename="x.png", content_type="image/png", **fields)``."""

    async def send(
        actor: Actor,
        slug: str,
        product_id: str,
        data: bytes,
        *,
        filename: str = "image.bin",
        content_type: str = "application/octet-stream",
        **fields: Any,
    ) -> httpx.Response:
        form = {name: str(value) for name, value in fields.items()}
        return await actor.post(
            f"/api/admin/{slug}/products/{product_id}/media",
            files={"file": (filename, data, content_type)},
            data=form,
        )

    return send


class Images:
    """The image makers of this module, as a fixture: ``img.png(3, 2)``, ``img.catalog["gif"]``, ``img.max_bytes``."""

    png = staticmethod(png)
    gif = staticmethod(gif)
    jpeg = staticmethod(jpeg)
    webp = staticmethod(webp)
    catalog = IMAGES
    max_bytes = MAX_BYTES


@pytest.fixture
def img() -> type[Images]:
    """:class:`Images`."""
    return Images


@pytest.fixture
def anonymous(new_client: Callable[[], AsyncTestClient[Litestar]]) -> Callable[[], Awaitable[Actor]]:
    """``await anonymous()``: a browser with no session and no token, holding a CSRF pair as any browser would."""

    async def make() -> Actor:
        browser = new_client()
        return Actor(browser, await csrf_headers(browser))

    return make
