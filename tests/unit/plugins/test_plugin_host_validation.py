"""The plugin host on its own (no database): what it refuses at start-up, and what it reports about a plugin.

Test plugins are inline ``class Plugin:`` namespaces with ``@hookimpl`` methods, registered as instances (as pluggy's
own tests do) through ``PluginHost(load_entry_points=False, plugins={...})``, so plugins installed in the venv never
take part, except in the tests of entry-point discovery, which add a distribution of their own to ``sys.path``.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from tenantcommerce import hookimpl
from tenantcommerce.auth.mailer import EmailMessage
from tenantcommerce.errors import PluginSetupError
from tenantcommerce.plugins.host import HOOK_NAMES, PluginHost, PluginInfo, hook_kind
from tenantcommerce.plugins.registrations import PeriodicJob, Routes
from tenantcommerce.settings import Settings

ASYNC_HOOKS = [name for name in HOOK_NAMES if hook_kind(name) != "register"]
REGISTER_HOOKS = [name for name in HOOK_NAMES if hook_kind(name) == "register"]


def host_of(**plugins: object) -> PluginHost:
    """A host of exactly ``plugins`` (ids with underscores become dashes), no installed plugin."""
    return PluginHost(load_entry_points=False, plugins={key.replace("_", "-"): value for key, value in plugins.items()})


def plugin_with(hook: str, function: Callable[..., Any]) -> object:
    """A plugin object whose only hook implementation is ``function``, under the name ``hook``."""
    return type("Plugin", (), {hook: hookimpl(function)})()


class Carrier:
    """A valid shipping carrier."""

    def __init__(self, carrier_id: str = "post") -> None:
        self.id = carrier_id
        self.name = f"Carrier {carrier_id}"

    async def quote(self, ctx: Any, request: Any, plugin: Any) -> list[Any]:
        return []

    async def buy_label(self, ctx: Any, request: Any, plugin: Any) -> None:
        return None


class CarrierWithoutLabels:
    id = "no-labels"
    name = "No labels"

    async def quote(self, ctx: Any, request: Any, plugin: Any) -> list[Any]:
        return []


class CarrierWithSyncQuote:
    id = "sync-quote"
    name = "Sync quote"

    def quote(self, ctx: Any, request: Any, plugin: Any) -> list[Any]:
        return []

    async def buy_label(self, ctx: Any, request: Any, plugin: Any) -> None:
        return None


def carrier_plugin(*carriers: object) -> object:
    class Plugin:
        @hookimpl
        def tc_register_shipping_carriers(self, register: Callable[[Any], None]) -> None:
            for carrier in carriers:
                register(carrier)

    return Plugin()


class RecordingMailer:
    async def send(self, message: EmailMessage) -> None:
        return None


def mailer_plugin() -> object:
    class Plugin:
        @hookimpl
        def tc_register_mailers(self, register: Callable[[Any], None]) -> None:
            register(RecordingMailer())

    return Plugin()


class CheckoutVeto:
    """A valid plugin with an async decide hook."""

    @hookimpl
    async def tc_check_checkout(self, ctx: Any, checkout: Any, plugin: Any) -> None:
        return None


# --- hook names and kinds ---------------------------------------------------------------------------------------------


def test_an_implementation_of_an_unknown_hook_names_the_plugin_and_the_hook() -> None:
    class Plugin:
        @hookimpl
        def tc_register_shiping_carriers(self, register: Callable[[Any], None]) -> None:
            """Misspelt: one ``p``."""

    with pytest.raises(PluginSetupError) as raised:
        host_of(typo_plugin=Plugin())

    assert "typo-plugin" in raised.value.detail
    assert "tc_register_shiping_carriers" in raised.value.detail
    assert "not a tenantcommerce hook" in raised.value.detail


@pytest.mark.parametrize("hook", ASYNC_HOOKS)
def test_a_plain_function_for_an_async_hook_is_refused(hook: str) -> None:
    def plain(self: object, ctx: Any) -> None:
        return None

    with pytest.raises(PluginSetupError) as raised:
        host_of(sync_plugin=plugin_with(hook, plain))

    assert "sync-plugin" in raised.value.detail
    assert hook in raised.value.detail
    assert "async def" in raised.value.detail


@pytest.mark.parametrize("hook", REGISTER_HOOKS)
def test_async_def_for_a_register_hook_is_refused(hook: str) -> None:
    async def coroutine(self: object, register: Callable[[Any], None]) -> None:
        return None

    with pytest.raises(PluginSetupError) as raised:
        host_of(async_plugin=plugin_with(hook, coroutine))

    assert "async-plugin" in raised.value.detail
    assert hook in raised.value.detail
    assert "plain functions" in raised.value.detail


def test_an_implementation_with_an_argument_the_hook_does_not_have_is_refused() -> None:
    async def extra(self: object, ctx: Any, order: Any) -> None:
        return None

    with pytest.raises(PluginSetupError) as raised:
        host_of(extra_arg=plugin_with("tc_check_checkout", extra))

    assert "extra-arg" in raised.value.detail
    assert "order" in raised.value.detail


def test_a_valid_async_hook_registers() -> None:
    host = host_of(veto=CheckoutVeto())

    assert host.plugin_ids() == ["veto"]
    assert [impl.plugin_name for impl in host.implementations("tc_check_checkout")] == ["veto"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("tc_register_payment_gateways", "register"),
        ("tc_register_anything", "register"),
        ("tc_collect_store_warnings", "collect"),
        ("tc_on_product_created", "event"),
        ("tc_on_plugin_disabled", "event"),
        ("tc_check_checkout", "decide"),
        ("tc_choose_something", "decide"),
    ],
)
def test_hook_kind_follows_the_name(name: str, kind: str) -> None:
    assert hook_kind(name) == kind


# --- plugin ids -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("plugin_id", ["", "Upper", "under_score", "-leading-dash", "dots.in.it", "x" * 51, "sp ace"])
def test_an_invalid_plugin_id_is_refused(plugin_id: str) -> None:
    with pytest.raises(PluginSetupError) as raised:
        PluginHost(load_entry_points=False, plugins={plugin_id: CheckoutVeto()})

    assert "invalid" in raised.value.detail


@pytest.mark.parametrize("plugin_id", ["a", "shipping-rates", "p2p", "x" * 50])
def test_a_valid_plugin_id_is_accepted(plugin_id: str) -> None:
    host = PluginHost(load_entry_points=False, plugins={plugin_id: CheckoutVeto()})

    assert host.has_plugin(plugin_id)


def test_registering_a_taken_plugin_id_is_refused() -> None:
    host = host_of(veto=CheckoutVeto())

    with pytest.raises(PluginSetupError) as raised:
        host.register(CheckoutVeto(), "veto")

    assert "already registered" in raised.value.detail
    assert len(host.implementations("tc_check_checkout")) == 1


# --- providers --------------------------------------------------------------------------------------------------------


def test_two_plugins_registering_a_provider_with_the_same_id_are_refused() -> None:
    with pytest.raises(PluginSetupError) as raised:
        host_of(first_post=carrier_plugin(Carrier("post")), second_post=carrier_plugin(Carrier("post")))

    assert "first-post" in raised.value.detail
    assert "second-post" in raised.value.detail
    assert "'post'" in raised.value.detail


def test_providers_with_different_ids_are_kept_by_id_with_their_plugin() -> None:
    host = host_of(carriers=carrier_plugin(Carrier("post"), Carrier("courier")))

    carriers = host.registrations.shipping_carriers
    assert sorted(carriers) == ["courier", "post"]
    assert {registered.plugin_id for registered in carriers.values()} == {"carriers"}


def test_a_provider_lacking_a_method_is_refused_naming_the_method() -> None:
    with pytest.raises(PluginSetupError) as raised:
        host_of(lacking=carrier_plugin(CarrierWithoutLabels()))

    assert "lacking" in raised.value.detail
    assert "no-labels" in raised.value.detail
    assert "buy_label" in raised.value.detail


def test_a_provider_with_a_sync_method_is_refused_naming_the_method() -> None:
    with pytest.raises(PluginSetupError) as raised:
        host_of(sync_method=carrier_plugin(CarrierWithSyncQuote()))

    assert "sync-method" in raised.value.detail
    assert "sync-quote" in raised.value.detail
    assert "quote" in raised.value.detail
    assert "async def" in raised.value.detail


@pytest.mark.parametrize("provider_id", [None, 42, "Not Valid", ""])
def test_a_provider_without_a_valid_id_is_refused(provider_id: object) -> None:
    carrier = Carrier()
    carrier.id = provider_id  # type: ignore[assignment]

    with pytest.raises(PluginSetupError) as raised:
        host_of(bad_provider_id=carrier_plugin(carrier))

    assert "bad-provider-id" in raised.value.detail


# --- other registrations ----------------------------------------------------------------------------------------------


@dataclass
class DataclassSettings:
    flat_minor: int = 0


@pytest.mark.parametrize("schema", [dict, DataclassSettings, "Settings", object()])
def test_a_settings_schema_that_is_not_a_struct_is_refused(schema: object) -> None:
    class Plugin:
        @hookimpl
        def tc_register_settings_schemas(self, register: Callable[[Any], None]) -> None:
            register(schema)

    with pytest.raises(PluginSetupError) as raised:
        host_of(bad_schema=Plugin())

    assert "bad-schema" in raised.value.detail
    assert "msgspec Struct" in raised.value.detail


def test_a_settings_struct_is_kept_for_its_plugin() -> None:
    class Rates(msgspec.Struct, frozen=True):
        flat_minor: int = 0

    class Plugin:
        @hookimpl
        def tc_register_settings_schemas(self, register: Callable[[Any], None]) -> None:
            register(Rates)

    host = host_of(rates=Plugin())

    assert host.registrations.settings_schemas == {"rates": Rates}


def test_two_mailers_are_refused_naming_both_plugins() -> None:
    with pytest.raises(PluginSetupError) as raised:
        host_of(mail_one=mailer_plugin(), mail_two=mailer_plugin())

    assert "mail-one" in raised.value.detail
    assert "mail-two" in raised.value.detail
    assert "TC_DISABLED_PLUGINS" in raised.value.detail


def test_one_mailer_is_kept() -> None:
    host = host_of(mail_one=mailer_plugin())

    assert [registered.plugin_id for registered in host.registrations.mailers] == ["mail-one"]


def test_routes_must_be_routes_and_jobs_must_be_periodic_jobs() -> None:
    class BadRoutes:
        @hookimpl
        def tc_register_routes(self, register: Callable[[Any], None]) -> None:
            register(["not", "routes"])

    class BadJobs:
        @hookimpl
        def tc_register_jobs(self, register: Callable[[Any], None]) -> None:
            register(lambda runtime: None)

    with pytest.raises(PluginSetupError, match="bad-routes"):
        host_of(bad_routes=BadRoutes())
    with pytest.raises(PluginSetupError, match="bad-jobs"):
        host_of(bad_jobs=BadJobs())


def test_migrations_must_be_a_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    class Plugin:
        @hookimpl
        def tc_register_migrations(self, register: Callable[[Path], None]) -> None:
            register(missing)

    with pytest.raises(PluginSetupError) as raised:
        host_of(no_dir=Plugin())

    assert "no-dir" in raised.value.detail
    assert str(missing) in raised.value.detail


# --- disabling --------------------------------------------------------------------------------------------------------


def test_disabled_blocks_a_plugin_of_the_host_project() -> None:
    with pytest.raises(PluginSetupError) as raised:
        PluginHost(load_entry_points=False, disabled={"veto"}, plugins={"veto": CheckoutVeto()})

    assert "'veto'" in raised.value.detail
    assert "TC_DISABLED_PLUGINS" in raised.value.detail


def test_disabled_blocks_registering_at_run_time() -> None:
    host = PluginHost(load_entry_points=False, disabled={"veto"})

    with pytest.raises(PluginSetupError, match="TC_DISABLED_PLUGINS"):
        host.register(CheckoutVeto(), "veto")

    assert not host.has_plugin("veto")
    assert host.implementations("tc_check_checkout") == []


def test_settings_disabled_plugins_is_a_comma_separated_list() -> None:
    settings = Settings.from_env({}, disabled_plugins=" first-plugin, second-plugin ,,")

    assert settings.disabled_plugin_ids == frozenset({"first-plugin", "second-plugin"})


def test_a_host_from_settings_blocks_the_disabled_plugins() -> None:
    settings = Settings.from_env({}, disabled_plugins="first-plugin,second-plugin")

    host = PluginHost.from_settings(settings)

    assert host.disabled == frozenset({"first-plugin", "second-plugin"})
    for plugin_id in ("first-plugin", "second-plugin"):
        with pytest.raises(PluginSetupError, match="TC_DISABLED_PLUGINS"):
            host.register(CheckoutVeto(), plugin_id)
        assert not host.has_plugin(plugin_id)
    assert host.register(CheckoutVeto(), "third-plugin").id == "third-plugin"


VALID_PLUGIN_MODULE = """
from tenantcommerce import hookimpl


