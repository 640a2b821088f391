"""Product media: where image files are kept (:class:`MediaStorage`), what an upload must be, and the admin services.

A file is stored under ``<store_id>/<media_id>.<ext>`` and described by a ``product_media`` row (type, size, sha256,
width and height read from the image header). The type is taken from the bytes' magic numbers, never from the
client: JPEG, PNG, WebP and GIF only, with a header that says the image's size. Uploads are checked in full before
anything is written; the file is written before the row is committed and removed again when the commit fails, and a
deleted row's file is removed after the commit. The worst a crash can leave is a file without a row, never a row
without its file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable
from uuid import UUID

import msgspec
import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tenantcommerce.catalog.media_models import ProductMedia
from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.catalog.schemas import AdminMedia, MediaUpdate, MediaUpload
from tenantcommerce.db.base import new_id
from tenantcommerce.errors import BusinessRuleError, FieldError, NotFound, TenantCommerceError
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.runtime import Runtime
    from tenantcommerce.settings import Settings

_log = structlog.get_logger("tenantcommerce.media")


class PayloadTooLarge(TenantCommerceError):
    """413: the upload is larger than ``TC_MEDIA_MAX_BYTES``."""

    status_code = 413
    kind = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(TenantCommerceError):
    """415: the upload is not a JPEG, PNG, WebP or GIF image."""

    status_code = 415
    kind = "unsupported-media-type"
    title = "Unsupported media type"


class MissingMedia(LookupError):
    """The storage holds no file under the key."""


# --- what an image is ------------------------------------------------------------------------------------------------


class ImageInfo(NamedTuple):
    """What the header of an image says."""

    content_type: str
    extension: str
    width: int
    height: int


_MAX_DIMENSION = 2**31 - 1  # the columns are 32-bit; PNG allows no more either
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers (DHT, JPG, DAC excluded)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _gif_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _webp_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy: frame tag, start code, 14-bit sizes
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:  # lossless: signature, then 14 bits each of width-1 and height-1
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24 bits each of canvas width-1 and height-1
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the segments up to the first start-of-frame, which holds the size."""
    i, end = 2, len(data)
    while i + 1 < end:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        i += 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # segments without a length
            continue
        if marker in (0xD9, 0xDA) or i + 2 > end:  # end of image or start of scan before any frame header
            return None
        length = int.from_bytes(data[i : i + 2], "big")
        if marker in _JPEG_SOF:
            if length < 7 or i + 7 > end:
                return None
            height, width = struct.unpack(">HH", data[i + 3 : i + 7])
            return width, height
        if length < 2:
            return None
        i += length
    return None


