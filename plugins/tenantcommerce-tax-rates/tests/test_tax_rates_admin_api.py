"""The admin HTTP API of the plugin (``/api/admin/{slug}/plugins/tax-rates/rates``) and its config through the core's
plugin admin API, over HTTP with a signed-in owner."""

from __future__ import annotations

from typing import Any

import asyncpg
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase

VAT = {"name": "VAT", "country": "DE", "rate_bp": 1900, "applies_to_shipping": True}


def fields_of(response: Any) -> list[str]:
    """The fields a problem+json answer names."""
    return [error["field"] for error in response.json().get("errors", [])]


async def total(owner: Any, slug: str) -> int:
    response = await owner.get(owner.rates(slug))
    assert response.status_code == 200, response.text
    count: int = response.json()["total"]
    return count


# --- create, read, list, change, delete -------------------------------------------------------------------------------


async def test_a_created_rate_is_answered_with_201_and_its_defaults(tax_owner: Any) -> None:
    response = await tax_owner.post(tax_owner.rates(tax_owner.a), {"name": "VAT", "country": "DE", "rate_bp": 1900})

    assert response.status_code == 201, response.text
    body = response.json()
    assert {key: body[key] for key in ("name", "country", "region", "rate_bp", "applies_to_shipping", "tax_code")} == {
        "name": "VAT",
        "country": "DE",
        "region": None,
        "rate_bp": 1900,
        "applies_to_shipping": False,
        "tax_code": None,
    }
    assert body["id"]
    assert body["created_at"] == body["updated_at"]


async def test_a_rate_is_read_by_id(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT, region="DE-BY", tax_code="food")

    response = await tax_owner.get(tax_owner.rates(tax_owner.a, f"/{created['id']}"))

    assert response.status_code == 200, response.text
    assert response.json() == created


async def test_the_list_is_a_page_ordered_by_country_then_region_and_filtered_by_country(tax_owner: Any) -> None:
    a = tax_owner.a
    await tax_owner.create_rate(a, name="District", country="US", region="US-CA", rate_bp=125)
    await tax_owner.create_rate(a, name="VAT", country="DE", rate_bp=1900)
    await tax_owner.create_rate(a, name="State", country="US", rate_bp=600)

    everything = (await tax_owner.get(tax_owner.rates(a))).json()
    first_page = (await tax_owner.get(tax_owner.rates(a), params={"limit": 2})).json()
    second_page = (await tax_owner.get(tax_owner.rates(a), params={"limit": 2, "offset": 2})).json()
    us_only = (await tax_owner.get(tax_owner.rates(a), params={"country": "US"})).json()

    assert [rate["name"] for rate in everything["items"]] == ["VAT", "State", "District"]
    assert (everything["total"], everything["limit"], everything["offset"]) == (3, 24, 0)
    assert [rate["name"] for rate in first_page["items"] + second_page["items"]] == ["VAT", "State", "District"]
    assert first_page["total"] == second_page["total"] == 3
    assert [rate["name"] for rate in us_only["items"]] == ["State", "District"]
    assert us_only["total"] == 2


async def test_a_patch_changes_only_the_fields_given(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT)

    response = await tax_owner.patch(tax_owner.rates(tax_owner.a, f"/{created['id']}"), {"rate_bp": 700})

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["rate_bp"] == 700
    assert {key: changed[key] for key in ("name", "country", "applies_to_shipping")} == {
        "name": "VAT",
        "country": "DE",
        "applies_to_shipping": True,
    }
    assert changed["updated_at"] >= created["updated_at"]
    assert (await tax_owner.get(tax_owner.rates(tax_owner.a, f"/{created['id']}"))).json() == changed


async def test_a_patch_with_null_makes_a_regional_coded_rate_whole_country_for_every_line(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT, region="DE-BY", tax_code="food")

    response = await tax_owner.patch(
        tax_owner.rates(tax_owner.a, f"/{created['id']}"), {"region": None, "tax_code": None}
    )

    assert response.status_code == 200, response.text
    assert (response.json()["region"], response.json()["tax_code"]) == (None, None)


