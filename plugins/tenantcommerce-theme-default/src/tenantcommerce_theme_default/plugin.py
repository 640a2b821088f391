"""The plugin object (entry point ``theme-default``): registers the theme ``default``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tenantcommerce import hookimpl
from tenantcommerce.plugins.providers import Theme

PACKAGE = Path(__file__).parent


@dataclass
class DefaultTheme:
    """The default storefront theme: its templates and its compiled CSS and htmx."""

    id: str = "default"
    name: str = "Default"
    templates: Path = field(default=PACKAGE / "templates")
    static: Path | None = field(default=PACKAGE / "static")


THEME = DefaultTheme()


@hookimpl
def tc_register_themes(register: Callable[[Theme], None]) -> None:
    """Register the default theme."""
    register(THEME)
