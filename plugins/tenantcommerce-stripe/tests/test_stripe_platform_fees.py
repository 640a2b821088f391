"""The platform fee through ``/api/plugins/stripe``: only platform operators set it, per store; merchants can read
the fee that applies to them but change it nowhere; the fee reaches the PaymentIntents."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tenantcommerce.db.database import Database
from tenantcommerce.testing.plugins import plugin_context, store_context

from tenantcommerce_stripe import accounts
from tenantcommerce_stripe import state as plugin_state
from tenantcommerce_stripe.client import StripeApi
from tenantcommerce_stripe.gateway import StripeGateway
from tenantcommerce_stripe.testing import FakeStripe

from .conftest import (
    Browser,
    Shop,
    StripeStore,
    connected_account,
    fields,
    payment_request,
    problem,
    read_state,
    record_account,
)

pytestmark = pytest.mark.usefixtures("st_env")

OpenShop = Callable[..., Awaitable[Shop]]
FEES = "/api/plugins/stripe/fees"


def fee_url(slug: str) -> str:
    return f"/api/plugins/stripe/stores/{slug}/fee"


async def test_operators_set_and_clear_a_stores_own_fee(
    st_open_shop: OpenShop, st_operator: Callable[[], Awaitable[Browser]], tc_database: Database
) -> None:
    beans = await st_open_shop("beans")
    await st_open_shop("cocoa")
    operator = await st_operator()

    assert (await operator.get(FEES)).json() == {"default": {"percent_bp": 250, "fixed_minor": 30}, "overrides": []}
    assert (await operator.get(fee_url("beans"))).json() == {
        "store": "beans", "store_id": str(beans.id), "percent_bp": 250, "fixed_minor": 30, "source": "default",
    }  # fmt: skip

    put = await operator.put(fee_url("beans"), {"percent_bp": 100, "fixed_minor": 0})

    assert put.status_code == 200, put.text
    own = {"store": "beans", "store_id": str(beans.id), "percent_bp": 100, "fixed_minor": 0, "source": "store"}
    assert put.json() == own
    assert (await operator.get(FEES)).json()["overrides"] == [own]
    assert (await operator.get(fee_url("cocoa"))).json()["source"] == "default"
    assert (await beans.owner.get(f"{beans.plugin}/account")).json()["fee"] == {
        "percent_bp": 100,
        "fixed_minor": 0,
        "source": "store",
    }
    assert (await read_state(tc_database, beans.id))["fee"] == {"percent_bp": 100, "fixed_minor": 0}

    cleared = await operator.delete(fee_url("beans"))
    again = await operator.delete(fee_url("beans"))

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["source"] == again.json()["source"] == "default"
    assert (await operator.get(FEES)).json()["overrides"] == []
    assert "fee" not in await read_state(tc_database, beans.id)
    audit = (await beans.owner.get(f"/api/admin/{beans.slug}/audit")).json()["items"]
    changes = [(entry["action"], entry["changes"]) for entry in audit if entry["action"].startswith("stripe.fee")]
    assert changes == [
        ("stripe.fee_cleared", {"fee": {"from": {"percent_bp": 100, "fixed_minor": 0}, "to": None}}),
        ("stripe.fee_set", {"fee": {"from": None, "to": {"percent_bp": 100, "fixed_minor": 0}}}),
    ], "one entry per change, none for the harmless second delete"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"percent_bp": 10_001, "fixed_minor": 0}, "percent_bp"),
        ({"percent_bp": -1}, "percent_bp"),
        ({"fixed_minor": 1.5}, "fixed_minor"),
        ({"percent_bp": 1, "flat": 2}, "flat"),
    ],
)
async def test_a_bad_fee_is_a_400_naming_the_field(
    st_open_shop: OpenShop,
    st_operator: Callable[[], Awaitable[Browser]],
    tc_database: Database,
    body: dict[str, Any],
    field: str,
) -> None:
    beans = await st_open_shop("beans")
    operator = await st_operator()

    answer = problem(await operator.put(fee_url("beans"), body), 400)

    assert any(field in name for name in fields(answer)), answer
    assert "fee" not in await read_state(tc_database, beans.id)


async def test_an_unknown_store_is_a_404(st_operator: Callable[[], Awaitable[Browser]]) -> None:
    operator = await st_operator()
    problem(await operator.put(fee_url("nowhere"), {"percent_bp": 1}), 404)
    problem(await operator.get(fee_url("nowhere")), 404)
    problem(await operator.delete(fee_url("nowhere")), 404)


async def test_merchants_cannot_set_a_fee_anywhere(st_open_shop: OpenShop, tc_database: Database, client: Any) -> None:
    beans = await st_open_shop("beans")

    assert (await beans.owner.get(FEES)).status_code == 404, "the platform API does not reveal itself"
    assert (await beans.owner.put(fee_url("beans"), {"percent_bp": 0})).status_code == 404
    assert (await beans.owner.delete(fee_url("beans"))).status_code == 404
    assert (await client.get(FEES)).status_code == 401
    config = await beans.owner.patch(beans.plugin, {"config": {"fee": {"percent_bp": 0, "fixed_minor": 0}}})
    assert problem(config, 422)["errors"][0]["field"] == "config"
    view = (await beans.owner.get(beans.plugin)).json()
    assert (view["config"], view["settings_schema"]) == ({}, None)
    assert "fee" not in await read_state(tc_database, beans.id)


async def test_the_stores_own_fee_reaches_its_payment_intents(
    st_open_shop: OpenShop,
    st_operator: Callable[[], Awaitable[Browser]],
    tc_database: Database,
    fake_stripe: FakeStripe,
    st_gateway: StripeGateway,
) -> None:
    beans = await st_open_shop("beans")
    operator = await st_operator()
    ctx = await store_context(tc_database, beans.id)
    plugin = plugin_context(tc_database, beans.id, "stripe")
    await record_account(plugin, connected_account(fake_stripe, store_id=beans.id))

    await st_gateway.create_payment(ctx, payment_request("k1", amount=10_000), plugin)
    await operator.put(fee_url("beans"), {"percent_bp": 0, "fixed_minor": 0})
    await st_gateway.create_payment(ctx, payment_request("k2", amount=10_000), plugin)
    await operator.put(fee_url("beans"), {"percent_bp": 1_000, "fixed_minor": 50})
    await st_gateway.create_payment(ctx, payment_request("k3", amount=10_000), plugin)

    sent = [
        request.params.get("application_fee_amount")
        for request in fake_stripe.requests_to("POST", "/v1/payment_intents")
    ]
    assert sent == ["280", None, "1050"]


async def test_fee_writes_and_account_syncs_never_lose_each_others_keys(
    st_store: Callable[..., Awaitable[StripeStore]],
    st_api: StripeApi,
    tc_database: Database,
    fake_stripe: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = await st_store("beans", charges=False)
    assert store.account is not None
    fake_stripe.enable_account(store.account)
    retrieve = fake_stripe._retrieve_account

    def slow_retrieve(*args: Any) -> Any:
        time.sleep(0.2)  # the fee is written while the sync waits for Stripe
        return retrieve(*args)

    monkeypatch.setattr(fake_stripe, "_retrieve_account", slow_retrieve)

    async def sync() -> None:
        async with tc_database.store_transaction(store.ctx.id, readonly=False) as conn:
            await accounts.sync(st_api, conn)

    async def set_fee() -> None:
        await asyncio.sleep(0.05)
        async with tc_database.store_transaction(store.ctx.id, readonly=False) as conn:
            state = await plugin_state.locked(conn)
            await plugin_state.save(conn, {**state, "fee": {"percent_bp": 7, "fixed_minor": 0}})

    await asyncio.gather(sync(), set_fee())

    state = await read_state(tc_database, store.ctx.id)
    assert state["fee"] == {"percent_bp": 7, "fixed_minor": 0}
    assert (state["account"]["id"], state["account"]["charges_enabled"]) == (store.account, True)