async def test_a_deleted_rate_is_gone(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT)
    url = tax_owner.rates(tax_owner.a, f"/{created['id']}")

    deleted = await tax_owner.delete(url)

    assert deleted.status_code == 204, deleted.text
    assert (await tax_owner.get(url)).status_code == 404
    assert (await tax_owner.delete(url)).status_code == 404
    assert await total(tax_owner, tax_owner.a) == 0


async def test_every_change_is_in_the_stores_audit_log(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT)
    url = tax_owner.rates(tax_owner.a, f"/{created['id']}")
    await tax_owner.patch(url, {"rate_bp": 700})
    await tax_owner.delete(url)

    entries = (await tax_owner.get(f"/api/admin/{tax_owner.a}/audit")).json()["items"]

    ours = [entry for entry in entries if entry["target_type"] == "tax_rate"]
    assert [entry["action"] for entry in ours] == ["tax_rate.deleted", "tax_rate.updated", "tax_rate.created"]
    assert {entry["target_id"] for entry in ours} == {created["id"]}
    assert ours[1]["changes"] == {"rate_bp": {"from": 1900, "to": 700}}


# --- bad input --------------------------------------------------------------------------------------------------------


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({**VAT, "rate_bp": "1900"}, "rate_bp"),  # a string is not an integer, however it looks
    ({**VAT, "rate_bp": 19.0}, "rate_bp"),
    ({**VAT, "rate_bp": -1}, "rate_bp"),
    ({**VAT, "rate_bp": 100_001}, "rate_bp"),
    ({**VAT, "rate_bp": None}, "rate_bp"),
    ({**VAT, "country": "de"}, "country"),
    ({**VAT, "country": "DEU"}, "country"),
    ({**VAT, "region": "BY"}, "region"),
    ({**VAT, "region": "DE-BAYERN"}, "region"),
    ({**VAT, "applies_to_shipping": "yes"}, "applies_to_shipping"),
    ({**VAT, "tax_code": ""}, "tax_code"),
    ({**VAT, "tax_code": "food levy"}, "tax_code"),
    ({**VAT, "name": ""}, "name"),
    ({**VAT, "name": "x" * 101}, "name"),
    ({**VAT, "name": "V\u0000T"}, "name"),
    ({"country": "DE", "rate_bp": 1900}, "name"),
    ({**VAT, "percent": 19}, "percent"),
]


def refusals(answers: list[tuple[object, Any]], status: int, field: str | None = None) -> list[str]:
    """The answers (per input) that are not a problem+json ``status`` naming ``field`` (each input's own field when
    the input is an ``(input, field)`` pair)."""
    wrong = []
    for case, response in answers:
        expected = case[1] if field is None and isinstance(case, tuple) else field
        if (
            response.status_code != status
            or not response.headers["content-type"].startswith("application/problem+json")
            or (expected is not None and expected not in fields_of(response))
        ):
            wrong.append(f"{case!r}: {response.status_code} {response.text}")
    return wrong


async def test_bodies_that_do_not_match_the_schema_answer_400_naming_the_field_and_write_nothing(
    tax_owner: Any,
) -> None:
    answers = [((body, field), await tax_owner.post(tax_owner.rates(tax_owner.a), body)) for body, field in BAD_BODIES]

    assert not (wrong := refusals(answers, 400)), "\n".join(wrong)
    assert await total(tax_owner, tax_owner.a) == 0


async def test_bad_patches_answer_400_and_change_nothing(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT)
    url = tax_owner.rates(tax_owner.a, f"/{created['id']}")
    bad = [({"rate_bp": "700"}, "rate_bp"), ({"region": "by"}, "region"), ({"id": "x"}, "id"),
           ({"country": None}, "country"), ({"name": None}, "name")]  # fmt: skip

    answers = [((body, field), await tax_owner.patch(url, body)) for body, field in bad]

    assert not (wrong := refusals(answers, 400)), "\n".join(wrong)
    assert (await tax_owner.get(url)).json() == created


