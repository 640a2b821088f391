"""The ``tenantcommerce`` command and plugins: ``plugins list``, ``plugins doctor``, ``worker --help`` and commands
that plugins add.

The installed plugins vary with the environment, so expectations about them are computed from the same entry
points; a host-project plugin (``cli-probe``) with a settings Struct and a command of its own is added where a known
plugin is needed, by giving ``PluginHost.from_settings`` the extra plugin every caller in the CLI builds its host
with. The CLI calls ``asyncio.run`` itself, so these are plain sync tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import msgspec
import pytest
from click.testing import CliRunner, Result

from tenantcommerce import hookimpl
from tenantcommerce.cli import main
from tenantcommerce.db.database import Database
from tenantcommerce.errors import PluginSetupError
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.plugins import enable_plugin

SETTINGS_VARIABLES = tuple("TC_" + name.upper() for name in Settings.__struct_encode_fields__)
PROBE = "cli-probe"


class ProbeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    api_key: str


@click.command("probe-hello")
@click.option("--name", default="world")
def probe_hello(name: str) -> None:
    """Say hello (a command added by the cli-probe plugin)."""
    click.echo(f"hello {name} from {PROBE}")


class ProbePlugin:
    """A host-project plugin: a settings Struct (``api_key`` required) and the ``probe-hello`` command."""

    @hookimpl
    def tc_register_settings_schemas(self, register: Callable[[type[msgspec.Struct]], None]) -> None:
        register(ProbeSettings)

    @hookimpl
    def tc_register_cli_commands(self, register: Callable[[click.Command], None]) -> None:
        register(probe_hello)


def base_env(tmp_path: Path, **values: str) -> dict[str, str | None]:
    """No TC_* setting from the outer environment leaks in; ``values`` (``TC_...``) are set."""
    env: dict[str, str | None] = dict.fromkeys(name for name in os.environ if name in SETTINGS_VARIABLES)
    env["TC_DATA_DIR"] = str(tmp_path / "data")
    env.update(values)
    return env


def invoke(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=True)


def assert_exit(result: Result, code: int) -> str:
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert "Traceback" not in result.output
    return result.output


def installed_ids(**settings: Any) -> list[str]:
    """Ids of the installed plugins (entry points), as the CLI loads them."""
    return PluginHost.from_settings(Settings.from_env({}, **settings)).plugin_ids()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    return base_env(tmp_path)


@pytest.fixture
def database_env(postgres: TestDatabase, tmp_path: Path) -> dict[str, str | None]:
    """``TC_DATABASE_URL`` of a migrated database of this test's own."""
    return base_env(tmp_path, TC_DATABASE_URL=postgres.admin_url.render_as_string(hide_password=False))


