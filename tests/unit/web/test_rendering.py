"""The rendering helpers: themes picked per store with the default as fallback, versioned asset URLs, static files
kept inside their directory, the CSRF field, the cached site; the page helpers' colours and form errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import msgspec
import pytest
from tenantcommerce_theme_default.plugin import THEME

from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.storefront.pages.base import StoreLook, foreground_for, form_errors
from tenantcommerce.web.rendering import Themes, environment, render, site_of


@dataclass(frozen=True)
class Other:
    id: str
    name: str
    templates: Path
    static: Path | None


@pytest.fixture
def other(tmp_path: Path) -> Other:
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "templates" / "error.html").write_text("OTHER {{ message }} {{ csrf_input() }}")
    (tmp_path / "static" / "extra.css").write_text("body{}")
    return Other("other", "Other", tmp_path / "templates", tmp_path / "static")


def test_pick_honours_the_store_choice_only_when_available(other: Other) -> None:
    themes = Themes({"default": THEME, "other": other})
    assert themes.pick("other", {"other"}) is other
    assert themes.pick("other", set()) is THEME
    assert themes.pick("missing", {"missing"}) is THEME
    assert themes.pick(None, set()) is THEME
    assert Themes({}).pick("default", set()) is None


def test_a_theme_overrides_one_template_and_falls_back_for_the_rest(other: Other) -> None:
    env = environment(Themes({"default": THEME, "other": other}))
    assert render(env, "other/error.html", {"message": "hi", "csrf_token": "t"}).startswith("OTHER hi")
    assert env.get_template("other/home.html").filename == str(THEME.templates / "home.html")


def test_asset_urls_are_versioned_and_fall_back_to_the_default(other: Other) -> None:
    themes = Themes({"default": THEME, "other": other})
    own = themes.asset_url(other, "extra.css")
    assert own.startswith("/static/themes/other/extra.css?v=")
    assert themes.asset_url(other, "theme.css").startswith("/static/themes/default/theme.css?v=")
    with pytest.raises(jinja2.TemplateNotFound):
        themes.asset_url(other, "missing.css")


def test_static_files_stay_inside_the_theme_directory(other: Other) -> None:
    themes = Themes({"default": THEME, "other": other})
    assert themes.static_file("other", "extra.css") == (other.static / "extra.css").resolve()  # type: ignore[operator]
    assert themes.static_file("other", "../templates/error.html") is None
    assert themes.static_file("nope", "extra.css") is None


def test_csrf_input_escapes_the_token() -> None:
    env = environment(Themes({"default": THEME}))
    html = env.from_string("{{ csrf_input() }}").render(csrf_token='a"b')
    assert html == '<input type="hidden" name="_csrf_token" value="a&#34;b">'
    assert env.from_string("{{ csrf_input() }}").render() == '<input type="hidden" name="_csrf_token" value="">'


def test_the_site_is_built_once_per_host_and_again_when_themes_change(other: Other) -> None:
    host = PluginHost(load_entry_points=False, plugins={})
    first = site_of(host)
    assert site_of(host) is first
    assert first.themes.registered == {}
    from tenantcommerce import hookimpl

    class OtherPlugin:
        @hookimpl
        def tc_register_themes(self, register):  # type: ignore[no-untyped-def]
            register(other)

    host.register(OtherPlugin(), "other-theme")
    second = site_of(host)
    assert second is not first
    assert set(second.themes.registered) == {"other"}


def test_colours_get_a_readable_foreground() -> None:
    assert foreground_for("#ffffff") == "#000000"
    assert foreground_for("#000000") == "#ffffff"
    assert foreground_for("#1d4ed8") == "#ffffff"
    assert foreground_for("#fde68a") == "#000000"
    look = StoreLook(slug="s", name="S", currency="EUR", primary_color="#ffcc00", accent_color="red")
    assert look.css_variables == "--primary: #ffcc00; --primary-foreground: #000000;"


def test_form_errors_map_services_and_bad_input_to_fields() -> None:
    rule = form_errors(BusinessRuleError("only 2 left", errors=[FieldError("qty", "at most 2 available")]))
    assert (rule.status_code, rule.fields, rule.detail) == (422, {"qty": "at most 2 available"}, "only 2 left")

    class Body(msgspec.Struct):
        qty: int

    try:
        msgspec.convert({"qty": "x"}, Body)
    except msgspec.ValidationError as exc:
        bad = form_errors(exc)
    assert bad.status_code == 400
    assert list(bad.fields) == ["qty"]
    assert "Expected `int`" in bad.fields["qty"]
