"""``/api/admin/{slug}/plugins``: the installed plugins and how a store uses each (enabled, priority, config, state),
changed by members with ``plugins:manage``, audited, announced to plugins through the outbox, and one store's setup
invisible to another."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest

from tenantcommerce.app import runtime_of
from tenantcommerce.testing.plugins import plugin_context, run_pending_jobs

GREETER = "e2e-greeter"
WATCHER = "e2e-watcher"


def plugins_url(shop: Any, plugin_id: str | None = None) -> str:
    return f"{shop.admin}/plugins" + (f"/{plugin_id}" if plugin_id else "")


def fields_of(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


async def enabled_ids(runtime: Any, slug: str) -> list[str]:
    """Ids of the plugins enabled for store ``slug``, as the facade sees them."""
    store = await runtime.resolver.by_slug(slug)
    return [enabled.plugin_id for enabled in (await runtime.plugins.for_store(store)).plugin_set]


async def plugin_audit(owner: Any, shop: Any, plugin_id: str) -> list[dict[str, Any]]:
    """The shop's ``plugin.updated`` audit entries of ``plugin_id``, oldest first (through the audit log API)."""
    response = await owner.get(f"{shop.admin}/audit", params={"limit": 100})
    assert response.status_code == 200, response.text
    entries = [
        entry
        for entry in response.json()["items"]
        if entry["action"] == "plugin.updated" and entry["target_id"] == plugin_id
    ]
    assert all(entry["target_type"] == "plugin" for entry in entries)
    return list(reversed(entries))


async def test_the_list_shows_every_installed_plugin_and_how_this_store_uses_it(
    app, greeter, watcher, open_shop
) -> None:
    shop = await open_shop("list-shop")
    installed = runtime_of(app).plugin_host.plugin_ids()

    response = await shop.owner.get(plugins_url(shop), params={"limit": 100})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "limit", "offset", "total"}
    assert (body["limit"], body["offset"], body["total"]) == (100, 0, len(installed))
    assert [item["plugin"]["id"] for item in body["items"]] == installed
    items = {item["plugin"]["id"]: item for item in body["items"]}
    greeting = items[GREETER]
    assert greeting["plugin"] == {
        "id": GREETER,
        "distribution": None,
        "version": None,
        "hooks": [
            "tc_check_checkout",
            "tc_collect_store_warnings",
            "tc_on_plugin_disabled",
            "tc_on_plugin_enabled",
            "tc_register_routes",
            "tc_register_settings_schemas",
            "tc_register_shipping_carriers",
        ],
        "payment_gateways": [],
        "shipping_carriers": ["e2e-post"],
        "tax_calculators": [],
        "themes": [],
        "route_scopes": ["platform", "storefront"],
        "has_settings": True,
        "has_migrations": False,
        "setup_problems": [],
    }
    assert {key: greeting[key] for key in ("enabled", "priority", "config", "state", "warnings")} == {
        "enabled": False,
        "priority": 0,
        "config": {},
        "state": {},
        "warnings": [],
    }
    schema = greeting["settings_schema"]
    definition = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    assert definition["required"] == ["greeting"]
    assert set(definition["properties"]) == {"greeting", "max_quantity"}
    assert items[WATCHER]["settings_schema"] is None
    for item in body["items"]:
        info = item["plugin"]
        if info["distribution"] is not None:  # installed from a package: its version is the package's
            assert info["version"] == importlib.metadata.version(info["distribution"]), info

    page = await shop.owner.get(plugins_url(shop), params={"limit": 1, "offset": 1})
    assert page.status_code == 200, page.text
    assert [item["plugin"]["id"] for item in page.json()["items"]] == installed[1:2]
    assert page.json()["total"] == len(installed)


async def test_one_plugin_reads_as_in_the_list_and_an_unknown_one_is_404(
    greeter, open_shop, plugin_rows, problem
) -> None:
    shop = await open_shop("read-shop")
    listed = (await shop.owner.get(plugins_url(shop), params={"limit": 100})).json()["items"]

    one = await shop.owner.get(plugins_url(shop, GREETER))

    assert one.status_code == 200, one.text
    assert one.json() == next(item for item in listed if item["plugin"]["id"] == GREETER)
    before = await plugin_rows(shop.id)
    problem(await shop.owner.get(plugins_url(shop, "no-such-plugin")), 404, "not-found")
    problem(await shop.owner.patch(plugins_url(shop, "no-such-plugin"), json={"enabled": True}), 404, "not-found")
    assert await plugin_rows(shop.id) == before