def sniff_image(data: bytes) -> ImageInfo | None:
    """The type and size of an image from its bytes, or ``None`` unless it is a JPEG, PNG, WebP or GIF whose header
    gives a size of at least 1x1."""
    if data.startswith(b"\xff\xd8\xff"):
        kind, size = ("image/jpeg", "jpg"), _jpeg_size(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind, size = ("image/png", "png"), _png_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind, size = ("image/webp", "webp"), _webp_size(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        kind, size = ("image/gif", "gif"), _gif_size(data)
    else:
        return None
    if size is None or not all(1 <= side <= _MAX_DIMENSION for side in size):
        return None
    return ImageInfo(kind[0], kind[1], size[0], size[1])


# --- storage ---------------------------------------------------------------------------------------------------------

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STORAGE_KEY = re.compile(rf"^{_UUID}/{_UUID}\.(?:jpg|png|webp|gif)$")
"""The only shape of key the storages accept: ``<store_id>/<media_id>.<ext>``, nothing that could leave the root."""


def storage_key(store_id: UUID, media_id: UUID, extension: str) -> str:
    """The key of a store's image."""
    return check_key(f"{store_id}/{media_id}.{extension}")


def check_key(key: str) -> str:
    """``key`` if it has the shape of :data:`STORAGE_KEY`.

    Raises:
        ValueError: anything else (an absolute path, ``..``, another extension, ...).
    """
    if not STORAGE_KEY.fullmatch(key):
        raise ValueError(f"not a media storage key: {key!r}")
    return key


@runtime_checkable
class MediaStorage(Protocol):
    """Where image files are kept. Keys have the shape of :data:`STORAGE_KEY`; implementations refuse others."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, all or nothing (a reader never sees a partial file)."""
        ...

    async def open(self, key: str) -> bytes | Path:
        """The file under ``key``: a local path the server streams from, or its bytes.

        Raises:
            MissingMedia: nothing is stored under ``key``.
        """
        ...

    async def delete(self, key: str) -> None:
        """Remove the file under ``key``; nothing stored there is not an error."""
        ...


class LocalMediaStorage:
    """Files in a directory (``TC_MEDIA_DIR``): one folder per store, written to a temporary file and renamed."""

    def __init__(self, root: Path) -> None:
        """
        Args:
            root: the directory; made when the first file is stored.
        """
        self.root = root

    def path_of(self, key: str) -> Path:
        """Where the file of ``key`` lives (``ValueError`` for a key that is not one, so never outside the root)."""
        path = self.root / check_key(key)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"not a media storage key: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write ``data`` to a temporary file beside the target, flush it to disk, then rename it into place."""
        await asyncio.to_thread(self._write, self.path_of(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    async def open(self, key: str) -> Path:
        """The file's path."""
        path = self.path_of(key)
        if not await asyncio.to_thread(path.is_file):
            raise MissingMedia(key)
        return path

    async def delete(self, key: str) -> None:
        """Unlink the file."""
        path = self.path_of(key)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)


_local_storages: dict[Path, LocalMediaStorage] = {}


def local_storage(settings: Settings) -> LocalMediaStorage:
    """The :class:`LocalMediaStorage` of ``settings.media_path`` (one per directory, made on first use)."""
    root = settings.media_path
    storage = _local_storages.get(root)
    if storage is None:
        storage = _local_storages[root] = LocalMediaStorage(root)
    return storage


def storage_for(runtime: Runtime) -> MediaStorage:
    """The app's media storage: ``runtime.media_storage`` when one is set, else the local one of its settings."""
    return runtime.media_storage or local_storage(runtime.settings)


# --- admin services --------------------------------------------------------------------------------------------------


def media_url(store_slug: str, media_id: UUID) -> str:
    """Where the storefront serves an image (the same path the catalog's ``media[].url`` gives)."""
    return f"/api/storefront/{store_slug}/media/{media_id}"


def _out(media: ProductMedia) -> AdminMedia:
    return AdminMedia(
        id=media.id,
        product_id=media.product_id,
        variant_id=media.variant_id,
        url=media_url(current_store().slug, media.id),
        content_type=media.content_type,
        byte_size=media.byte_size,
        sha256=media.sha256,
        width=media.width,
        height=media.height,
        alt=media.alt,
        position=media.position,
        created_at=media.created_at,
    )


async def _product(session: AsyncSession, product_id: UUID) -> Product:
    product = await session.get(Product, (current_store().id, product_id))
    if product is None:
        raise NotFound("no such product in this store")
    return product


async def _check_variant(session: AsyncSession, product_id: UUID, variant_id: UUID) -> None:
    variant = await session.get(ProductVariant, (current_store().id, variant_id))
    if variant is None or variant.product_id != product_id:
        raise BusinessRuleError(
            "variant_id must name a variant of this product",
            errors=[FieldError("variant_id", "is not a variant of this product")],
        )


async def _media(session: AsyncSession, product_id: UUID, media_id: UUID) -> ProductMedia:
    media = await session.get(ProductMedia, (current_store().id, media_id))
    if media is None or media.product_id != product_id:
        raise NotFound("no such image of this product in this store")
    return media


def _refused(exc: IntegrityError) -> BusinessRuleError:
    text = str(exc.orig).splitlines()[0]
    if "variant_id" in text:  # the variant went away meanwhile
        return BusinessRuleError(
            "variant_id must name a variant of this product",
            errors=[FieldError("variant_id", "is not a variant of this product")],
        )
    return BusinessRuleError(f"the change breaks a rule of the catalog: {text}")


async def read_upload(form: MediaUpload, max_bytes: int) -> tuple[bytes, ImageInfo]:
    """The uploaded file's bytes and what they are.

    Raises:
        PayloadTooLarge: more than ``max_bytes``.
        UnsupportedMediaType: not a JPEG, PNG, WebP or GIF image.
    """
    try:
        data = await form.file.read(max_bytes + 1)
    finally:
        await form.file.close()
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the image is larger than the limit of {max_bytes} bytes (TC_MEDIA_MAX_BYTES)",
            errors=[FieldError("file", f"is larger than {max_bytes} bytes")],
        )
    info = sniff_image(data)
    if info is None:
        raise UnsupportedMediaType(
            "file must be a JPEG, PNG, WebP or GIF image",
            errors=[FieldError("file", "is not a JPEG, PNG, WebP or GIF image")],
        )
    return data, info


async def upload(
    session: AsyncSession, storage: MediaStorage, product_id: UUID, form: MediaUpload, *, max_bytes: int
) -> AdminMedia:
    """Store an image of a product: checked in full first, the file written, then the row committed."""
    data, info = await read_upload(form, max_bytes)
    await _product(session, product_id)
    if form.variant_id is not None:
        await _check_variant(session, product_id, form.variant_id)
    position = form.position
    if position is None:
        position = await session.scalar(
            select(func.coalesce(func.max(ProductMedia.position) + 1, 0)).where(ProductMedia.product_id == product_id)
        )
    media_id = new_id()
    media = ProductMedia(
        id=media_id,
        product_id=product_id,
        variant_id=form.variant_id,
        storage_key=storage_key(current_store().id, media_id, info.extension),
        content_type=info.content_type,
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=info.width,
        height=info.height,
        alt=form.alt,
        position=min(position or 0, 10_000),
    )
    session.add(media)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise _refused(exc) from None
    await storage.put(media.storage_key, data, info.content_type)
    try:
        await session.commit()
    except BaseException:
        await storage.delete(media.storage_key)
        raise
    return _out(media)


async def list_media(
    session: AsyncSession, product_id: UUID, *, limit: int, offset: int
) -> tuple[list[AdminMedia], int]:
    """A product's images in display order, one page."""
    await _product(session, product_id)
    query = select(ProductMedia).where(ProductMedia.product_id == product_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(ProductMedia.position, ProductMedia.id).limit(limit).offset(offset))
    return [_out(row) for row in rows], total


async def update(session: AsyncSession, product_id: UUID, media_id: UUID, data: MediaUpdate) -> AdminMedia:
    """Change an image's alt text, position or variant."""
    media = await _media(session, product_id, media_id)
    if isinstance(data.variant_id, UUID):
        await _check_variant(session, product_id, data.variant_id)
    for field in ("alt", "position", "variant_id"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            setattr(media, field, value)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _refused(exc) from None
    return _out(media)


async def delete(session: AsyncSession, storage: MediaStorage, product_id: UUID, media_id: UUID) -> None:
    """Remove an image: the row first (committed), then its file."""
    media = await _media(session, product_id, media_id)
    key = media.storage_key
    await session.delete(media)
    await session.commit()
    try:
        await storage.delete(key)
    except Exception:
        # The row is gone, so nothing serves the file any more; it only takes space until removed by hand.
        _log.exception("media file not deleted", storage_key=key)
