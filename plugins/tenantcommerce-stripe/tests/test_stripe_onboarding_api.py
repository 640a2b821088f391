"""Connect onboarding through the admin API: ``POST .../onboarding``, ``GET .../account``, ``POST
.../account/refresh``, with the store's permissions, against the offline Stripe server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tenantcommerce.db.database import Database

from tenantcommerce_stripe.testing import FakeStripe

from .conftest import Browser, Shop, fields, problem, read_state

pytestmark = pytest.mark.usefixtures("st_env")

OpenShop = Callable[..., Awaitable[Shop]]
URLS = {"refresh_url": "https://beans.example/stripe/refresh", "return_url": "https://beans.example/stripe/done"}


async def onboard(browser: Browser, shop: Shop, **body: Any) -> Any:
    return await browser.post(f"{shop.plugin}/onboarding", {**URLS, **body})


async def test_onboarding_creates_one_express_account_and_a_fresh_link_each_time(
    st_open_shop: OpenShop, fake_stripe: FakeStripe, tc_database: Database
) -> None:
    shop = await st_open_shop("beans")

    first = await onboard(shop.owner, shop, country="DE", email="owner@beans.example")
    second = await onboard(shop.owner, shop, country="FR")

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    account_id = first.json()["account_id"]
    assert second.json()["account_id"] == account_id
    assert first.json()["url"] != second.json()["url"], "every call makes a new link"
    assert first.json()["url"].startswith(f"{fake_stripe.api_base}/connect/setup/{account_id}/")
    assert first.json()["expires_at"].endswith("Z") or "+00:00" in first.json()["expires_at"]

    [created] = fake_stripe.requests_to("POST", "/v1/accounts")
    assert created.params == {
        "type": "express",
        "country": "DE",
        "email": "owner@beans.example",
        "capabilities": {"card_payments": {"requested": "true"}, "transfers": {"requested": "true"}},
        "metadata": {"store_id": str(shop.id)},
    }
    assert created.idempotency_key is not None
    assert created.idempotency_key.startswith(f"tc-stripe:{shop.id}:account:")
    links = fake_stripe.requests_to("POST", "/v1/account_links")
    assert [link.params for link in links] == [{"account": account_id, "type": "account_onboarding", **URLS}] * 2
    assert (await read_state(tc_database, shop.id))["account"] == {
        "id": account_id,
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "synced_at": (await read_state(tc_database, shop.id))["account"]["synced_at"],
    }
    audit = await shop.owner.get(f"/api/admin/{shop.slug}/audit")
    assert audit.status_code == 200, audit.text
    [entry] = [entry for entry in audit.json()["items"] if entry["action"] == "stripe.account_created"]
    assert (entry["target_id"], entry["changes"]) == (account_id, {"country": "DE", "email": "owner@beans.example"})


async def test_concurrent_onboarding_makes_one_account(st_open_shop: OpenShop, fake_stripe: FakeStripe) -> None:
    shop = await st_open_shop("beans")

    answers = await asyncio.gather(*(onboard(shop.owner, shop) for _ in range(4)))

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.json()["account_id"] for answer in answers}) == 1
    assert len(fake_stripe.accounts) == 1


async def test_the_account_view_follows_stripe_after_a_refresh(st_open_shop: OpenShop, fake_stripe: FakeStripe) -> None:
    shop = await st_open_shop("beans")
    before = await shop.owner.get(f"{shop.plugin}/account")
    assert before.status_code == 200, before.text
    assert before.json() == {
        "account_id": None,
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "synced_at": None,
        "fee": {"percent_bp": 250, "fixed_minor": 30, "source": "default"},
    }
    problem(await shop.owner.post(f"{shop.plugin}/account/refresh"), 422)

    account_id = (await onboard(shop.owner, shop)).json()["account_id"]
    fake_stripe.enable_account(account_id, payouts_enabled=False)
    stale = (await shop.owner.get(f"{shop.plugin}/account")).json()
    refreshed = await shop.owner.post(f"{shop.plugin}/account/refresh")

    assert stale["charges_enabled"] is False, "nothing changes until Stripe is asked"
    assert refreshed.status_code == 200, refreshed.text
    view = refreshed.json()
    assert (view["account_id"], view["charges_enabled"], view["payouts_enabled"], view["details_submitted"]) == (
        account_id,
        True,
        False,
        True,
    )
    assert view["synced_at"] is not None
    assert (await shop.owner.get(f"{shop.plugin}/account")).json() == view


async def test_the_plugin_warns_until_the_store_can_be_paid_and_paid_out(
    st_open_shop: OpenShop, fake_stripe: FakeStripe
) -> None:
    shop = await st_open_shop("beans")

    async def warnings() -> list[str]:
        view = await shop.owner.get(shop.plugin)
        assert view.status_code == 200, view.text
        return [warning["message"] for warning in view.json()["warnings"]]

    [not_onboarded] = await warnings()
    assert not_onboarded.startswith("no Stripe account is connected")
    account_id = (await onboard(shop.owner, shop)).json()["account_id"]
    charges, payouts = await warnings()
    assert charges.startswith(f"Stripe has not enabled charges for account {account_id}")
    assert payouts.startswith(f"Stripe has not enabled payouts for account {account_id}")
    fake_stripe.enable_account(account_id, payouts_enabled=False)
    await shop.owner.post(f"{shop.plugin}/account/refresh")
    [payouts_only] = await warnings()
    assert payouts_only.startswith("Stripe has not enabled payouts")
    fake_stripe.enable_account(account_id)
    await shop.owner.post(f"{shop.plugin}/account/refresh")
    assert await warnings() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"refresh_url": "/relative", "return_url": URLS["return_url"]}, "refresh_url"),
        ({"refresh_url": URLS["refresh_url"], "return_url": "javascript:alert(1)"}, "return_url"),
        ({"refresh_url": URLS["refresh_url"], "return_url": "ftp://beans.example/x"}, "return_url"),
        ({"return_url": URLS["return_url"]}, "refresh_url"),
        ({**URLS, "country": "de"}, "country"),
        ({**URLS, "country": "DEU"}, "country"),
        ({**URLS, "email": "not an address"}, "email"),
        ({**URLS, "type": "custom"}, "type"),
    ],
)
async def test_bad_onboarding_input_is_a_400_naming_the_field(
    st_open_shop: OpenShop, fake_stripe: FakeStripe, body: dict[str, Any], field: str
) -> None:
    shop = await st_open_shop("beans")

    answer = problem(await shop.owner.post(f"{shop.plugin}/onboarding", body), 400)

    assert any(field in name for name in fields(answer)), answer
    assert fake_stripe.requests == []


async def test_a_key_stripe_rejects_is_a_502_saying_so(st_open_shop: OpenShop, fake_stripe: FakeStripe) -> None:
    shop = await st_open_shop("beans")
    fake_stripe.secret_keys = ("sk_test_other",)

    failed = problem(await onboard(shop.owner, shop), 502)

    assert "rejected the platform's API key" in failed["detail"]
    assert fake_stripe.accounts == {}


async def test_only_members_with_the_settings_permissions_reach_the_routes(
    st_open_shop: OpenShop, st_person: Callable[[str], Awaitable[Browser]], fake_stripe: FakeStripe
) -> None:
    shop = await st_open_shop("beans")
    other = await st_open_shop("other")
    stranger = await st_person("stranger@example.com")

    assert (await onboard(stranger, shop)).status_code == 404
    assert (await stranger.get(f"{shop.plugin}/account")).status_code == 404
    assert (await onboard(other.owner, shop)).status_code == 404
    assert fake_stripe.accounts == {}

    async def token(*permissions: str) -> dict[str, str]:
        created = await shop.owner.post(
            f"/api/admin/{shop.slug}/tokens", {"name": "+".join(permissions), "permissions": list(permissions)}
        )
        assert created.status_code == 201, created.text
        return {"Authorization": f"Bearer {created.json()['token']}"}

    reader, orders = await token("settings:read"), await token("orders:read")
    client = shop.owner.client
    assert (await client.get(f"{shop.plugin}/account", headers=reader)).status_code == 200
    assert (await client.post(f"{shop.plugin}/onboarding", json=URLS, headers=reader)).status_code == 403
    assert (await client.post(f"{shop.plugin}/account/refresh", headers=reader)).status_code == 403
    assert (await client.get(f"{shop.plugin}/account", headers=orders)).status_code == 403
    assert fake_stripe.accounts == {}


async def test_a_store_that_has_not_enabled_the_plugin_gets_404(st_open_shop: OpenShop) -> None:
    shop = await st_open_shop("beans", enable=False)
    assert (await shop.owner.get(f"{shop.plugin}/account")).status_code == 404
    assert (await onboard(shop.owner, shop)).status_code == 404