async def test_enabling_reordering_configuring_and_disabling_are_visible_audited_and_announced(
    client, greeter, watcher, open_shop, plugin_rows
) -> None:
    shop = await open_shop("flow-shop")
    owner = shop.owner
    assert (await owner.patch(plugins_url(shop, WATCHER), json={"enabled": True})).status_code == 200
    await run_pending_jobs(client)
    assert watcher.events == [("plugin.enabled", shop.id, WATCHER)]

    enabled = await owner.patch(plugins_url(shop, GREETER), json={"enabled": True, "config": {"greeting": "hello"}})
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["enabled"], enabled.json()["config"]) == (True, {"greeting": "hello"})
    read = (await owner.get(plugins_url(shop, GREETER))).json()
    assert (read["enabled"], read["priority"], read["config"]) == (True, 0, {"greeting": "hello"})

    reordered = await owner.patch(plugins_url(shop, GREETER), json={"priority": 7})
    assert reordered.status_code == 200, reordered.text
    read = (await owner.get(plugins_url(shop, GREETER))).json()
    assert (read["enabled"], read["priority"], read["config"]) == (True, 7, {"greeting": "hello"})

    configured = await owner.patch(plugins_url(shop, GREETER), json={"config": {"greeting": "hi", "max_quantity": 5}})
    assert configured.status_code == 200, configured.text
    read = (await owner.get(plugins_url(shop, GREETER))).json()
    assert (read["enabled"], read["priority"], read["config"]) == (True, 7, {"greeting": "hi", "max_quantity": 5})

    await run_pending_jobs(client)
    assert greeter.events == [("plugin.enabled", shop.id, GREETER)]
    assert watcher.events[1:] == [("plugin.enabled", shop.id, GREETER)]

    disabled = await owner.patch(plugins_url(shop, GREETER), json={"enabled": False})
    assert disabled.status_code == 200, disabled.text
    read = (await owner.get(plugins_url(shop, GREETER))).json()
    assert (read["enabled"], read["priority"], read["config"]) == (False, 7, {"greeting": "hi", "max_quantity": 5})
    await run_pending_jobs(client)
    assert watcher.events[-1] == ("plugin.disabled", shop.id, GREETER)
    assert [event for event in greeter.events if event[0] == "plugin.disabled"] == [], "a disabled plugin was called"

    entries = await plugin_audit(owner, shop, GREETER)
    assert [entry["changes"] for entry in entries] == [
        {"enabled": {"from": False, "to": True}, "config": {"from": {}, "to": {"greeting": "hello"}}},
        {"priority": {"from": 0, "to": 7}},
        {"config": {"from": {"greeting": "hello"}, "to": {"greeting": "hi", "max_quantity": 5}}},
        {"enabled": {"from": True, "to": False}},
    ]
    requests = [enabled, reordered, configured, disabled]
    assert [entry["request_id"] for entry in entries] == [response.headers["x-request-id"] for response in requests]

    before = await plugin_rows(shop.id)
    unchanged = await owner.patch(plugins_url(shop, GREETER), json={"priority": 7})
    assert unchanged.status_code == 200, unchanged.text
    assert await plugin_rows(shop.id) == before, "a PATCH that changes nothing wrote something"


@pytest.mark.parametrize("body", [{"enabled": True}, {"enabled": True, "config": {}}])
async def test_enabling_without_the_required_config_is_422_naming_the_field_and_writes_nothing(
    greeter, open_shop, plugin_rows, problem, body
) -> None:
    shop = await open_shop("needs-config")
    before = await plugin_rows(shop.id)

    answer = problem(await shop.owner.patch(plugins_url(shop, GREETER), json=body), 422)

    assert fields_of(answer) == ["config.greeting"]
    assert await plugin_rows(shop.id) == before
    assert (await shop.owner.get(plugins_url(shop, GREETER))).json()["enabled"] is False


@pytest.mark.parametrize(
    ("plugin_id", "config", "field"),
    [
        (GREETER, {"greeting": ""}, "config.greeting"),
        (GREETER, {"greeting": "x" * 51}, "config.greeting"),
        (GREETER, {"greeting": 5}, "config.greeting"),
        (GREETER, {"greeting": "hi", "max_quantity": 11}, "config.max_quantity"),
        (GREETER, {"greeting": "hi", "max_quantity": "many"}, "config.max_quantity"),
        (GREETER, {"greeting": "hi", "colour": "red"}, "config.colour"),
        (WATCHER, {"anything": 1}, "config"),
    ],
)
async def test_invalid_config_is_422_naming_the_field_and_keeps_the_saved_one(
    greeter, watcher, open_shop, plugin_rows, problem, plugin_id, config, field
) -> None:
    shop = await open_shop("bad-config")
    saved = {GREETER: {"greeting": "hello"}, WATCHER: {}}[plugin_id]
    ok = await shop.owner.patch(plugins_url(shop, plugin_id), json={"enabled": True, "config": saved})
    assert ok.status_code == 200, ok.text
    before = await plugin_rows(shop.id)

    answer = problem(await shop.owner.patch(plugins_url(shop, plugin_id), json={"config": config}), 422)

    assert fields_of(answer) == [field]
    assert await plugin_rows(shop.id) == before
    assert (await shop.owner.get(plugins_url(shop, plugin_id))).json()["config"] == saved


