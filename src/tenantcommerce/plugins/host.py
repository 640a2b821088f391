"""The plugin host: discovers plugins (entry-point group ``tenantcommerce``), validates them, and collects what
their register hooks hand over. One host per app; there is no module-global plugin manager."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import msgspec
import pluggy
from pluggy import HookImpl

from tenantcommerce.errors import PluginSetupError
from tenantcommerce.plugins import specs
from tenantcommerce.plugins.providers import PaymentGateway, ShippingCarrier, TaxCalculator, Theme
from tenantcommerce.plugins.registrations import PeriodicJob, Routes

if TYPE_CHECKING:
    import click

    from tenantcommerce.auth.mailer import Mailer
    from tenantcommerce.settings import Settings

ENTRY_POINT_GROUP = "tenantcommerce"
PLUGIN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")

HookKind = Literal["register", "decide", "collect", "event"]

T = TypeVar("T")


def hook_kind(name: str) -> HookKind:
    """The kind of hook ``name`` by its name (``tc_register_*``, ``tc_collect_*``, ``tc_on_*``, else decide)."""
    if name.startswith("tc_register_"):
        return "register"
    if name.startswith("tc_collect_"):
        return "collect"
    if name.startswith("tc_on_"):
        return "event"
    return "decide"


HOOK_NAMES: tuple[str, ...] = tuple(sorted(name for name in vars(specs) if name.startswith("tc_")))
"""Every hook, by name."""


@dataclass(frozen=True)
class Registered(Generic[T]):
    """Something a plugin registered, with the plugin's id."""

    plugin_id: str
    value: T


class PluginInfo(msgspec.Struct, frozen=True, kw_only=True):
    """An installed plugin, as ``plugins list`` and the admin API show it."""

    id: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    payment_gateways: tuple[str, ...] = ()
    shipping_carriers: tuple[str, ...] = ()
    tax_calculators: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    route_scopes: tuple[str, ...] = ()
    has_settings: bool = False
    has_migrations: bool = False
    setup_problems: tuple[str, ...] = ()
    """What the deployment lacks for the plugin to work (``tc_register_setup_problems``); stores cannot enable a
    plugin with problems."""


_PROVIDER_KINDS: dict[str, tuple[str, type[Any], tuple[str, ...]]] = {
    # hook -> (label, protocol, async methods)
    "tc_register_payment_gateways": (
        "payment gateway",
        PaymentGateway,
        ("is_available", "create_payment", "confirm", "refund", "cancel", "parse_webhook", "handle_event"),
    ),
    "tc_register_shipping_carriers": ("shipping carrier", ShippingCarrier, ("quote", "buy_label")),
    "tc_register_tax_calculators": ("tax calculator", TaxCalculator, ("calculate",)),
    "tc_register_themes": ("theme", Theme, ()),
}


@dataclass
class Registrations:
    """Everything the register hooks handed over, by kind."""

    payment_gateways: dict[str, Registered[PaymentGateway]] = field(default_factory=dict)
    shipping_carriers: dict[str, Registered[ShippingCarrier]] = field(default_factory=dict)
    tax_calculators: dict[str, Registered[TaxCalculator]] = field(default_factory=dict)
    themes: dict[str, Registered[Theme]] = field(default_factory=dict)
    routes: list[Registered[Routes]] = field(default_factory=list)
    cli_commands: dict[str, Registered[click.Command]] = field(default_factory=dict)
    migration_locations: list[Registered[Path]] = field(default_factory=list)
    settings_schemas: dict[str, type[msgspec.Struct]] = field(default_factory=dict)
    mailers: list[Registered[Mailer]] = field(default_factory=list)
    jobs: list[Registered[PeriodicJob]] = field(default_factory=list)
    setup_problems: dict[str, list[str]] = field(default_factory=dict)

    def providers(self, hook: str) -> dict[str, Registered[Any]]:
        """The provider table a register hook fills."""
        tables: dict[str, dict[str, Registered[Any]]] = {
            "tc_register_payment_gateways": self.payment_gateways,
            "tc_register_shipping_carriers": self.shipping_carriers,
            "tc_register_tax_calculators": self.tax_calculators,
            "tc_register_themes": self.themes,
        }
        return tables[hook]


