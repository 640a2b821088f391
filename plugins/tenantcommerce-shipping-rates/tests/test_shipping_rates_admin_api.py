"""The rate table's admin API over HTTP: CRUD, bad input (400 schema, 422 rules, 409 duplicates, nothing written),
another store's rate (404), permissions, and the plugin switch (404 while disabled)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.accounts import csrf_headers, sign_up_and_in

STANDARD = {"name": "Standard", "amount_minor": 495, "countries": ["DE", "AT"], "estimated_days": 3}
HEAVY = {"name": "Heavy parcels", "kind": "weight", "band_min": 5_000, "amount_minor": 1_990}


async def test_a_merchant_creates_reads_lists_changes_and_deletes_a_rate(shipping_merchant: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-crud")

    created = await merchant.create_rate(slug, **STANDARD)
    assert {key: created[key] for key in STANDARD} == STANDARD
    assert created["kind"] == "flat"
    assert (created["band_min"], created["band_max"], created["free_over_minor"]) == (0, None, None)
    assert (created["active"], created["position"], created["currency"]) == (True, 0, "EUR")
    url = merchant.rates_url(slug, created["id"])

    assert (await client.get(url)).json() == created
    listed = (await client.get(merchant.rates_url(slug))).json()
    assert listed == {"items": [created], "limit": 24, "offset": 0, "total": 1}

    changed = await client.patch(
        url, json={"amount_minor": 0, "free_over_minor": None, "estimated_days": None}, headers=merchant.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["amount_minor"], changed.json()["estimated_days"]) == (0, None)
    assert changed.json()["countries"] == ["DE", "AT"], "fields left out of a PATCH stay"

    unchanged = await client.patch(url, json={}, headers=merchant.headers)
    assert unchanged.json() == changed.json(), "an empty change changes nothing, not even updated_at"

    deleted = await client.delete(url, headers=merchant.headers)
    assert deleted.status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.get(merchant.rates_url(slug))).json()["total"] == 0


async def test_rates_are_listed_by_position_then_amount_and_filter_on_active(shipping_merchant: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-order")
    await merchant.create_rate(slug, name="Express", amount_minor=1_500, position=1)
    await merchant.create_rate(slug, name="Courier", amount_minor=900, position=1)
    await merchant.create_rate(slug, name="Economy", amount_minor=700, position=0, active=False)

    assert await merchant.rate_names(slug) == ["Economy", "Courier", "Express"]
    page = (await client.get(merchant.rates_url(slug), params={"limit": 1, "offset": 1})).json()
    assert ([rate["name"] for rate in page["items"]], page["total"]) == (["Courier"], 3)
    inactive = (await client.get(merchant.rates_url(slug), params={"active": "false"})).json()
    assert [rate["name"] for rate in inactive["items"]] == ["Economy"]


async def test_a_weight_band_and_an_order_value_band_are_stored_as_sent(shipping_merchant: Any) -> None:
    merchant = shipping_merchant
    slug = await merchant.open_store("rate-bands")

    heavy = await merchant.create_rate(slug, **HEAVY)
    small_orders = await merchant.create_rate(
        slug, name="Small orders", kind="order_value", band_min=0, band_max=5_000, amount_minor=695,
        free_over_minor=4_000, countries=[],
    )  # fmt: skip

    assert (heavy["kind"], heavy["band_min"], heavy["band_max"]) == ("weight", 5_000, None)
    assert (small_orders["kind"], small_orders["band_max"], small_orders["free_over_minor"]) == (
        "order_value",
        5_000,
        4_000,
    )


async def test_a_body_that_does_not_match_the_schema_is_a_400_naming_the_field(
    shipping_merchant: Any, shipping_problem: Any, shipping_error_fields: Any
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-schema")
    url = merchant.rates_url(slug)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount_minor": 100}, "name"),
        ({"name": "X"}, "amount_minor"),
        ({"name": "X", "amount_minor": -1}, "amount_minor"),
        ({"name": "X", "amount_minor": "5"}, "amount_minor"),
        ({"name": "X", "amount_minor": 10**13}, "amount_minor"),
        ({"name": "X", "amount_minor": 1, "kind": "express"}, "kind"),
        ({"name": "X", "amount_minor": 1, "free_over_minor": -5}, "free_over_minor"),
        ({"name": "X", "amount_minor": 1, "kind": "weight", "band_min": -1}, "band_min"),
        ({"name": "X", "amount_minor": 1, "estimated_days": 400}, "estimated_days"),
        ({"name": "X", "amount_minor": 1, "countries": "DE"}, "countries"),
        ({"name": "X", "amount_minor": 1, "colour": "red"}, "colour"),
        ({"name": "", "amount_minor": 1}, "name"),
        ({"name": "a\x00b", "amount_minor": 1}, "name"),
    ]
    for body, field in cases:
        problem = shipping_problem(await client.post(url, json=body, headers=merchant.headers), 400)
        assert field in fields_of_any(shipping_error_fields(problem)), (body, problem)

    malformed = await client.post(
        url, content=b"{not json", headers={**merchant.headers, "content-type": "application/json"}
    )
    shipping_problem(malformed, 400)
    assert (await client.get(url)).json()["total"] == 0, "nothing was written"


def fields_of_any(fields: set[str]) -> set[str]:
    """The top-level names of ``fields`` (``countries[0]`` -> ``countries``)."""
    return {field.split("[")[0].split(".")[0] for field in fields}


async def test_a_rate_that_breaks_a_business_rule_is_a_422_naming_each_field(
    shipping_merchant: Any, shipping_problem: Any, shipping_error_fields: Any
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-rules")
    url = merchant.rates_url(slug)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"kind": "weight", "band_min": 1_000, "band_max": 1_000}, {"band_max"}),
        ({"kind": "order_value", "band_min": 5_000, "band_max": 10}, {"band_max"}),
        ({"kind": "flat", "band_min": 10}, {"band_min"}),
        ({"kind": "flat", "band_max": 10}, {"band_max"}),
        ({"countries": ["de"]}, {"countries[0]"}),
        ({"countries": ["DE", "XX", "DEU"]}, {"countries[1]", "countries[2]"}),
        ({"countries": ["FR", "FR"]}, {"countries[1]"}),
        ({"free_over_minor": 0}, {"free_over_minor"}),
        ({"name": "   "}, {"name"}),
    ]
    for extra, fields in cases:
        body = {"name": "Rule", "amount_minor": 500, **extra}
        problem = shipping_problem(await client.post(url, json=body, headers=merchant.headers), 422)
        assert shipping_error_fields(problem) == fields, (extra, problem)

    assert (await client.get(url)).json()["total"] == 0, "nothing was written"


async def test_a_change_is_checked_against_the_whole_rate_and_a_refused_one_changes_nothing(
    shipping_merchant: Any, shipping_problem: Any, shipping_error_fields: Any
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-patch")
    rate = await merchant.create_rate(slug, **HEAVY)
    url = merchant.rates_url(slug, rate["id"])

    too_low = shipping_problem(await client.patch(url, json={"band_max": 4_000}, headers=merchant.headers), 422)
    assert shipping_error_fields(too_low) == {"band_max"}
    to_flat = shipping_problem(await client.patch(url, json={"kind": "flat"}, headers=merchant.headers), 422)
    assert shipping_error_fields(to_flat) == {"band_min"}
    shipping_problem(await client.patch(url, json={"amount_minor": None}, headers=merchant.headers), 400)
    shipping_problem(await client.patch(url, json={"id": str(uuid.uuid4())}, headers=merchant.headers), 400)
    assert (await client.get(url)).json() == rate

    flat = await client.patch(url, json={"kind": "flat", "band_min": 0}, headers=merchant.headers)
    assert flat.status_code == 200, flat.text
    assert (flat.json()["kind"], flat.json()["band_min"], flat.json()["band_max"]) == ("flat", 0, None)


async def test_a_duplicate_name_is_a_409_on_create_and_on_rename(
    shipping_merchant: Any, shipping_problem: Any, shipping_error_fields: Any
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-dupes")
    await merchant.create_rate(slug, **STANDARD)
    express = await merchant.create_rate(slug, name="Express", amount_minor=1_500)

    again = shipping_problem(
        await client.post(merchant.rates_url(slug), json={**STANDARD, "amount_minor": 1}, headers=merchant.headers),
        409,
    )
    assert shipping_error_fields(again) == {"name"}
    rename = await client.patch(
        merchant.rates_url(slug, express["id"]), json={"name": "Standard"}, headers=merchant.headers
    )
    shipping_problem(rename, 409)

    assert await merchant.rate_names(slug) == ["Standard", "Express"]
    assert (await client.get(merchant.rates_url(slug, express["id"]))).json()["name"] == "Express"


async def test_the_same_name_may_be_used_by_two_stores(shipping_merchant: Any) -> None:
    merchant = shipping_merchant
    first, second = await merchant.open_store("rate-one"), await merchant.open_store("rate-two")

    await merchant.create_rate(first, **STANDARD)
    await merchant.create_rate(second, **STANDARD)

    assert await merchant.rate_names(first) == await merchant.rate_names(second) == ["Standard"]


async def test_another_stores_rate_is_404_and_left_alone(shipping_merchant: Any, shipping_problem: Any) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    mine, other = await merchant.open_store("rate-mine"), await merchant.open_store("rate-other", "USD")
    theirs = await merchant.create_rate(other, **STANDARD)
    url = merchant.rates_url(mine, theirs["id"])

    shipping_problem(await client.get(url), 404)
    shipping_problem(await client.patch(url, json={"amount_minor": 1}, headers=merchant.headers), 404)
    shipping_problem(await client.delete(url, headers=merchant.headers), 404)
    shipping_problem(await client.get(merchant.rates_url(mine, str(uuid.uuid4()))), 404)
    shipping_problem(await client.get(merchant.rates_url(mine, "not-a-uuid")), 404)

    assert (await client.get(merchant.rates_url(other, theirs["id"]))).json() == theirs
    assert (await client.get(merchant.rates_url(mine))).json()["total"] == 0


async def test_the_routes_answer_404_while_the_plugin_is_disabled_for_the_store(
    shipping_merchant: Any, shipping_problem: Any
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-switch", enable=False)
    url = merchant.rates_url(slug)

    shipping_problem(await client.get(url), 404)
    shipping_problem(await client.post(url, json=STANDARD, headers=merchant.headers), 404)

    await merchant.set_plugin(slug, enabled=True)
    rate = await merchant.create_rate(slug, **STANDARD)
    await merchant.set_plugin(slug, enabled=False)

    shipping_problem(await client.get(url), 404)
    shipping_problem(await client.get(merchant.rates_url(slug, rate["id"])), 404)
    await merchant.set_plugin(slug, enabled=True)
    assert (await client.get(url)).json()["items"] == [rate], "disabling keeps the table"


async def test_reading_needs_settings_read_changing_needs_settings_write_and_strangers_get_404(
    shipping_merchant: Any, shipping_problem: Any, postgres: TestDatabase
) -> None:
    merchant, client = shipping_merchant, shipping_merchant.client
    slug = await merchant.open_store("rate-perms")
    rate = await merchant.create_rate(slug, **STANDARD)
    url = merchant.rates_url(slug, rate["id"])
    reader = await signed_in(client, "reader@rates.test")
    clerk = await signed_in(client, "clerk@rates.test")
    stranger = await signed_in(client, "stranger@rates.test")
    await add_member(postgres, slug, "reader@rates.test", "staff", {"settings:read": True})
    await add_member(postgres, slug, "clerk@rates.test", "staff")

    assert (await reader.get(merchant.rates_url(slug))).json()["items"] == [rate]
    shipping_problem(await reader.post(merchant.rates_url(slug), json=HEAVY, headers=reader.csrf), 403)
    shipping_problem(await reader.patch(url, json={"amount_minor": 1}, headers=reader.csrf), 403)
    shipping_problem(await reader.delete(url, headers=reader.csrf), 403)
    shipping_problem(await clerk.get(url), 403)
    shipping_problem(await stranger.get(url), 404)
    shipping_problem(await stranger.patch(url, json={"amount_minor": 1}, headers=stranger.csrf), 404)

    made = await client.post(
        f"/api/admin/{slug}/tokens", json={"name": "reader", "permissions": ["settings:read"]}, headers=merchant.headers
    )
    assert made.status_code == 201, made.text
    token: Any = AsyncTestClient(client.app, base_url=str(client.base_url))
    token.blocking_portal = client.blocking_portal
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    assert (await token.get(url, headers=bearer)).json() == rate
    shipping_problem(await token.patch(url, json={"amount_minor": 1}, headers=bearer), 403)

    assert (await client.get(url)).json() == rate


async def signed_in(client: AsyncTestClient[Litestar], email: str) -> Any:
    """Another browser of the app behind ``client``, signed up and in as ``email``; ``.csrf`` holds its header."""
    browser: Any = AsyncTestClient(client.app, base_url=str(client.base_url))
    browser.blocking_portal = client.blocking_portal
    await sign_up_and_in(browser, email)
    browser.csrf = await csrf_headers(browser)
    return browser


async def add_member(
    postgres: TestDatabase, slug: str, email: str, role: str, overrides: dict[str, bool] | None = None
) -> None:
    """Make ``email`` a member of store ``slug`` (as the superuser: arranging, not asserting)."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        await conn.execute(
            "INSERT INTO store_members (id, store_id, user_id, role, permissions) "
            "SELECT $1, s.id, u.id, $4, $5::jsonb FROM stores s, users u WHERE s.slug = $2 AND u.email = $3",
            uuid.uuid4(),
            slug,
            email,
            role,
            json.dumps(overrides or {}),
        )
    finally:
        await conn.close()