@hookimpl
async def tc_check_checkout(ctx, checkout, plugin):
    return None
"""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """``install(source, entry_point=None)`` puts a distribution ``tc-fake-plugin-<random>`` 1.2.3 on ``sys.path``
    whose module is ``source`` and whose entry point in group ``tenantcommerce`` is ``entry_point`` (default
    ``fake-<random>``); returns the entry point's name. The distribution is gone after the test."""
    modules: list[str] = []

    def install(source: str, entry_point: str | None = None) -> str:
        suffix = uuid4().hex[:8]
        module = f"tc_fake_plugin_{suffix}"
        entry_point = entry_point or f"fake-{suffix}"
        root = tmp_path / suffix
        root.mkdir()
        (root / f"{module}.py").write_text(textwrap.dedent(source))
        dist_info = root / f"tc_fake_plugin_{suffix}-1.2.3.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tc-fake-plugin-{suffix}\nVersion: 1.2.3\n")
        (dist_info / "entry_points.txt").write_text(f"[tenantcommerce]\n{entry_point} = {module}\n")
        monkeypatch.syspath_prepend(str(root))
        modules.append(module)
        return entry_point

    yield install
    for module in modules:
        sys.modules.pop(module, None)


@pytest.fixture
def installed_plugin(install: Callable[..., str]) -> str:
    """A valid installed plugin (see ``install``); its id."""
    return install(VALID_PLUGIN_MODULE)