async def test_bad_list_parameters_answer_400(tax_owner: Any) -> None:
    queries: list[dict[str, Any]] = [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"country": "de"}, {"limit": "x"}]

    answers = [(query, await tax_owner.get(tax_owner.rates(tax_owner.a), params=query)) for query in queries]

    assert not (wrong := refusals(answers, 400)), "\n".join(wrong)


async def test_a_region_outside_the_rates_country_answers_422(tax_owner: Any) -> None:
    refused = await tax_owner.post(tax_owner.rates(tax_owner.a), {**VAT, "region": "US-CA"})
    created = await tax_owner.create_rate(tax_owner.a, **VAT, region="DE-BY")
    moved = await tax_owner.patch(tax_owner.rates(tax_owner.a, f"/{created['id']}"), {"country": "AT"})

    for response in (refused, moved):
        assert response.status_code == 422, response.text
        assert fields_of(response) == ["region"]
    assert (await tax_owner.get(tax_owner.rates(tax_owner.a, f"/{created['id']}"))).json() == created
    assert await total(tax_owner, tax_owner.a) == 1


async def test_a_second_rate_of_the_same_name_country_and_region_answers_409(tax_owner: Any) -> None:
    a = tax_owner.a
    await tax_owner.create_rate(a, **VAT)
    await tax_owner.create_rate(a, **VAT, region="DE-BY")  # the same name for a region is another rate
    other = await tax_owner.create_rate(a, **{**VAT, "name": "Reduced VAT", "rate_bp": 700})

    duplicate = await tax_owner.post(tax_owner.rates(a), {**VAT, "rate_bp": 700})
    renamed = await tax_owner.patch(tax_owner.rates(a, f"/{other['id']}"), {"name": "VAT"})

    for response in (duplicate, renamed):
        assert response.status_code == 409, response.text
        assert fields_of(response) == ["name"]
    assert await total(tax_owner, a) == 3
    assert (await tax_owner.get(tax_owner.rates(a, f"/{other['id']}"))).json()["name"] == "Reduced VAT"


# --- other stores, missing rates, permissions, enablement -------------------------------------------------------------


async def test_another_stores_rate_answers_404_and_stays_untouched(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT)
    in_b = tax_owner.rates(tax_owner.b, f"/{created['id']}")

    answers = [
        await tax_owner.get(in_b),
        await tax_owner.patch(in_b, {"rate_bp": 0}),
        await tax_owner.delete(in_b),
    ]

    assert [response.status_code for response in answers] == [404, 404, 404]
    assert await total(tax_owner, tax_owner.b) == 0
    assert (await tax_owner.get(tax_owner.rates(tax_owner.a, f"/{created['id']}"))).json() == created


async def test_a_missing_rate_answers_404(tax_owner: Any) -> None:
    answers = []
    for rate_id in ("0190f0a8-6b2a-7c5e-8a6e-2f1d3c4b5a69", "not-a-uuid"):
        url = tax_owner.rates(tax_owner.a, f"/{rate_id}")
        answers += [
            (f"GET {rate_id}", await tax_owner.get(url)),
            (f"PATCH {rate_id}", await tax_owner.patch(url, {"rate_bp": 1})),
            (f"DELETE {rate_id}", await tax_owner.delete(url)),
        ]

    assert not (wrong := refusals(answers, 404)), "\n".join(wrong)


async def test_changing_rates_needs_settings_write(tax_owner: Any, postgres: TestDatabase) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        await conn.execute(
            "UPDATE store_members SET permissions = '{\"settings:write\": false}'::jsonb "
            "WHERE store_id = (SELECT id FROM stores WHERE slug = $1)",
            tax_owner.a,
        )
    finally:
        await conn.close()

    read = await tax_owner.get(tax_owner.rates(tax_owner.a))
    write = await tax_owner.post(tax_owner.rates(tax_owner.a), VAT)

    assert read.status_code == 200, read.text
    assert write.status_code == 403, write.text
    assert "settings:write" in write.json()["detail"]
    assert await total(tax_owner, tax_owner.a) == 0


