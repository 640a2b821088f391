"""Platform operators: made by the CLI, they list every store and suspend or reactivate one; others see nothing."""

from __future__ import annotations

from click.testing import CliRunner

from tenantcommerce.auth.services import make_operator
from tenantcommerce.cli import main
from tenantcommerce.testing import TestDatabase, TwoStores

PASSWORD = "operator password 1"


async def _sign_in(client, email: str) -> dict[str, str]:
    await client.get("/api/auth/csrf")
    headers = {"X-CSRFToken": client.cookies.get("csrftoken")}
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD}, headers=headers)
    assert response.status_code == 200, response.text
    return headers


async def test_an_operator_lists_and_suspends_stores(client, tc_database, two_stores: TwoStores) -> None:
    await make_operator(tc_database, "ops@platform.test", PASSWORD)
    headers = await _sign_in(client, "ops@platform.test")

    listed = (await client.get("/api/platform/stores")).json()
    assert {item["slug"] for item in listed["items"]} == {"alpha", "bravo"}
    assert listed["total"] == 2

    suspended = await client.post("/api/platform/stores/alpha/suspend", headers=headers)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    assert (await client.get("/api/storefront/alpha/products")).status_code == 403
    assert (await client.get("/api/storefront/bravo/products")).status_code == 200

    activated = await client.post("/api/platform/stores/alpha/activate", headers=headers)
    assert activated.json()["status"] == "active"
    assert (await client.get("/api/storefront/alpha/products")).status_code == 200


async def test_the_platform_api_is_invisible_to_everyone_else(client, tc_database, two_stores: TwoStores) -> None:
    assert (await client.get("/api/platform/stores")).status_code == 401
    await client.get("/api/auth/csrf")
    headers = {"X-CSRFToken": client.cookies.get("csrftoken")}
    await client.post("/api/auth/register", json={"email": "merchant@shop.test", "password": PASSWORD}, headers=headers)
    await _sign_in(client, "merchant@shop.test")
    assert (await client.get("/api/platform/stores")).status_code == 404
    response = await client.post("/api/platform/stores/alpha/suspend", headers=headers)
    assert response.status_code == 404
    assert (await client.get("/api/storefront/alpha/products")).status_code == 200


def test_create_operator_from_the_cli(postgres: TestDatabase) -> None:
    env = {"TC_DATABASE_URL": postgres.admin_url.render_as_string(hide_password=False)}
    runner = CliRunner()
    first = runner.invoke(main, ["users", "create-operator", "--email", "Boss@Platform.test"], env=env)
    assert first.exit_code == 0, first.output
    assert "Created operator boss@platform.test" in first.output
    again = runner.invoke(main, ["users", "create-operator", "--email", "boss@platform.test"], env=env)
    assert again.exit_code == 0
    assert "Updated operator" in again.output
    bad = runner.invoke(main, ["users", "create-operator", "--email", "not-an-email"], env=env)
    assert bad.exit_code == 1
    assert "e-mail" in bad.output
