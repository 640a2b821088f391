"""Product media over HTTP: the admin's ``/api/admin/{slug}/products/{product_id}/media`` and the storefront's
``/api/storefront/{slug}/media/{media_id}``, which serves the file to anyone, cacheable for a year."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import structlog
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import ETag
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath, JSONBody
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED

from tenantcommerce.auth.admin_controllers import ADMIN_PREFIX
from tenantcommerce.auth.guards import requires
from tenantcommerce.auth.sessions import ANONYMOUS_OPT
from tenantcommerce.catalog import media, storefront
from tenantcommerce.catalog.schemas import AdminMedia, MediaUpdate, MediaUpload
from tenantcommerce.errors import FieldError, NotFound, problem_responses
from tenantcommerce.lists import DEFAULT_LIMIT, Limit, Offset, Page
from tenantcommerce.runtime import Runtime
from tenantcommerce.tenancy.context import current_store

UPLOAD_ENVELOPE = 64 * 1024
"""Room for the multipart framing and the small fields beside the file."""
UPLOAD_BODY_CEILING = 100 * 1024 * 1024 + UPLOAD_ENVELOPE
"""The body limit of the upload route: the largest ``TC_MEDIA_MAX_BYTES`` allowed, plus the envelope. The
configured limit is enforced below it (by Content-Length before the body is read, and on the file itself)."""

_log = structlog.get_logger("tenantcommerce.media")

CACHE_FOREVER = "public, max-age=31536000, immutable"
"""A media URL always names the same bytes (an edit of the image is a new upload, so a new id)."""


async def upload_within_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse an upload whose announced size exceeds ``TC_MEDIA_MAX_BYTES`` before reading any of it."""
    from tenantcommerce.app import runtime_of

    limit = runtime_of(connection.app).settings.media_max_bytes
    announced = connection.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit + UPLOAD_ENVELOPE:
        raise media.PayloadTooLarge(
            f"the upload is larger than the limit of {limit} bytes (TC_MEDIA_MAX_BYTES)",
            errors=[FieldError("file", f"is larger than {limit} bytes")],
        )


class AdminMediaController(Controller):
    """Images of a product (read: ``products:read``; write: ``products:write``)."""

    path = f"{ADMIN_PREFIX}/products/{{product_id:uuid}}/media"
    tags = ["admin: catalog"]
    security = [{"session": []}, {"bearer": []}]

    @post(
        "/",
        guards=[requires("products:write"), upload_within_limit],
        status_code=HTTP_201_CREATED,
        request_max_body_size=UPLOAD_BODY_CEILING,
        summary="Upload an image of a product",
        responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    )
    async def upload(
        self,
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        data: Annotated[MediaUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> AdminMedia:
        """A multipart form: ``file`` (JPEG, PNG, WebP or GIF, at most ``TC_MEDIA_MAX_BYTES``), and optionally
        ``alt``, ``variant_id`` (a variant of this product) and ``position``."""
        async with runtime.database.session() as session:
            return await media.upload(
                session,
                media.storage_for(runtime),
                product_id,
                data,
                max_bytes=runtime.settings.media_max_bytes,
            )

    @get("/", guards=[requires("products:read")], responses=problem_responses(400, 401, 403, 404))
    async def list_media(
        self,
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Page[AdminMedia]:
        """A product's images in display order."""
        async with runtime.database.session() as session:
            items, total = await media.list_media(session, product_id, limit=limit, offset=offset)
        return Page(items=items, limit=limit, offset=offset, total=total)

    @patch(
        "/{media_id:uuid}",
        guards=[requires("products:write")],
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def update(
        self,
        runtime: NamedDependency[Runtime],
        product_id: FromPath[UUID],
        media_id: FromPath[UUID],
        data: JSONBody[MediaUpdate],
    ) -> AdminMedia:
        """Change the alt text, the position or the variant (``null``: none) of an image."""
        async with runtime.database.session() as session:
            return await media.update(session, product_id, media_id, data)

    @delete(
        "/{media_id:uuid}",
        guards=[requires("products:write")],
        status_code=HTTP_204_NO_CONTENT,
        responses=problem_responses(401, 403, 404),
    )
    async def remove(
        self, runtime: NamedDependency[Runtime], product_id: FromPath[UUID], media_id: FromPath[UUID]
    ) -> None:
        """Delete an image and its file."""
        async with runtime.database.session() as session:
            await media.delete(session, media.storage_for(runtime), product_id, media_id)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison of ``If-None-Match`` against our entity tag."""
    candidates = [candidate.strip() for candidate in if_none_match.split(",")]
    return any(candidate == "*" or candidate.removeprefix("W/") == etag for candidate in candidates)


class StorefrontMediaController(Controller):
    """Product images of one store, for anyone."""

    path = "/api/storefront/{slug:str}/media"
    tags = ["storefront"]
    opt = {ANONYMOUS_OPT: True}  # public reads: no session, CSRF or sign-in work

    @get(
        "/{media_id:str}",
        summary="Get an image of an active product",
        responses=problem_responses(403, 404),
    )
    async def serve(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], media_id: FromPath[str]
    ) -> Response[Any]:
        """The file with its type, cacheable for a year; ``If-None-Match`` with its ETag answers 304. An unknown id,
        another store's, or an image of a product that is not active answers 404."""
        try:
            key = UUID(media_id)
        except ValueError:
            key = None
        found = None
        if key is not None and str(key) == media_id.lower():
            found = await storefront.get_media(runtime.database, current_store().id, key)
        if found is None:
            raise NotFound(f"no image {media_id!r} in this store")
        etag = f'"{found.sha256}"'
        headers = {"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}
        if _matches(request.headers.get("if-none-match", ""), etag):
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers={**headers, "ETag": etag})
        try:
            stored = await media.storage_for(runtime).open(found.storage_key)
        except media.MissingMedia:
            _log.error("media file missing", storage_key=found.storage_key)
            raise NotFound(f"no image {media_id!r} in this store") from None
        if isinstance(stored, bytes):
            return Response(stored, media_type=found.content_type, headers={**headers, "ETag": etag})
        return File(
            stored,
            filename=found.storage_key.rsplit("/", 1)[-1],
            media_type=found.content_type,
            content_disposition_type="inline",
            etag=ETag(value=found.sha256),
            headers=headers,
        )
