"""Plugins at work over HTTP: their routes mounted under the scope prefixes and guarded per store, the per-store
plugin set seen by the very next request after a change, the operators' list of installed plugins, and the decide
and collect hooks reached through ``runtime.plugins.for_store(...)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from litestar import get

from tenantcommerce import hookimpl
from tenantcommerce.app import runtime_of
from tenantcommerce.auth.services import make_operator
from tenantcommerce.plugins.registrations import Routes
from tenantcommerce.plugins.types import CheckoutLine, CheckoutSummary, StoreWarning
from tenantcommerce.testing.accounts import TEST_PASSWORD, sign_in
from tenantcommerce.testing.plugins import enable_plugin, plugin_context, store_context

GREETER = "e2e-greeter"
CONSOLE = "e2e-console"


def storefront_hello(slug: str) -> str:
    return f"/api/storefront/{slug}/plugins/{GREETER}/hello"


def admin_hello(slug: str) -> str:
    return f"/api/admin/{slug}/plugins/{CONSOLE}/hello"


async def test_plugin_routes_mount_under_their_scope_prefixes_and_answer_only_where_enabled(
    greeter, console, open_shop, browser, tc_database, poll, problem
) -> None:
    alpha = await open_shop("alpha-routes")
    bravo = await open_shop("bravo-routes")
    anonymous = browser()

    platform = await anonymous.get(f"/api/plugins/{GREETER}/hello")
    assert platform.status_code == 200, platform.text
    assert platform.json() == {"scope": "platform"}
    problem(await anonymous.get(storefront_hello(alpha.slug)), 404, "not-found")
    problem(await anonymous.get(admin_hello(alpha.slug)), 401, "authentication-required")
    problem(await alpha.owner.get(admin_hello(alpha.slug)), 404, "not-found")

    enabled = await alpha.owner.patch(
        f"{alpha.admin}/plugins/{GREETER}", json={"enabled": True, "config": {"greeting": "hi"}}
    )
    assert enabled.status_code == 200, enabled.text
    storefront = await anonymous.get(storefront_hello(alpha.slug))
    assert storefront.status_code == 200, storefront.text
    assert storefront.json() == {"scope": "storefront", "store": alpha.slug}
    problem(await anonymous.get(storefront_hello(bravo.slug)), 404, "not-found")

    await enable_plugin(tc_database, alpha.id, CONSOLE)  # written beside the API: the app hears of it by NOTIFY
    admin = await poll(lambda: alpha.owner.get(admin_hello(alpha.slug)), 200)
    assert admin.status_code == 200, admin.text
    assert admin.json() == {"scope": "admin", "store": alpha.slug}
    problem(await anonymous.get(admin_hello(alpha.slug)), 401, "authentication-required")
    problem(await bravo.owner.get(admin_hello(bravo.slug)), 404, "not-found")


async def test_the_very_next_request_after_a_change_sees_the_new_plugin_set(app, greeter, open_shop, browser) -> None:
    shop = await open_shop("cache-shop")
    anonymous = browser()
    sets = runtime_of(app).plugins.sets
    url = f"{shop.admin}/plugins/{GREETER}"

    for _ in range(2):
        assert (await anonymous.get(storefront_hello(shop.slug))).status_code == 404
        assert (await shop.owner.patch(url, json={"enabled": True, "config": {"greeting": "hi"}})).status_code == 200
        assert (await anonymous.get(storefront_hello(shop.slug))).status_code == 200
        assert (await shop.owner.patch(url, json={"enabled": False})).status_code == 200
        assert (await anonymous.get(storefront_hello(shop.slug))).status_code == 404

    loads = sets.loads
    for _ in range(3):
        assert (await anonymous.get(storefront_hello(shop.slug))).status_code == 404
    assert sets.loads == loads, "the plugin set was rebuilt for requests that changed nothing"


async def test_admin_plugin_routes_answer_only_members_of_the_store_and_404_to_anyone_else(
    console, open_shop, person, browser, tc_database, poll, problem
) -> None:
    alpha = await open_shop("alpha-members")
    bravo = await open_shop("bravo-members")
    stranger = await person("stranger@routes.test")
    await enable_plugin(tc_database, alpha.id, CONSOLE)
    await enable_plugin(tc_database, bravo.id, CONSOLE)
    assert (await poll(lambda: alpha.owner.get(admin_hello(alpha.slug)), 200)).status_code == 200
    assert (await poll(lambda: bravo.owner.get(admin_hello(bravo.slug)), 200)).status_code == 200

    def bearer(secret: str) -> Any:
        token_client = browser()
        token_client.headers["Authorization"] = f"Bearer {secret}"
        return token_client

    tokens = {}
    for shop in (alpha, bravo):
        made = await shop.owner.post(f"{shop.admin}/tokens", json={"name": "ci", "permissions": ["products:read"]})
        assert made.status_code == 201, made.text
        tokens[shop.slug] = bearer(made.json()["token"])

    assert (await tokens[alpha.slug].get(admin_hello(alpha.slug))).json() == {"scope": "admin", "store": alpha.slug}
    for outsider in (bravo.owner, stranger, tokens[bravo.slug]):
        problem(await outsider.get(admin_hello(alpha.slug)), 404, "not-found")
    problem(await bearer("tc_" + "x" * 40).get(admin_hello(alpha.slug)), 401, "authentication-required")


async def test_a_plugin_with_admin_routes_is_read_and_toggled_through_the_admin_api(console, open_shop) -> None:
    """Its routes' literal ``/plugins/<id>/`` segment must not hide ``GET``/``PATCH /plugins/<id>``."""
    shop = await open_shop("console-shop")
    url = f"{shop.admin}/plugins/{CONSOLE}"

    read = await shop.owner.get(url)
    assert read.status_code == 200, read.text
    assert read.json()["plugin"]["route_scopes"] == ["admin"]
    assert (await shop.owner.patch(url, json={"enabled": True})).status_code == 200
    assert (await shop.owner.get(admin_hello(shop.slug))).status_code == 200
    assert (await shop.owner.patch(url, json={"enabled": False})).status_code == 200
    assert (await shop.owner.get(admin_hello(shop.slug))).status_code == 404


