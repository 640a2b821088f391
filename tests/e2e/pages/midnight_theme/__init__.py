"""A second, small storefront theme for the tests: it overrides ``base.html`` only (dark, its own stylesheet) and
falls back to the default theme for every page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tenantcommerce import hookimpl
from tenantcommerce.plugins.providers import Theme

HERE = Path(__file__).parent


@dataclass(frozen=True)
class MidnightTheme:
    id: str = "midnight"
    name: str = "Midnight"
    templates: Path = field(default=HERE / "templates")
    static: Path | None = field(default=HERE / "static")


class MidnightPlugin:
    """The plugin object: register it with ``register_plugin(MidnightPlugin(), "midnight-theme")``."""

    @hookimpl
    def tc_register_themes(self, register: Callable[[Theme], None]) -> None:
        register(MidnightTheme())
