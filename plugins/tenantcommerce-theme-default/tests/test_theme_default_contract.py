"""The default theme passes the core's theme contract and ships its compiled assets."""

from __future__ import annotations

import pytest
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.testing.contracts import ThemeContract

from tenantcommerce_theme_default.plugin import THEME, DefaultTheme


class TestDefaultThemeContract(ThemeContract):
    @pytest.fixture
    def provider(self) -> DefaultTheme:
        return THEME


def test_the_compiled_css_and_htmx_are_shipped() -> None:
    assert THEME.static is not None
    css = (THEME.static / "theme.css").read_text()
    assert ".btn" in css, "basecoat's components are compiled in"
    assert (THEME.static / "htmx.min.js").stat().st_size > 10_000


def test_the_installed_package_registers_the_default_theme() -> None:
    host = PluginHost()
    assert host.registrations.themes["default"].value is THEME
    assert host.registrations.themes["default"].plugin_id == "theme-default"
