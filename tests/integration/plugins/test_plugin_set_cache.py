"""The per-store plugin set: read once per ``(store_id, plugins_version)``, and read again after any change of the
store's ``store_plugins`` rows (a trigger bumps ``stores.plugins_version``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
import pytest

from tenantcommerce import hookimpl
from tenantcommerce.db.database import Database
from tenantcommerce.errors import BusinessRuleError
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.enablement import decode_config
from tenantcommerce.plugins.facade import Plugins
from tenantcommerce.plugins.host import PluginHost
from tenantcommerce.plugins.types import StoreWarning
from tenantcommerce.testing import TwoStores
from tenantcommerce.testing.plugins import enable_plugin, store_context

PluginsFactory = Callable[..., Plugins]


class Rates(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    flat_minor: int
    label: str = "Standard"


class Recorder:
    """Records each call as ``(plugin_id, config)``; registers ``Rates`` as its settings when ``with_settings``."""

    def __init__(self, *, with_settings: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.with_settings = with_settings

    @hookimpl
    def tc_register_settings_schemas(self, register: Callable[[type[msgspec.Struct]], None]) -> None:
        if self.with_settings:
            register(Rates)

    @hookimpl
    async def tc_collect_store_warnings(self, plugin: PluginContext) -> list[StoreWarning]:
        self.calls.append((plugin.plugin_id, plugin.config))
        return []


async def plugins_version(database: Database, store_id: UUID) -> int:
    return (await store_context(database, store_id)).plugins_version


async def run_statement(database: Database, store_id: UUID, sql: str, *args: object) -> None:
    async with database.store_transaction(store_id, readonly=False) as conn:
        await conn.execute(sql, *args)


async def test_repeated_lookups_at_one_version_read_the_database_once(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    plugins = plugins_with(recorder=Recorder())
    await enable_plugin(db, stores.a.id, "recorder")
    store = await store_context(db, stores.a.id)

    first = await plugins.sets.for_store(store)
    for _ in range(5):
        assert await plugins.sets.for_store(await store_context(db, stores.a.id)) is first
    await (await plugins.for_store(store)).collect_store_warnings()

    assert plugins.sets.loads == 1
    assert [enabled.plugin_id for enabled in first] == ["recorder"]


async def test_each_store_is_cached_apart(plugins_with: PluginsFactory, db: Database, stores: TwoStores) -> None:
    plugins = plugins_with(recorder=Recorder())
    await enable_plugin(db, stores.a.id, "recorder")

    set_a = await plugins.sets.for_store(await store_context(db, stores.a.id))
    set_b = await plugins.sets.for_store(await store_context(db, stores.b.id))
    await plugins.sets.for_store(await store_context(db, stores.a.id))
    await plugins.sets.for_store(await store_context(db, stores.b.id))

    assert plugins.sets.loads == 2
    assert set_a.is_enabled("recorder")
    assert not set_b.is_enabled("recorder")


async def test_every_change_of_a_stores_plugin_rows_bumps_its_version_and_only_its_own(
    db: Database, stores: TwoStores
) -> None:
    a, b = stores.a.id, stores.b.id
    changes: list[tuple[str, Callable[[], Any]]] = [
        ("insert", lambda: enable_plugin(db, a, "recorder")),
        (
            "priority",
            lambda: run_statement(db, a, "UPDATE store_plugins SET priority = 5 WHERE plugin_id = 'recorder'"),
        ),
        ("config", lambda: run_statement(db, a, "UPDATE store_plugins SET config = '{\"x\": 1}' WHERE true")),
        ("disable", lambda: run_statement(db, a, "UPDATE store_plugins SET enabled = false WHERE true")),
        ("delete", lambda: run_statement(db, a, "DELETE FROM store_plugins WHERE plugin_id = 'recorder'")),
    ]
    version_b = await plugins_version(db, b)

    for change, apply in changes:
        before = await plugins_version(db, a)
        await apply()
        assert await plugins_version(db, a) > before, f"{change} did not bump stores.plugins_version"

    assert await plugins_version(db, b) == version_b


async def test_a_change_makes_the_next_lookup_read_the_new_set(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    first, second = Recorder(), Recorder()
    plugins = plugins_with(first=first, second=second)
    await enable_plugin(db, stores.a.id, "first")
    old = await store_context(db, stores.a.id)
    await (await plugins.for_store(old)).collect_store_warnings()

    await enable_plugin(db, stores.a.id, "second", priority=3)
    await run_statement(db, stores.a.id, "UPDATE store_plugins SET enabled = false WHERE plugin_id = 'first'")
    new = await store_context(db, stores.a.id)
    await (await plugins.for_store(new)).collect_store_warnings()

    assert new.plugins_version > old.plugins_version
    assert plugins.sets.loads == 2
    assert first.calls == [("first", None)]
    assert second.calls == [("second", None)]


async def test_the_saved_config_arrives_decoded_as_the_plugins_struct(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    recorder = Recorder(with_settings=True)
    plugins = plugins_with(rated=recorder)
    await enable_plugin(db, stores.a.id, "rated", config={"flat_minor": "450"})

    await (await plugins.for_store(await store_context(db, stores.a.id))).collect_store_warnings()

    assert recorder.calls == [("rated", Rates(flat_minor=450))]


@pytest.mark.parametrize(
    ("with_settings", "config"),
    [
        (True, {"flat_minor": "lots"}),
        (True, {}),
        (True, {"flat_minor": 1, "surprise": True}),
        (False, {"anything": 1}),
    ],
    ids=["wrong-type", "missing-field", "unknown-field", "config-without-settings"],
)
async def test_a_saved_config_that_no_longer_validates_leaves_the_plugin_out(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores, with_settings: bool, config: dict[str, Any]
) -> None:
    broken, healthy = Recorder(with_settings=with_settings), Recorder()
    plugins = plugins_with(broken=broken, healthy=healthy)
    await enable_plugin(db, stores.a.id, "broken", config=config, priority=10)
    await enable_plugin(db, stores.a.id, "healthy")

    store = await plugins.for_store(await store_context(db, stores.a.id))
    warnings = await store.collect_store_warnings()

    assert warnings == []
    assert broken.calls == []
    assert healthy.calls == [("healthy", None)]
    assert [enabled.plugin_id for enabled in store.plugin_set] == ["healthy"]


async def test_a_row_of_a_plugin_that_is_not_installed_is_ignored(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    healthy = Recorder()
    plugins = plugins_with(healthy=healthy)
    await enable_plugin(db, stores.a.id, "uninstalled-plugin", priority=50)
    await enable_plugin(db, stores.a.id, "healthy")

    store = await plugins.for_store(await store_context(db, stores.a.id))
    await store.collect_store_warnings()

    assert [enabled.plugin_id for enabled in store.plugin_set] == ["healthy"]
    assert healthy.calls == [("healthy", None)]


def test_decode_config_names_each_failing_field() -> None:
    host = PluginHost(load_entry_points=False, plugins={"rated": Recorder(with_settings=True), "plain": Recorder()})

    with pytest.raises(BusinessRuleError) as wrong_type:
        decode_config(host, "rated", {"flat_minor": "lots"})
    with pytest.raises(BusinessRuleError) as not_configurable:
        decode_config(host, "plain", {"x": 1})

    assert wrong_type.value.status_code == 422
    assert [error.field for error in wrong_type.value.errors] == ["config.flat_minor"]
    assert [error.field for error in not_configurable.value.errors] == ["config"]
    assert decode_config(host, "rated", {"flat_minor": 3, "label": "Fast"}) == Rates(flat_minor=3, label="Fast")
    assert decode_config(host, "plain", {}) is None