class PluginHost:
    """Discovers, validates and registers plugins; the typed facade and the dispatcher sit on top of it.

    Args:
        disabled: plugin ids never loaded (``TC_DISABLED_PLUGINS``).
        plugins: plugin objects of the host project, by id (registered after the installed ones).
        load_entry_points: discover installed plugins (entry-point group ``tenantcommerce``).
    """

    def __init__(
        self,
        *,
        disabled: Iterable[str] = (),
        plugins: Mapping[str, object] | None = None,
        load_entry_points: bool = True,
    ) -> None:
        self.manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.manager.add_hookspecs(specs)
        self.disabled = frozenset(disabled)
        for plugin_id in self.disabled:
            self.manager.set_blocked(plugin_id)
        if load_entry_points:
            try:
                self.manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
            except pluggy.PluginValidationError as exc:
                raise PluginSetupError(f"an installed plugin does not match the hook specs: {exc}") from exc
            except Exception as exc:
                raise PluginSetupError(
                    f"an installed plugin cannot be loaded: {exc!r} (fix it, uninstall it, or name it in "
                    "TC_DISABLED_PLUGINS)"
                ) from exc
        for plugin_id, plugin in (plugins or {}).items():
            self._register(plugin, plugin_id)
        self._validate_all()
        self.registrations = self._collect()

    @classmethod
    def from_settings(cls, settings: Settings, plugins: Mapping[str, object] | None = None) -> PluginHost:
        """The host of an app with ``settings`` (honours ``TC_DISABLED_PLUGINS``)."""
        return cls(disabled=settings.disabled_plugin_ids, plugins=plugins)

    # --- registering ------------------------------------------------------------------------------------------------

    def _register(self, plugin: object, plugin_id: str) -> None:
        if not PLUGIN_ID.match(plugin_id):
            raise PluginSetupError(
                f"plugin id {plugin_id!r} is invalid: use lowercase letters, digits and dashes (at most 50)"
            )
        if plugin_id in self.disabled:
            raise PluginSetupError(f"plugin {plugin_id!r} is disabled by TC_DISABLED_PLUGINS")
        if self.manager.has_plugin(plugin_id):
            raise PluginSetupError(f"a plugin with id {plugin_id!r} is already registered")
        try:
            self.manager.register(plugin, plugin_id)
        except ValueError as exc:
            raise PluginSetupError(f"plugin {plugin_id!r} cannot be registered: {exc}") from exc
        except pluggy.PluginValidationError as exc:
            raise PluginSetupError(f"plugin {plugin_id!r} does not match the hook specs: {exc}") from exc

    def register(self, plugin: object, plugin_id: str) -> PluginInfo:
        """Register one more plugin at run time (tests, host projects); validated like discovered ones.

        Raises:
            PluginSetupError: the id is taken or invalid, or the plugin breaks a rule; nothing stays registered.
        """
        self._register(plugin, plugin_id)
        try:
            self._validate_all()
            self.registrations = self._collect()
        except BaseException:
            self.manager.unregister(name=plugin_id)
            self.registrations = self._collect()
            raise
        return self.info(plugin_id)

    def unregister(self, plugin_id: str) -> None:
        """Remove a plugin registered with :meth:`register`."""
        self.manager.unregister(name=plugin_id)
        self.registrations = self._collect()

    # --- validation -------------------------------------------------------------------------------------------------

    def _validate_all(self) -> None:
        for name, plugin in self.manager.list_name_plugin():
            if plugin is not None and not PLUGIN_ID.match(name):
                raise PluginSetupError(
                    f"plugin id {name!r} (its entry-point name) is invalid: use lowercase letters, digits and dashes"
                )
        for name, caller in vars(self.manager.hook).items():
            if not isinstance(caller, pluggy.HookCaller):
                continue
            impls = caller.get_hookimpls()
            if not caller.has_spec():
                for impl in impls:
                    raise PluginSetupError(
                        f"plugin {impl.plugin_name!r} implements {name!r}, which is not a tenantcommerce hook "
                        f"(misspelt? the hooks are listed in docs/hooks.md)"
                    )
                continue
            wants_async = hook_kind(name) != "register"
            for impl in impls:
                is_async = inspect.iscoroutinefunction(impl.function)
                if wants_async and not is_async:
                    raise PluginSetupError(
                        f"plugin {impl.plugin_name!r} implements {name!r} with a plain function: it must be `async def`"
                    )
                if not wants_async and is_async:
                    raise PluginSetupError(
                        f"plugin {impl.plugin_name!r} implements {name!r} with `async def`: register hooks run "
                        "once at start-up and must be plain functions"
                    )
        self.manager.check_pending()

    # --- register hooks ---------------------------------------------------------------------------------------------

    def _call_register_hook(self, hook: str, on_register: Callable[[str, Any], None]) -> None:
        for impl in self.implementations(hook):
            plugin_id = impl.plugin_name

            def register(value: Any, plugin_id: str = plugin_id) -> None:
                on_register(plugin_id, value)

            impl.function(register=register)

    def _collect(self) -> Registrations:
        found = Registrations()
        for hook, (label, protocol, methods) in _PROVIDER_KINDS.items():
            table = found.providers(hook)

            def add(
                plugin_id: str,
                provider: Any,
                *,
                table: dict[str, Registered[Any]] = table,
                label: str = label,
                protocol: type[Any] = protocol,
                methods: tuple[str, ...] = methods,
            ) -> None:
                _check_provider(plugin_id, provider, label, protocol, methods)
                if provider.id in table:
                    other = table[provider.id].plugin_id
                    raise PluginSetupError(
                        f"plugins {other!r} and {plugin_id!r} both register a {label} with id {provider.id!r}"
                    )
                table[provider.id] = Registered(plugin_id, provider)

            self._call_register_hook(hook, add)

        def add_routes(plugin_id: str, routes: Any) -> None:
            if not isinstance(routes, Routes):
                raise PluginSetupError(f"plugin {plugin_id!r}: tc_register_routes takes Routes(scope, handlers)")
            found.routes.append(Registered(plugin_id, routes))

        def add_command(plugin_id: str, command: Any) -> None:
            name = getattr(command, "name", None)
            if not name or not callable(getattr(command, "main", None)):
                raise PluginSetupError(f"plugin {plugin_id!r}: tc_register_cli_commands takes click commands")
            if name in found.cli_commands:
                raise PluginSetupError(
                    f"plugins {found.cli_commands[name].plugin_id!r} and {plugin_id!r} both add the command {name!r}"
                )
            found.cli_commands[name] = Registered(plugin_id, command)

        def add_migrations(plugin_id: str, location: Any) -> None:
            path = Path(location)
            if not path.is_dir():
                raise PluginSetupError(f"plugin {plugin_id!r} registers migrations at {path}, which is no directory")
            found.migration_locations.append(Registered(plugin_id, path))

        def add_schema(plugin_id: str, schema: Any) -> None:
            if not (isinstance(schema, type) and issubclass(schema, msgspec.Struct)):
                raise PluginSetupError(f"plugin {plugin_id!r}: tc_register_settings_schemas takes a msgspec Struct")
            if plugin_id in found.settings_schemas:
                raise PluginSetupError(f"plugin {plugin_id!r} registers more than one settings schema")
            found.settings_schemas[plugin_id] = schema

        def add_mailer(plugin_id: str, mailer: Any) -> None:
            if found.mailers:
                raise PluginSetupError(
                    f"plugins {found.mailers[0].plugin_id!r} and {plugin_id!r} both register a mailer: disable one "
                    "with TC_DISABLED_PLUGINS"
                )
            found.mailers.append(Registered(plugin_id, mailer))

        def add_job(plugin_id: str, job: Any) -> None:
            if not isinstance(job, PeriodicJob):
                raise PluginSetupError(f"plugin {plugin_id!r}: tc_register_jobs takes PeriodicJob(name, cron, run)")
            if any(known.plugin_id == plugin_id and known.value.name == job.name for known in found.jobs):
                raise PluginSetupError(f"plugin {plugin_id!r} registers two jobs named {job.name!r}")
            found.jobs.append(Registered(plugin_id, job))

        self._call_register_hook("tc_register_routes", add_routes)
        self._call_register_hook("tc_register_cli_commands", add_command)
        self._call_register_hook("tc_register_migrations", add_migrations)
        self._call_register_hook("tc_register_settings_schemas", add_schema)
        self._call_register_hook("tc_register_mailers", add_mailer)

        def add_problem(plugin_id: str, problem: Any) -> None:
            if not isinstance(problem, str) or not problem.strip():
                raise PluginSetupError(f"plugin {plugin_id!r}: tc_register_setup_problems takes a sentence")
            found.setup_problems.setdefault(plugin_id, []).append(problem.strip())

        self._call_register_hook("tc_register_jobs", add_job)
        self._call_register_hook("tc_register_setup_problems", add_problem)
        return found

    # --- introspection ----------------------------------------------------------------------------------------------

    def implementations(self, hook: str) -> list[HookImpl]:
        """Implementations of ``hook`` in pluggy's call order (``tryfirst`` first, then last registered first)."""
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook)
        return list(reversed(caller.get_hookimpls()))

    def plugin_ids(self) -> list[str]:
        """Ids of every registered plugin, sorted."""
        # A plugin blocked by TC_DISABLED_PLUGINS stays listed with ``None`` in its place.
        return sorted(
            name for name, plugin in self.manager.list_name_plugin() if name is not None and plugin is not None
        )

    def has_plugin(self, plugin_id: str) -> bool:
        """Whether ``plugin_id`` is registered."""
        return self.manager.has_plugin(plugin_id)

    def info(self, plugin_id: str) -> PluginInfo:
        """What ``plugin_id`` is and provides.

        Raises:
            KeyError: no such plugin.
        """
        plugin = self.manager.get_plugin(plugin_id)
        if plugin is None:
            raise KeyError(plugin_id)
        distribution = version = None
        for known, dist in self.manager.list_plugin_distinfo():
            if known is plugin:
                distribution, version = dist.project_name, dist.version
        hooks = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or ()))
        found = self.registrations

        def ids(table: Mapping[str, Registered[Any]]) -> tuple[str, ...]:
            return tuple(sorted(key for key, value in table.items() if value.plugin_id == plugin_id))

        return PluginInfo(
            id=plugin_id,
            distribution=distribution,
            version=version,
            hooks=hooks,
            payment_gateways=ids(found.payment_gateways),
            shipping_carriers=ids(found.shipping_carriers),
            tax_calculators=ids(found.tax_calculators),
            themes=ids(found.themes),
            route_scopes=tuple(sorted({r.value.scope for r in found.routes if r.plugin_id == plugin_id})),
            has_settings=plugin_id in found.settings_schemas,
            has_migrations=any(r.plugin_id == plugin_id for r in found.migration_locations),
            setup_problems=tuple(found.setup_problems.get(plugin_id, ())),
        )

    def infos(self) -> list[PluginInfo]:
        """:meth:`info` of every plugin, by id."""
        return [self.info(plugin_id) for plugin_id in self.plugin_ids()]

    @property
    def migration_locations(self) -> list[Path]:
        """Every plugin's Alembic ``versions`` directory."""
        return [registered.value for registered in self.registrations.migration_locations]


def _check_provider(plugin_id: str, provider: Any, label: str, protocol: type[Any], methods: tuple[str, ...]) -> None:
    provider_id = getattr(provider, "id", None)
    if not isinstance(provider_id, str) or not PLUGIN_ID.match(provider_id):
        raise PluginSetupError(
            f"plugin {plugin_id!r} registers a {label} whose `id` is {provider_id!r}: use lowercase letters, digits "
            "and dashes"
        )
    if not isinstance(provider, protocol):
        missing = [name for name in ("name", *methods) if not hasattr(provider, name)]
        raise PluginSetupError(f"plugin {plugin_id!r}: {label} {provider_id!r} lacks {', '.join(missing) or 'members'}")
    for method in methods:
        if not inspect.iscoroutinefunction(getattr(provider, method)):
            raise PluginSetupError(f"plugin {plugin_id!r}: {label} {provider_id!r}.{method} must be `async def`")