def test_installed_plugins_are_discovered_by_entry_point_with_their_distribution(installed_plugin: str) -> None:
    host = PluginHost()

    info = host.info(installed_plugin)
    assert info.hooks == ("tc_check_checkout",)
    assert info.distribution == "tc-fake-plugin-" + installed_plugin.removeprefix("fake-")
    assert info.version == "1.2.3"


def test_disabled_blocks_an_installed_plugin(installed_plugin: str) -> None:
    host = PluginHost(disabled={installed_plugin})

    assert not host.has_plugin(installed_plugin)
    assert all(impl.plugin_name != installed_plugin for impl in host.implementations("tc_check_checkout"))
    assert installed_plugin not in host.plugin_ids()
    assert installed_plugin not in [info.id for info in host.infos()]


def test_a_disabled_plugin_is_not_listed_and_infos_still_works() -> None:
    # pluggy keeps a blocked name with no plugin object: listing must skip it, not fail on it (plugins list,
    # GET /api/platform/plugins and the admin plugin list call infos()).
    host = PluginHost(load_entry_points=False, disabled={"turned-off"}, plugins={"veto": CheckoutVeto()})

    assert host.plugin_ids() == ["veto"]
    assert [info.id for info in host.infos()] == ["veto"]


# --- register / unregister at run time --------------------------------------------------------------------------------