class TwoConsoles:
    """Admin routes registered as two ``Routes`` (two controllers of one plugin)."""

    def __init__(self) -> None:
        @get("/first")
        async def first() -> dict[str, str]:
            return {"route": "first"}

        @get("/second")
        async def second() -> dict[str, str]:
            return {"route": "second"}

        self.routes = [Routes("admin", [first]), Routes("admin", [second])]

    @hookimpl
    def tc_register_routes(self, register: Callable[[Routes], None]) -> None:
        for routes in self.routes:
            register(routes)


async def test_a_plugin_may_register_its_admin_routes_in_several_parts(register_plugin, open_shop) -> None:
    register_plugin(TwoConsoles(), "e2e-two-consoles")
    shop = await open_shop("two-shop")
    url = f"{shop.admin}/plugins/e2e-two-consoles"

    assert (await shop.owner.get(url)).status_code == 200
    assert (await shop.owner.patch(url, json={"enabled": True})).status_code == 200
    for route in ("first", "second"):
        response = await shop.owner.get(f"{url}/{route}")
        assert response.status_code == 200, response.text
        assert response.json() == {"route": route}


async def test_operators_list_the_installed_plugins_and_everyone_else_gets_404(
    app, greeter, tc_database, browser, person, problem
) -> None:
    await make_operator(tc_database, "ops@platform.test", TEST_PASSWORD)
    operator = browser()
    assert (await sign_in(operator, "ops@platform.test")).status_code == 200
    merchant = await person("merchant@platform.test")

    listed = await operator.get("/api/platform/plugins", params={"limit": 100})

    assert listed.status_code == 200, listed.text
    body = listed.json()
    installed = runtime_of(app).plugin_host.plugin_ids()
    assert [info["id"] for info in body["items"]] == installed
    assert (body["total"], body["limit"], body["offset"]) == (len(installed), 100, 0)
    greeting = next(info for info in body["items"] if info["id"] == GREETER)
    assert (greeting["shipping_carriers"], greeting["has_settings"]) == (["e2e-post"], True)
    problem(await merchant.get("/api/platform/plugins"), 404, "not-found")
    problem(await browser().get("/api/platform/plugins"), 401, "authentication-required")


