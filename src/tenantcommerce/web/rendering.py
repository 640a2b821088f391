"""One Jinja environment for every installed theme and for the admin dashboard.

Templates are addressed as ``<theme id>/<template>``: a theme's own template when it has one, else the default
theme's (id :data:`DEFAULT_THEME`), so a theme overrides only what it changes. The admin dashboard's templates are
the core's, under ``_admin/``. Autoescaping is on and undefined names fail loudly (a typo in a template is an error
in its rendering test, not an empty string on a page).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from tenantcommerce.money import Money
from tenantcommerce.plugins.providers import Theme

if TYPE_CHECKING:
    from tenantcommerce.plugins.host import PluginHost

DEFAULT_THEME = "default"
"""The theme every other theme falls back to (the ``tenantcommerce-theme-default`` package registers it)."""
ADMIN_TEMPLATES = Path(__file__).parent / "templates"
"""The core's own templates (the admin dashboard), addressed as ``_admin/<template>``."""
ADMIN_PREFIX = "_admin"
"""Never a theme id (those start with a letter or digit)."""
STATIC_PREFIX = "/static/themes"


def money(amount_minor: int | None, currency: str) -> str:
    """``1234, "EUR"`` -> ``EUR 12.34`` (the money format of the API and the mails)."""
    return Money(amount_minor or 0, currency).format()


@cache
def _version_of(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def file_version(path: Path) -> str:
    """The version of a static file in its URL (``?v=``): a hash of its content, read once per modification."""
    return _version_of(path, path.stat().st_mtime_ns)


@dataclass(frozen=True)
class Themes:
    """The themes of the installed plugins, by id."""

    registered: Mapping[str, Theme]

    def pick(self, wanted: str | None, available: set[str]) -> Theme | None:
        """The theme a store shows: the one it ``wanted`` when that is installed and ``available`` to it (its
        plugin enabled, or the default), else the default theme; ``None`` when no theme is installed at all."""
        if wanted and wanted in self.registered and (wanted in available or wanted == DEFAULT_THEME):
            return self.registered[wanted]
        return self.registered.get(DEFAULT_THEME)

    def asset_url(self, theme: Theme, name: str) -> str:
        """Where a static file of ``theme`` is served, versioned by its content (so it can be cached for good):
        the theme's own file, else the default theme's."""
        for candidate in (theme, self.registered.get(DEFAULT_THEME)):
            if candidate is None or candidate.static is None:
                continue
            path = candidate.static / name
            if path.is_file():
                version = file_version(path)
                return f"{STATIC_PREFIX}/{candidate.id}/{name}?v={version}"
        raise jinja2.TemplateNotFound(f"static file {name!r} of theme {theme.id!r}")

    def static_file(self, theme_id: str, name: str) -> Path | None:
        """The file ``name`` of theme ``theme_id``'s static directory; ``None`` when there is none (or the name
        leaves the directory)."""
        theme = self.registered.get(theme_id)
        if theme is None or theme.static is None:
            return None
        root = theme.static.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path


def environment(themes: Themes) -> jinja2.Environment:
    """The Jinja environment of ``themes`` and the admin dashboard."""
    default = themes.registered.get(DEFAULT_THEME)
    loaders: dict[str, jinja2.BaseLoader] = {}
    for theme_id, theme in themes.registered.items():
        chain: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(theme.templates)]
        if default is not None and theme is not default:
            chain.append(jinja2.FileSystemLoader(default.templates))
        loaders[theme_id] = jinja2.ChoiceLoader(chain)
    loaders[ADMIN_PREFIX] = jinja2.FileSystemLoader(ADMIN_TEMPLATES)
    env = jinja2.Environment(
        loader=jinja2.PrefixLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = money
    env.globals["Markup"] = Markup
    env.globals["csrf_input"] = csrf_input
    env.globals["asset_url"] = themes.asset_url
    return env


@jinja2.pass_context
def csrf_input(context: jinja2.runtime.Context) -> Markup:
    """The hidden form field Litestar's CSRF middleware reads (``_csrf_token``), from the context's ``csrf_token``
    (empty when the page has none: a form posted without it is refused)."""
    token = context.get("csrf_token") or ""
    return Markup('<input type="hidden" name="_csrf_token" value="{}">').format(token)


@dataclass(frozen=True)
class Site:
    """The installed themes and the one environment rendering them (see :func:`site_of`)."""

    themes: Themes
    env: jinja2.Environment


_sites: weakref.WeakKeyDictionary[PluginHost, tuple[tuple[tuple[str, int], ...], Site]] = weakref.WeakKeyDictionary()
_sites_lock = threading.Lock()


def site_of(host: PluginHost) -> Site:
    """The :class:`Site` of a plugin host (``runtime.plugin_host``): built once, and again only when the registered
    themes change (a test registering a theme plugin)."""
    registered = {theme_id: entry.value for theme_id, entry in host.registrations.themes.items()}
    key = tuple(sorted((theme_id, id(theme)) for theme_id, theme in registered.items()))
    cached = _sites.get(host)
    if cached is not None and cached[0] == key:
        return cached[1]
    with _sites_lock:
        themes = Themes(registered)
        site = Site(themes, environment(themes))
        _sites[host] = (key, site)
        return site


def render(env: jinja2.Environment, template: str, context: Mapping[str, Any]) -> str:
    """Render ``template`` (``<theme id>/<name>`` or ``_admin/<name>``) with ``context``."""
    return env.get_template(template).render(context)