def test_a_failing_register_leaves_nothing_registered() -> None:
    host = host_of(first_post=carrier_plugin(Carrier("post")))

    with pytest.raises(PluginSetupError, match="both register"):
        host.register(carrier_plugin(Carrier("post"), Carrier("parcel")), "second-post")

    assert not host.has_plugin("second-post")
    assert host.plugin_ids() == ["first-post"]
    assert {key: value.plugin_id for key, value in host.registrations.shipping_carriers.items()} == {
        "post": "first-post"
    }
    # the id is free again
    assert host.register(carrier_plugin(Carrier("parcel")), "second-post").shipping_carriers == ("parcel",)


def test_a_register_refused_by_hook_validation_leaves_no_implementation() -> None:
    host = host_of(veto=CheckoutVeto())

    def plain(self: object, ctx: Any) -> None:
        return None

    with pytest.raises(PluginSetupError, match="async def"):
        host.register(plugin_with("tc_check_checkout", plain), "sync-veto")

    assert not host.has_plugin("sync-veto")
    assert [impl.plugin_name for impl in host.implementations("tc_check_checkout")] == ["veto"]


def test_register_returns_the_info_and_unregister_removes_hooks_and_providers() -> None:
    host = host_of()

    class Plugin:
        @hookimpl
        def tc_register_shipping_carriers(self, register: Callable[[Any], None]) -> None:
            register(Carrier("post"))

        @hookimpl
        async def tc_check_checkout(self, ctx: Any) -> None:
            return None

    info = host.register(Plugin(), "post-plugin")
    assert info.shipping_carriers == ("post",)
    assert host.implementations("tc_check_checkout")

    host.unregister("post-plugin")

    assert not host.has_plugin("post-plugin")
    assert host.registrations.shipping_carriers == {}
    assert host.implementations("tc_check_checkout") == []
    with pytest.raises(KeyError):
        host.info("post-plugin")


