"""A deployment without the ``TC_STRIPE_*`` variables: the plugin loads and says what is missing, stores cannot
enable it, ``plugins doctor`` warns without failing, and nothing reaches Stripe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from click.testing import CliRunner
from tenantcommerce.cli import main
from tenantcommerce.testing import TestDatabase

from .conftest import Browser, Shop, problem

pytestmark = pytest.mark.usefixtures("st_no_env")

OpenShop = Callable[..., Awaitable[Shop]]
MISSING = [
    "TC_STRIPE_SECRET_KEY is not set",
    "TC_STRIPE_WEBHOOK_SECRET is not set",
    "TC_STRIPE_CONNECT_WEBHOOK_SECRET is not set",
]


async def test_the_plugin_lists_what_is_missing(
    st_operator: Callable[[], Awaitable[Browser]], st_open_shop: OpenShop
) -> None:
    operator = await st_operator()
    listed = (await operator.get("/api/platform/plugins", params={"limit": 100})).json()["items"]
    [info] = [item for item in listed if item["id"] == "stripe"]
    assert info["setup_problems"] == MISSING
    assert info["payment_gateways"] == ["stripe"]
    assert info["route_scopes"] == ["admin", "platform"]
    assert info["has_settings"] is False

    shop = await st_open_shop("beans", enable=False)
    view = await shop.owner.get(shop.plugin)
    assert view.status_code == 200, view.text
    assert view.json()["plugin"]["setup_problems"] == MISSING


async def test_stores_cannot_enable_it(st_open_shop: OpenShop) -> None:
    shop = await st_open_shop("beans", enable=False)

    refused = problem(await shop.owner.patch(shop.plugin, {"enabled": True}), 422)

    assert "TC_STRIPE_SECRET_KEY is not set" in refused["detail"]
    assert (await shop.owner.get(shop.plugin)).json()["enabled"] is False
    assert (await shop.owner.get(f"{shop.plugin}/account")).status_code == 404


async def test_the_platform_routes_still_answer_with_the_default_fee(
    st_operator: Callable[[], Awaitable[Browser]],
) -> None:
    operator = await st_operator()
    fees = await operator.get("/api/plugins/stripe/fees")
    assert fees.status_code == 200, fees.text
    assert fees.json() == {"default": {"percent_bp": 0, "fixed_minor": 0}, "overrides": []}


def test_plugins_list_and_doctor_warn_without_failing(postgres: TestDatabase) -> None:
    env = {"TC_DATABASE_URL": postgres.admin_url.render_as_string(hide_password=False)}
    runner = CliRunner()

    listed = runner.invoke(main, ["plugins", "list"], env=env)
    doctor = runner.invoke(main, ["plugins", "doctor"], env=env)

    assert listed.exit_code == 0, listed.output
    assert f"NOT CONFIGURED: {'; '.join(MISSING)}" in listed.output
    assert doctor.exit_code == 0, doctor.output
    assert f"WARN  stripe is not configured: {'; '.join(MISSING)}" in doctor.output
