"""The async dispatcher on a real database: which of a store's plugins are called, in what order, with what.

Order is the store's ``store_plugins.priority`` (highest first), ties in pluggy's call order (``tryfirst`` first,
then the last registered first). Plugins are inline test plugins recording each call in a shared list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from uuid_utils.compat import uuid7

from tenantcommerce import hookimpl
from tenantcommerce.db.database import Database
from tenantcommerce.errors import BusinessRuleError, FieldError, PluginError, PluginTimeout
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.facade import Plugins, StorePlugins
from tenantcommerce.plugins.types import CheckoutLine, CheckoutRejection, CheckoutSummary, StoreWarning
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.testing import TwoStores
from tenantcommerce.testing.plugins import enable_plugin, store_context

PluginsFactory = Callable[..., Plugins]


def checkout_in(currency: str) -> CheckoutSummary:
    return CheckoutSummary(
        checkout_id=UUID(str(uuid7())),
        currency=currency,
        lines=[CheckoutLine(sku="sku-1", quantity=2, unit_price_minor=1000)],
        subtotal_minor=2000,
        total_minor=2000,
    )


def veto(calls: list[str], answer: str | None = None, *, tryfirst: bool = False, trylast: bool = False) -> object:
    """A plugin whose ``tc_check_checkout`` records its id and store, then rejects with ``answer`` (or passes)."""

    class Plugin:
        @hookimpl(tryfirst=tryfirst, trylast=trylast)
        async def tc_check_checkout(
            self, ctx: StoreContext, checkout: CheckoutSummary, plugin: PluginContext
        ) -> CheckoutRejection | None:
            assert plugin.store_id == ctx.id
            calls.append(plugin.plugin_id)
            return None if answer is None else CheckoutRejection(message=answer)

    return Plugin()


def warner(calls: list[str], *messages: str) -> object:
    class Plugin:
        @hookimpl
        async def tc_collect_store_warnings(self, ctx: StoreContext, plugin: PluginContext) -> list[StoreWarning]:
            calls.append(plugin.plugin_id)
            return [StoreWarning(message=message) for message in messages]

    return Plugin()


async def facade(plugins: Plugins, database: Database, store_id: UUID) -> StorePlugins:
    return await plugins.for_store(await store_context(database, store_id))


async def enable_all(database: Database, store_id: UUID, priorities: dict[str, int]) -> None:
    for plugin_id, priority in priorities.items():
        await enable_plugin(database, store_id, plugin_id, priority=priority)


# --- decide and collect -----------------------------------------------------------------------------------------------


async def test_decide_returns_the_first_non_none_result_and_stops_there(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    plugins = plugins_with(passes=veto(calls), rejects=veto(calls, "too small"), also_rejects=veto(calls, "never"))
    await enable_all(db, stores.a.id, {"passes": 30, "rejects": 20, "also-rejects": 10})

    store = await facade(plugins, db, stores.a.id)
    rejection = await store.check_checkout(checkout_in("EUR"))

    assert rejection == CheckoutRejection(message="too small")
    assert calls == ["passes", "rejects"]


async def test_decide_is_none_when_every_plugin_passes_and_calls_each(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    plugins = plugins_with(one=veto(calls), two=veto(calls))
    await enable_all(db, stores.a.id, {"one": 1, "two": 2})

    store = await facade(plugins, db, stores.a.id)

    assert await store.check_checkout(checkout_in("EUR")) is None
    assert calls == ["two", "one"]


async def test_collect_returns_every_result_in_priority_order(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    plugins = plugins_with(low=warner(calls, "low"), high=warner(calls, "high 1", "high 2"), quiet=warner(calls))
    await enable_all(db, stores.a.id, {"low": -5, "high": 7, "quiet": 0})

    store = await facade(plugins, db, stores.a.id)
    warnings = await store.collect_store_warnings()

    assert calls == ["high", "quiet", "low"]
    assert [(warning.plugin_id, warning.message) for warning in warnings] == [
        ("high", "high 1"),
        ("high", "high 2"),
        ("low", "low"),
    ]
    raw = await plugins.dispatcher.collect("tc_collect_store_warnings", store.store, store.plugin_set)
    assert [warning.message for warning in raw] == ["high 1", "high 2", "low"]


async def test_decide_and_collect_refuse_a_hook_of_another_kind(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    plugins = plugins_with()
    store = await facade(plugins, db, stores.a.id)

    with pytest.raises(ValueError, match="collect hook"):
        await plugins.dispatcher.decide("tc_collect_store_warnings", store.store, store.plugin_set)
    with pytest.raises(ValueError, match="decide hook"):
        await plugins.dispatcher.collect("tc_check_checkout", store.store, store.plugin_set)


# --- order ------------------------------------------------------------------------------------------------------------


async def test_equal_priorities_keep_pluggys_order_last_registered_first(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    plugins = plugins_with(first=veto(calls), second=veto(calls), third=veto(calls))
    await enable_all(db, stores.a.id, {"first": 0, "second": 0, "third": 0})

    store = await facade(plugins, db, stores.a.id)
    await store.check_checkout(checkout_in("EUR"))

    assert calls == ["third", "second", "first"]


async def test_tryfirst_and_trylast_order_equal_priorities(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    plugins = plugins_with(
        eager=veto(calls, tryfirst=True), lazy=veto(calls, trylast=True), plain=veto(calls), later=veto(calls)
    )
    await enable_all(db, stores.a.id, {"eager": 3, "lazy": 3, "plain": 3, "later": 3})

    store = await facade(plugins, db, stores.a.id)
    await store.check_checkout(checkout_in("EUR"))

    assert calls == ["eager", "later", "plain", "lazy"]


async def test_priority_outranks_tryfirst(plugins_with: PluginsFactory, db: Database, stores: TwoStores) -> None:
    calls: list[str] = []
    plugins = plugins_with(eager=veto(calls, tryfirst=True), important=veto(calls, trylast=True))
    await enable_all(db, stores.a.id, {"eager": 0, "important": 1})

    store = await facade(plugins, db, stores.a.id)
    await store.check_checkout(checkout_in("EUR"))

    assert calls == ["important", "eager"]


async def test_plugins_not_enabled_for_the_store_are_never_called(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    plugins = plugins_with(
        enabled=veto(calls), switched_off=veto(calls, "no"), no_row=veto(calls, "no"), elsewhere=veto(calls, "no")
    )
    await enable_plugin(db, stores.a.id, "enabled")
    await enable_plugin(db, stores.a.id, "switched-off", priority=100, enabled=False)
    await enable_plugin(db, stores.b.id, "elsewhere")
    checkout = checkout_in("EUR")

    store = await facade(plugins, db, stores.a.id)

    assert await store.check_checkout(checkout) is None
    assert await store.collect_store_warnings() == []
    assert calls == ["enabled"]
    assert [enabled.plugin_id for enabled in store.plugin_set] == ["enabled"]


async def test_each_store_has_its_own_enablement_and_priorities(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []
    seen_stores: list[UUID] = []

    class StoreRecorder:
        @hookimpl
        async def tc_collect_store_warnings(self, ctx: StoreContext, plugin: PluginContext) -> None:
            seen_stores.append(ctx.id)

    plugins = plugins_with(x=veto(calls), y=veto(calls), only_b=veto(calls), recorder=StoreRecorder())
    await enable_all(db, stores.a.id, {"x": 10, "y": 0, "recorder": 0})
    await enable_all(db, stores.b.id, {"x": 0, "y": 10, "only-b": 5, "recorder": 0})

    store_a = await facade(plugins, db, stores.a.id)
    await store_a.check_checkout(checkout_in("EUR"))
    await store_a.collect_store_warnings()
    calls_a, calls[:] = list(calls), []
    store_b = await facade(plugins, db, stores.b.id)
    await store_b.check_checkout(checkout_in("USD"))
    await store_b.collect_store_warnings()

    assert calls_a == ["x", "y"]
    assert calls == ["y", "only-b", "x"]
    assert seen_stores == [stores.a.id, stores.b.id]


# --- arguments --------------------------------------------------------------------------------------------------------


async def test_implementations_may_leave_out_arguments(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    received: dict[str, Any] = {}

    class CtxOnly:
        @hookimpl
        async def tc_check_checkout(self, ctx: StoreContext) -> None:
            received["ctx-only"] = ctx

    class PluginOnly:
        @hookimpl
        async def tc_check_checkout(self, plugin: PluginContext) -> None:
            received["plugin-only"] = plugin

    class CheckoutOnly:
        @hookimpl
        async def tc_check_checkout(self, checkout: CheckoutSummary) -> None:
            received["checkout-only"] = checkout

    class Nothing:
        @hookimpl
        async def tc_check_checkout(self) -> None:
            received["nothing"] = True

    plugins = plugins_with(
        ctx_only=CtxOnly(), plugin_only=PluginOnly(), checkout_only=CheckoutOnly(), nothing=Nothing()
    )
    await enable_all(db, stores.a.id, {"ctx-only": 0, "plugin-only": 0, "checkout-only": 0, "nothing": 0})
    checkout = checkout_in("EUR")

    store = await facade(plugins, db, stores.a.id)
    assert await store.check_checkout(checkout) is None

    assert received["ctx-only"] == store.store
    assert received["plugin-only"].plugin_id == "plugin-only"
    assert received["plugin-only"].store_id == stores.a.id
    assert received["checkout-only"] is checkout
    assert received["nothing"] is True


# --- failures ---------------------------------------------------------------------------------------------------------


async def test_a_hook_that_takes_too_long_raises_plugin_timeout_naming_the_plugin(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    calls: list[str] = []

    class Sleepy:
        @hookimpl
        async def tc_check_checkout(self, ctx: StoreContext) -> None:
            await asyncio.sleep(30)

    plugins = plugins_with(timeout=0.05, sleepy=Sleepy(), after=veto(calls))
    await enable_all(db, stores.a.id, {"sleepy": 1, "after": 0})
    store = await facade(plugins, db, stores.a.id)

    with pytest.raises(PluginTimeout) as raised:
        await asyncio.wait_for(store.check_checkout(checkout_in("EUR")), timeout=5)

    assert raised.value.status_code == 504
    assert raised.value.plugin_id == "sleepy"
    assert "'sleepy'" in raised.value.detail
    assert "tc_check_checkout" in raised.value.detail
    assert calls == []


async def test_a_hook_that_raises_raises_plugin_error_naming_the_plugin(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    class Broken:
        @hookimpl
        async def tc_collect_store_warnings(self, ctx: StoreContext) -> None:
            raise ZeroDivisionError("oops")

    plugins = plugins_with(broken=Broken())
    await enable_plugin(db, stores.a.id, "broken")
    store = await facade(plugins, db, stores.a.id)

    with pytest.raises(PluginError) as raised:
        await store.collect_store_warnings()

    assert type(raised.value) is PluginError
    assert raised.value.status_code == 502
    assert raised.value.plugin_id == "broken"
    assert "'broken'" in raised.value.detail
    assert "ZeroDivisionError" in raised.value.detail
    assert isinstance(raised.value.__cause__, ZeroDivisionError)


async def test_a_tenantcommerce_error_raised_on_purpose_passes_through_unchanged(
    plugins_with: PluginsFactory, db: Database, stores: TwoStores
) -> None:
    refusal = BusinessRuleError("no deliveries to the moon", errors=[FieldError("destination", "unserved")])

    class Strict:
        @hookimpl
        async def tc_check_checkout(self, ctx: StoreContext) -> None:
            raise refusal

    plugins = plugins_with(strict=Strict())
    await enable_plugin(db, stores.a.id, "strict")
    store = await facade(plugins, db, stores.a.id)

    with pytest.raises(BusinessRuleError) as raised:
        await store.check_checkout(checkout_in("EUR"))

    assert raised.value is refusal