# --- info -------------------------------------------------------------------------------------------------------------


def test_info_reports_hooks_providers_routes_settings_and_migrations(tmp_path: Path) -> None:
    class Config(msgspec.Struct):
        api_key_name: str = "KEY"

    async def nightly(runtime: Any) -> None:
        return None

    class Plugin:
        @hookimpl
        def tc_register_shipping_carriers(self, register: Callable[[Any], None]) -> None:
            register(Carrier("post"))
            register(Carrier("courier"))

        @hookimpl
        def tc_register_routes(self, register: Callable[[Routes], None]) -> None:
            register(Routes("storefront", []))
            register(Routes("admin", []))
            register(Routes("admin", []))

        @hookimpl
        def tc_register_settings_schemas(self, register: Callable[[Any], None]) -> None:
            register(Config)

        @hookimpl
        def tc_register_migrations(self, register: Callable[[Path], None]) -> None:
            register(tmp_path)

        @hookimpl
        def tc_register_jobs(self, register: Callable[[PeriodicJob], None]) -> None:
            register(PeriodicJob("nightly", "0 3 * * *", nightly))

        @hookimpl
        async def tc_collect_store_warnings(self, ctx: Any, plugin: Any) -> list[Any]:
            return []

    host = host_of(full=Plugin(), veto=CheckoutVeto())

    assert host.info("full") == PluginInfo(
        id="full",
        distribution=None,
        version=None,
        hooks=(
            "tc_collect_store_warnings",
            "tc_register_jobs",
            "tc_register_migrations",
            "tc_register_routes",
            "tc_register_settings_schemas",
            "tc_register_shipping_carriers",
        ),
        shipping_carriers=("courier", "post"),
        route_scopes=("admin", "storefront"),
        has_settings=True,
        has_migrations=True,
    )
    assert host.info("veto") == PluginInfo(id="veto", distribution=None, version=None, hooks=("tc_check_checkout",))
    assert [info.id for info in host.infos()] == ["full", "veto"]
    assert host.migration_locations == [tmp_path]
    assert [job.value.name for job in host.registrations.jobs] == ["nightly"]


def test_info_of_an_unknown_plugin_raises_key_error() -> None:
    with pytest.raises(KeyError):
        host_of().info("nobody")


def test_an_installed_plugin_that_fails_to_import_fails_clearly(install: Callable[..., str]) -> None:
    install("raise ImportError('needs a library that is missing')\n")

    with pytest.raises(PluginSetupError) as raised:
        PluginHost()

    assert "cannot be loaded" in raised.value.detail
    assert "needs a library that is missing" in raised.value.detail
    assert "TC_DISABLED_PLUGINS" in raised.value.detail


def test_a_disabled_installed_plugin_is_never_imported(install: Callable[..., str]) -> None:
    broken = install("raise ImportError('must not be imported')\n")

    host = PluginHost(disabled={broken})

    assert not host.has_plugin(broken)


def test_an_installed_plugin_with_an_invalid_entry_point_name_is_refused(install: Callable[..., str]) -> None:
    install(VALID_PLUGIN_MODULE, entry_point="Bad_Name")

    with pytest.raises(PluginSetupError) as raised:
        PluginHost()

    assert "'Bad_Name'" in raised.value.detail
    assert "invalid" in raised.value.detail
