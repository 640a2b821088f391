"""``/static/admin/{name}``: the dashboard's compiled CSS and htmx (built by ``frontend/build``, shipped with the
package). A URL carrying the file's current version (``?v=``, see :func:`asset_url`) is cached for a year; any other
is revalidated."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import File

from tenantcommerce.web.rendering import file_version
from tenantcommerce.web.static_files import file_response

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PREFIX = "/static/admin"


def _file(name: str) -> Path | None:
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    return path


def asset_url(name: str) -> str:
    """The versioned URL of a static file of the dashboard (the name alone when the file is missing)."""
    path = _file(name)
    if path is None:
        return f"{PREFIX}/{name}"
    return f"{PREFIX}/{name}?v={file_version(path)}"


@get(f"{PREFIX}/{{name:path}}", include_in_schema=False, sync_to_thread=False)
def admin_static(name: FromPath[str], v: Annotated[str | None, QueryParameter(max_length=64)] = None) -> File:
    """A static file of the dashboard; 404 for anything else."""
    path = _file(name.lstrip("/"))
    if path is None:
        raise NotFoundException(f"no static file {name!r}")
    return file_response(path, current=v == file_version(path))