async def test_an_api_token_works_within_its_permissions_and_its_own_store(tax_owner: Any) -> None:
    created = await tax_owner.post(
        f"/api/admin/{tax_owner.a}/tokens", {"name": "tax reader", "permissions": ["settings:read"]}
    )
    assert created.status_code in (200, 201), created.text
    bearer = {"Authorization": f"Bearer {created.json()['token']}"}
    client = tax_owner.client
    client.cookies.clear()  # the token alone, no session

    read = await client.get(tax_owner.rates(tax_owner.a), headers=bearer)
    write = await client.post(tax_owner.rates(tax_owner.a), json=VAT, headers=bearer)
    other_store = await client.get(tax_owner.rates(tax_owner.b), headers=bearer)

    assert read.status_code == 200, read.text
    assert write.status_code == 403, write.text
    assert "settings:write" in write.json()["detail"], "refused for the permission (bearer requests need no CSRF)"
    assert other_store.status_code == 404, other_store.text


async def test_the_routes_answer_404_while_the_plugin_is_disabled(tax_owner: Any) -> None:
    created = await tax_owner.create_rate(tax_owner.a, **VAT)
    disabled = await tax_owner.configure(tax_owner.a, {"enabled": False})
    assert disabled.status_code == 200, disabled.text

    answers = [
        await tax_owner.get(tax_owner.rates(tax_owner.a)),
        await tax_owner.post(tax_owner.rates(tax_owner.a), {**VAT, "name": "Other"}),
        await tax_owner.get(tax_owner.rates(tax_owner.a, f"/{created['id']}")),
        await tax_owner.delete(tax_owner.rates(tax_owner.a, f"/{created['id']}")),
    ]

    assert [response.status_code for response in answers] == [404, 404, 404, 404]
    assert (await tax_owner.configure(tax_owner.a, {"enabled": True})).status_code == 200
    assert await total(tax_owner, tax_owner.a) == 1, "the rates survive disabling"


async def test_someone_signed_out_gets_401(tax_owner: Any) -> None:
    await tax_owner.post("/api/auth/logout", {})
    assert (await tax_owner.get(tax_owner.rates(tax_owner.a))).status_code == 401


# --- config through the core's plugin admin API -----------------------------------------------------------------------


async def test_invalid_config_answers_422_naming_the_field_and_is_not_saved(tax_owner: Any) -> None:
    bad = [
        ({"prices_include_tax": "yes"}, "config.prices_include_tax"),
        ({"prices_include_tax": None}, "config.prices_include_tax"),
        ({"rounding": "down"}, "config.rounding"),
        ({"rounding": 1}, "config.rounding"),
        ({"prices_include_tax": True, "round": "half_up"}, "config.round"),
    ]

    answers = [((config, field), await tax_owner.configure(tax_owner.a, {"config": config})) for config, field in bad]

    assert not (wrong := refusals(answers, 422)), "\n".join(wrong)
    assert (await tax_owner.plugin_view(tax_owner.a))["config"] == {}


async def test_valid_config_is_saved_and_the_settings_schema_is_published(tax_owner: Any) -> None:
    config = {"prices_include_tax": True, "rounding": "half_even"}

    response = await tax_owner.configure(tax_owner.a, {"config": config})

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["config"] == config
    assert view["enabled"] is True
    schema = view["settings_schema"]
    assert "prices_include_tax" in str(schema)
    assert "half_even" in str(schema)


async def test_the_plugin_view_warns_while_the_store_has_no_rate(tax_owner: Any) -> None:
    before = (await tax_owner.plugin_view(tax_owner.a))["warnings"]
    await tax_owner.create_rate(tax_owner.a, **VAT)
    after = (await tax_owner.plugin_view(tax_owner.a))["warnings"]

    assert [warning["plugin_id"] for warning in before] == ["tax-rates"]
    assert after == []