@pytest.fixture
def with_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host the CLI builds also holds :class:`ProbePlugin` as ``cli-probe`` (installed plugins still load)."""
    build = PluginHost.from_settings.__func__  # type: ignore[attr-defined]

    def from_settings(cls: type[PluginHost], settings: Settings, plugins: Any = None) -> PluginHost:
        return build(cls, settings, {**(plugins or {}), PROBE: ProbePlugin()})

    monkeypatch.setattr(PluginHost, "from_settings", classmethod(from_settings))


def configure_probe(postgres: TestDatabase, slug: str, config: dict[str, Any]) -> None:
    """Create store ``slug`` and save ``config`` for ``cli-probe`` there, enabled, without validating it (as if the
    plugin's settings had changed since it was saved)."""

    async def run() -> None:
        database = Database(postgres.runtime_url, pool_size=1)
        await database.connect()
        try:
            store = await create_store(
                database, slug=slug, name=slug.title(), currency="EUR", owner_email=f"owner@{slug}.test"
            )
            await enable_plugin(database, store.id, PROBE, config=config)
        finally:
            await database.close()

    asyncio.run(run())


# --- plugins list ---------------------------------------------------------------------------------------------------


def test_plugins_list_names_every_installed_plugin(env: dict[str, str | None]) -> None:
    ids = installed_ids()

    output = assert_exit(invoke(env, "plugins", "list"), 0)

    listed = [line.split()[0] for line in output.splitlines() if line and not line[0].isspace()]
    if ids:
        assert listed == ids
    else:
        assert output.startswith("No plugins installed")
    assert "Disabled by TC_DISABLED_PLUGINS" not in output


def test_plugins_list_shows_a_plugins_origin_and_hooks(env: dict[str, str | None], with_probe: None) -> None:
    output = assert_exit(invoke(env, "plugins", "list"), 0)

    lines = output.splitlines()
    at = lines.index(f"{PROBE}  (host project)")
    assert lines[at + 1] == "    hooks: tc_register_cli_commands, tc_register_settings_schemas"


def test_plugins_list_shows_plugins_disabled_by_the_setting(tmp_path: Path) -> None:
    ids = installed_ids()
    disabled = sorted({"ghost-plugin", *ids[:1]})
    env = base_env(tmp_path, TC_DISABLED_PLUGINS=",".join(disabled))

    output = assert_exit(invoke(env, "plugins", "list"), 0)

    assert output.splitlines()[-1] == f"Disabled by TC_DISABLED_PLUGINS: {', '.join(disabled)}"
    listed = [line.split()[0] for line in output.splitlines() if line and not line[0].isspace()]
    assert not set(ids[:1]) & set(listed), "a disabled plugin was loaded"


# --- plugins doctor -------------------------------------------------------------------------------------------------


def test_doctor_passes_and_warns_about_plugins_no_store_enabled(
    database_env: dict[str, str | None], with_probe: None
) -> None:
    result = invoke(database_env, "plugins", "doctor")

    output = assert_exit(result, 0)
    for plugin_id in installed_ids():
        assert f"WARN  {plugin_id} is installed but not enabled in any store" in output
    assert f"OK    {PROBE} loaded" in output
    assert f"WARN  {PROBE} is installed but not enabled in any store" in output
    assert output.splitlines()[-1].startswith("0 error(s), ")


def test_doctor_passes_with_a_valid_saved_config(
    postgres: TestDatabase, database_env: dict[str, str | None], with_probe: None
) -> None:
    configure_probe(postgres, "fine-shop", {"api_key": "k-1"})

    output = assert_exit(invoke(database_env, "plugins", "doctor"), 0)

    assert f"{PROBE} is installed but not enabled" not in output
    assert "ERROR" not in output


def test_doctor_fails_when_a_saved_config_no_longer_validates(
    postgres: TestDatabase, database_env: dict[str, str | None], with_probe: None
) -> None:
    configure_probe(postgres, "stale-shop", {"api_key": 5})

    output = assert_exit(invoke(database_env, "plugins", "doctor"), 1)

    assert f"ERROR store stale-shop: invalid configuration for plugin {PROBE!r}" in output
    assert output.splitlines()[-1].startswith("1 error(s), ")


def test_doctor_fails_clearly_when_a_plugin_cannot_load(
    env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cls: type[PluginHost], settings: Settings, plugins: Any = None) -> PluginHost:
        raise PluginSetupError("plugin 'broken' implements 'tc_no_such_hook', which is not a tenantcommerce hook")

    monkeypatch.setattr(PluginHost, "from_settings", classmethod(broken))

    output = assert_exit(invoke(env, "plugins", "doctor"), 1)

    assert "ERROR plugin 'broken' implements 'tc_no_such_hook'" in output
    assert "serve" in assert_exit(invoke(env, "--help"), 0), "a broken plugin took the core commands with it"


# --- worker and plugin commands -------------------------------------------------------------------------------------


def test_worker_help_describes_the_worker(env: dict[str, str | None]) -> None:
    output = assert_exit(invoke(env, "worker", "--help"), 0)

    assert "background worker" in output
    assert "--concurrency" in output


def test_a_command_registered_by_a_plugin_is_listed_and_runs(env: dict[str, str | None], with_probe: None) -> None:
    help_text = assert_exit(invoke(env, "--help"), 0)
    assert "probe-hello" in help_text
    assert "serve" in help_text

    output = assert_exit(invoke(env, "probe-hello", "--name", "Ann"), 0)

    assert output == f"hello Ann from {PROBE}\n"


def test_without_the_plugin_its_command_does_not_exist(env: dict[str, str | None]) -> None:
    assert "probe-hello" not in assert_exit(invoke(env, "--help"), 0)
    result = invoke(env, "probe-hello")
    assert result.exit_code == 2
    assert "No such command 'probe-hello'" in result.output
