"""``TC_DISABLED_PLUGINS``: a blocked plugin is not listed, and the lists still answer."""

from __future__ import annotations

import msgspec
import pytest

from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    return msgspec.structs.replace(postgres.settings, disabled_plugins="ghost-plugin")


async def test_the_admin_list_answers_without_the_blocked_plugin(greeter, open_shop) -> None:
    shop = await open_shop("blocked-shop")

    response = await shop.owner.get(f"{shop.admin}/plugins", params={"limit": 100})

    assert response.status_code == 200, response.text
    ids = [item["plugin"]["id"] for item in response.json()["items"]]
    assert "e2e-greeter" in ids
    assert "ghost-plugin" not in ids