async def test_state_is_shown_but_cannot_be_written_through_the_admin_api(
    greeter, open_shop, tc_database, plugin_rows, problem
) -> None:
    shop = await open_shop("state-shop")
    await plugin_context(tc_database, shop.id, GREETER).set_state({"account": "acct-1"})
    assert (await shop.owner.get(plugins_url(shop, GREETER))).json()["state"] == {"account": "acct-1"}
    before = await plugin_rows(shop.id)

    for body in (
        {"state": {"account": "mine"}},
        {"enabled": True, "config": {"greeting": "hi"}, "state": {"account": "mine"}},
    ):
        answer = problem(await shop.owner.patch(plugins_url(shop, GREETER), json=body), 400, "invalid-input")
        assert "state" in fields_of(answer)

    assert await plugin_rows(shop.id) == before
    assert await plugin_context(tc_database, shop.id, GREETER).get_state() == {"account": "acct-1"}


async def test_reading_needs_settings_read_and_changing_needs_plugins_manage(
    greeter, open_shop, member, person, browser, plugin_rows, problem
) -> None:
    shop = await open_shop("perm-shop")
    viewer = await member(shop, "viewer@perm.test", "viewer")
    reader = await member(shop, "reader@perm.test", "staff", {"settings:read": True})
    admin_without = await member(shop, "admin@perm.test", "admin", {"plugins:manage": False})
    manager = await member(shop, "manager@perm.test", "staff", {"settings:read": True, "plugins:manage": True})
    stranger = await person("stranger@perm.test")
    change = {"enabled": True, "config": {"greeting": "hi"}}
    before = await plugin_rows(shop.id)

    for url in (plugins_url(shop), plugins_url(shop, GREETER)):
        answer = problem(await viewer.get(url), 403, "permission-denied")
        assert "settings:read" in answer["detail"]
        assert (await reader.get(url)).status_code == 200
        assert (await admin_without.get(url)).status_code == 200
        problem(await stranger.get(url), 404, "not-found")
        problem(await browser().get(url), 401, "authentication-required")
    for who in (viewer, reader, admin_without):
        answer = problem(await who.patch(plugins_url(shop, GREETER), json=change), 403, "permission-denied")
        assert "plugins:manage" in answer["detail"]
    problem(await stranger.patch(plugins_url(shop, GREETER), json=change), 404, "not-found")
    assert await plugin_rows(shop.id) == before

    allowed = await manager.patch(plugins_url(shop, GREETER), json=change)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["enabled"] is True


async def test_one_stores_plugin_config_and_state_are_invisible_to_another(
    app, greeter, open_shop, tc_database, plugin_rows, on_app, problem
) -> None:
    alpha = await open_shop("alpha-plug")
    bravo = await open_shop("bravo-plug")
    secret = {"greeting": "alpha only", "max_quantity": 2}
    assert (await alpha.owner.patch(plugins_url(alpha, GREETER), json={"enabled": True, "config": secret})).is_success
    await plugin_context(tc_database, alpha.id, GREETER).set_state({"account": "acct-alpha"})
    alpha_rows = await plugin_rows(alpha.id)

    listed = await bravo.owner.get(plugins_url(bravo), params={"limit": 100})
    one = await bravo.owner.get(plugins_url(bravo, GREETER))

    for response in (listed, one):
        assert response.status_code == 200, response.text
        assert "alpha only" not in response.text
        assert "acct-alpha" not in response.text
    view = one.json()
    assert {key: view[key] for key in ("enabled", "priority", "config", "state", "warnings")} == {
        "enabled": False,
        "priority": 0,
        "config": {},
        "state": {},
        "warnings": [],
    }
    problem(await bravo.owner.get(plugins_url(alpha)), 404, "not-found")
    problem(await bravo.owner.patch(plugins_url(alpha, GREETER), json={"enabled": False}), 404, "not-found")
    assert await plugin_context(tc_database, bravo.id, GREETER).get_state() == {}
    assert await on_app(lambda runtime: enabled_ids(runtime, alpha.slug)) == [GREETER]
    assert await on_app(lambda runtime: enabled_ids(runtime, bravo.slug)) == []

    mine = await bravo.owner.patch(plugins_url(bravo, GREETER), json={"enabled": True, "config": {"greeting": "b"}})
    assert mine.status_code == 200, mine.text
    assert await plugin_rows(alpha.id) == alpha_rows, "a change in bravo touched alpha's rows"
    assert (await alpha.owner.get(plugins_url(alpha, GREETER))).json()["config"] == secret
