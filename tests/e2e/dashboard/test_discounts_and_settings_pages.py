"""Discounts and settings (store and plugins, with config forms generated from each plugin's JSON Schema)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

pytestmark = pytest.mark.asyncio


async def test_create_toggle_and_delete_a_discount(shop: Any, db: asyncpg.Connection) -> None:
    empty = await shop.owner.get(shop.url("discounts"))
    assert empty.status_code == 200
    assert "No discounts yet." in empty.text
    created = await shop.owner.submit(
        shop.url("discounts"),
        {"code": "summer10", "kind": "percentage", "value": "10", "min_subtotal": "20.00", "active": "on"},
    )
    assert created.status_code == 303, created.text
    row = await db.fetchrow(
        "SELECT id, code, value, min_subtotal_minor, active FROM discounts WHERE store_id = $1", shop.id
    )
    assert (row["code"], row["value"], row["min_subtotal_minor"], row["active"]) == ("SUMMER10", 1000, 2000, True)
    filtered = await shop.owner.get(shop.url("discounts?q=summer&active="))
    assert filtered.status_code == 200
    assert "SUMMER10" in filtered.text
    assert "SUMMER10" not in (await shop.owner.get(shop.url("discounts?active=false"))).text
    listing = await shop.owner.get(created.headers["location"])
    assert "Discount created." in listing.text
    assert "SUMMER10" in listing.text
    off = await shop.owner.submit(shop.url(f"discounts/{row['id']}/active"), {})
    assert off.status_code == 303
    assert await db.fetchval("SELECT active FROM discounts WHERE id = $1", row["id"]) is False
    gone = await shop.owner.submit(shop.url(f"discounts/{row['id']}/delete"))
    assert gone.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM discounts WHERE store_id = $1", shop.id) == 0


async def test_discount_errors_sit_next_to_their_fields(shop: Any, db: asyncpg.Connection) -> None:
    bad_code = await shop.owner.submit(
        shop.url("discounts"), {"code": "no spaces!", "kind": "percentage", "value": "5"}
    )
    assert bad_code.status_code in (400, 422)
    assert 'id="code-error"' in bad_code.text
    too_much = await shop.owner.submit(shop.url("discounts"), {"code": "HALF", "kind": "percentage", "value": "150"})
    assert too_much.status_code in (400, 422)
    assert 'id="value-error"' in too_much.text
    assert 'value="HALF"' in too_much.text
    assert await db.fetchval("SELECT count(*) FROM discounts WHERE store_id = $1", shop.id) == 0


async def test_store_settings_are_saved_and_audited(shop: Any, db: asyncpg.Connection) -> None:
    page = await shop.owner.get(shop.url("settings"))
    assert page.status_code == 200
    assert 'name="theme"' in page.text
    assert "manual-payments" in page.text
    saved = await shop.owner.submit(
        shop.url("settings"),
        {"name": "Alpha Shop", "contact_email": "hi@alpha.test", "currency": "EUR", "theme": "default"},
    )
    assert saved.status_code == 303, saved.text
    assert await db.fetchval("SELECT name FROM stores WHERE id = $1", shop.id) == "Alpha Shop"
    assert (
        await db.fetchval("SELECT count(*) FROM audit_log WHERE store_id = $1 AND action = 'settings.updated'", shop.id)
        == 1
    )
    after = await shop.owner.get(saved.headers["location"])
    assert "Settings saved." in after.text
    assert "Alpha Shop" in after.text


async def test_currency_cannot_change_while_prices_exist(shop: Any, db: asyncpg.Connection) -> None:
    refused = await shop.owner.submit(
        shop.url("settings"), {"name": "Alpha", "contact_email": "", "currency": "USD", "theme": "default"}
    )
    assert refused.status_code == 422
    assert 'id="currency-error"' in refused.text
    assert await db.fetchval("SELECT currency FROM stores WHERE id = $1", shop.id) == "EUR"


async def test_plugin_config_form_from_its_schema(shop: Any, db: asyncpg.Connection) -> None:
    page = await shop.owner.get(shop.url("settings/plugins/manual-payments"))
    assert page.status_code == 200
    # Generated from the plugin's settings Struct: a nested object, a boolean, an optional string.
    assert 'name="config.bank_transfer.iban"' in page.text
    assert 'value="DE89370400440532013000"' in page.text
    assert 'name="config.cash_on_delivery"' in page.text
    assert 'name="config.reference_prefix"' in page.text
    bad = await shop.owner.submit(
        shop.url("settings/plugins/manual-payments"),
        {
            "enabled": "on",
            "priority": "0",
            "config.bank_transfer.account_holder": "Alpha GmbH",
            "config.bank_transfer.iban": "not an iban",
            "config.reference_prefix": "PAY",
        },
    )
    assert bad.status_code == 422, bad.text
    assert 'id="config.bank_transfer.iban-error"' in bad.text
    assert 'value="not an iban"' in bad.text
    good = await shop.owner.submit(
        shop.url("settings/plugins/manual-payments"),
        {"enabled": "on", "priority": "5", "config.cash_on_delivery": "on", "config.reference_prefix": "SHOP"},
    )
    assert good.status_code == 303, good.text
    row = await db.fetchrow(
        "SELECT enabled, priority, config FROM store_plugins WHERE store_id = $1 AND plugin_id = 'manual-payments'",
        shop.id,
    )
    config = json.loads(row["config"]) if isinstance(row["config"], str) else row["config"]
    assert row["enabled"] is True
    assert row["priority"] == 5
    assert config["bank_transfer"] is None  # all its inputs left empty: turned off
    assert config["cash_on_delivery"] is True
    assert config["reference_prefix"] == "SHOP"


async def test_staff_do_not_see_settings_and_are_refused(shop: Any, member: Callable[..., Awaitable[Any]]) -> None:
    staff = await member(shop.id, "staff@alpha.test", "staff")
    overview = await staff.get(shop.url())
    assert f'href="/admin/{shop.slug}/settings"' not in overview.text
    assert f'href="/admin/{shop.slug}/discounts"' in overview.text
    assert (await staff.get(shop.url("settings"))).status_code == 403
    refused = await staff.submit(shop.url("settings"), {"name": "Taken over"})
    assert refused.status_code == 403
    viewer_admin = await member(shop.id, "reader@alpha.test", "staff", {"settings:read": True})
    plugin = await viewer_admin.get(shop.url("settings/plugins/manual-payments"))
    assert plugin.status_code == 200
    assert "Save plugin" not in plugin.text
    assert re.search(r"<fieldset[^>]*disabled", plugin.text)
    assert (await viewer_admin.submit(shop.url("settings/plugins/manual-payments"), {})).status_code == 403


async def test_edit_a_discount(shop: Any, db: asyncpg.Connection) -> None:
    await shop.owner.submit(
        shop.url("discounts"), {"code": "TENOFF", "kind": "fixed_amount", "value": "10", "active": "on"}
    )
    discount_id = await db.fetchval("SELECT id FROM discounts WHERE store_id = $1", shop.id)
    page = await shop.owner.get(shop.url(f"discounts/{discount_id}"))
    assert page.status_code == 200
    assert 'value="10.00"' in page.text
    saved = await shop.owner.submit(
        shop.url(f"discounts/{discount_id}"),
        {"code": "TENOFF", "value": "12.50", "min_subtotal": "30", "usage_limit": "3", "starts_at": "2026-12-01T08:00"},
    )
    assert saved.status_code == 303, saved.text
    row = await db.fetchrow(
        "SELECT value, min_subtotal_minor, usage_limit, active, starts_at FROM discounts WHERE id = $1", discount_id
    )
    assert (row["value"], row["min_subtotal_minor"], row["usage_limit"], row["active"]) == (1250, 3000, 3, False)
    assert row["starts_at"].isoformat() == "2026-12-01T08:00:00+00:00"
    cleared = await shop.owner.submit(
        shop.url(f"discounts/{discount_id}"), {"code": "TENOFF", "value": "12.50", "active": "on"}
    )
    assert cleared.status_code == 303
    assert await db.fetchval("SELECT usage_limit FROM discounts WHERE id = $1", discount_id) is None
    bad = await shop.owner.submit(shop.url(f"discounts/{discount_id}"), {"code": "TENOFF", "value": "0"})
    assert bad.status_code in (400, 422)
    assert 'id="value-error"' in bad.text