def checkout(quantity: int) -> CheckoutSummary:
    return CheckoutSummary(
        checkout_id=uuid4(),
        currency="EUR",
        lines=[CheckoutLine(sku="MUG-1", quantity=quantity, unit_price_minor=500)],
        subtotal_minor=500 * quantity,
        total_minor=500 * quantity,
    )


async def test_check_checkout_lets_enabled_plugins_veto_through_the_facade(greeter, open_shop, on_app) -> None:
    alpha = await open_shop("alpha-checkout")
    bravo = await open_shop("bravo-checkout")
    config = {"greeting": "hi", "max_quantity": 2}
    assert (
        await alpha.owner.patch(f"{alpha.admin}/plugins/{GREETER}", json={"enabled": True, "config": config})
    ).is_success

    async def check(slug: str, quantity: int) -> Any:
        async def run(runtime: Any) -> Any:
            store = await runtime.resolver.by_slug(slug)
            return await (await runtime.plugins.for_store(store)).check_checkout(checkout(quantity))

        return await on_app(run)

    rejection = await check(alpha.slug, 3)
    assert rejection is not None
    assert (rejection.message, rejection.field) == ("at most 2 of MUG-1", "lines")
    assert await check(alpha.slug, 2) is None
    assert await check(bravo.slug, 3) is None, "a plugin enabled in another store decided"


async def test_store_warnings_come_from_enabled_plugins_and_show_in_the_admin_list(
    greeter, open_shop, tc_database, on_app
) -> None:
    shop = await open_shop("warn-shop")
    url = f"{shop.admin}/plugins/{GREETER}"

    async def collected() -> list[StoreWarning]:
        context = await store_context(tc_database, shop.id)
        return await on_app(lambda runtime: _collect(runtime, context))

    assert (await shop.owner.get(url)).json()["warnings"] == []
    assert await collected() == []

    assert (await shop.owner.patch(url, json={"enabled": True, "config": {"greeting": "hi"}})).status_code == 200
    expected = StoreWarning(message="connect a greeting account", severity="warning", plugin_id=GREETER)
    assert await collected() == [expected]
    listed = (await shop.owner.get(f"{shop.admin}/plugins", params={"limit": 100})).json()["items"]
    item = next(item for item in listed if item["plugin"]["id"] == GREETER)
    assert item["warnings"] == [{"message": expected.message, "severity": "warning", "plugin_id": GREETER}]

    await plugin_context(tc_database, shop.id, GREETER).set_state({"account": "acct-1"})
    assert await collected() == []
    assert (await shop.owner.get(url)).json()["warnings"] == []


async def test_a_saved_config_that_no_longer_validates_shows_as_an_error_and_the_plugin_stays_out(
    greeter, open_shop, tc_database, on_app
) -> None:
    shop = await open_shop("stale-shop")
    await enable_plugin(tc_database, shop.id, GREETER, config={"greeting": 5})  # as if the schema had changed since
    context = await store_context(tc_database, shop.id)

    view = (await shop.owner.get(f"{shop.admin}/plugins/{GREETER}")).json()

    assert (view["enabled"], view["config"]) == (True, {"greeting": 5})
    assert [warning["severity"] for warning in view["warnings"]] == ["error"]
    assert view["warnings"][0]["plugin_id"] == GREETER
    assert await on_app(lambda runtime: _enabled(runtime, context)) == []
    assert await on_app(lambda runtime: _check(runtime, context, 50)) is None


async def _collect(runtime: Any, context: Any) -> list[StoreWarning]:
    return await (await runtime.plugins.for_store(context)).collect_store_warnings()


async def _enabled(runtime: Any, context: Any) -> list[str]:
    return [enabled.plugin_id for enabled in (await runtime.plugins.for_store(context)).plugin_set]


async def _check(runtime: Any, context: Any, quantity: int) -> Any:
    return await (await runtime.plugins.for_store(context)).check_checkout(checkout(quantity))
