"""``/static/themes/{theme_id}/{path}``: the static files of the installed themes.

A URL versioned with the file's content (``?v=<hash>``, as :meth:`Themes.asset_url` writes it) is cached for good;
any other answers with a short cache. A file the theme does not have (or a path leaving its directory) answers 404.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import File

from tenantcommerce.auth.sessions import ANONYMOUS_OPT
from tenantcommerce.errors import NotFound, problem_responses
from tenantcommerce.runtime import Runtime
from tenantcommerce.web.rendering import STATIC_PREFIX, file_version, site_of

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300"


@get(
    f"{STATIC_PREFIX}/{{theme_id:str}}/{{path:path}}",
    opt={ANONYMOUS_OPT: True},
    include_in_schema=False,
    responses=problem_responses(404),
)
async def theme_static(
    runtime: NamedDependency[Runtime], theme_id: FromPath[str], path: FromPath[str], v: FromQuery[str | None] = None
) -> Response[bytes] | File:
    """A theme's static file; long-cached when the URL carries its current version."""
    themes = site_of(runtime.plugin_host).themes
    name = path.lstrip("/")
    found = themes.static_file(theme_id, name)
    if found is None:
        raise NotFound(f"theme {theme_id!r} has no static file {name!r}")
    return file_response(found, current=v == file_version(found))


def file_response(found: Path, *, current: bool) -> File:
    """``found``, typed by its name; cached for good when the URL carried its ``current`` version."""
    media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return File(
        path=found,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": IMMUTABLE if current else REVALIDATE},
    )
