"""When the payment cannot be created, completing gives back everything it took: the stock's hold, the discount's
use; no order, no payment; the checkout is open again and the customer may retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest

from tenantcommerce.settings import Settings
from tenantcommerce.testing import TestDatabase
from tenantcommerce.testing.stores import TwoStores


@pytest.fixture
def tc_settings(postgres: TestDatabase) -> Settings:
    """JSON logs, and a one-second limit on plugin calls (a gateway that sleeps longer times out)."""
    return msgspec.structs.replace(postgres.settings, log_format="json", plugin_timeout=1.0)


async def assert_nothing_held(
    admin_conn: asyncpg.Connection, guest: Any, checkout_id: str, variant: str, discount: UUID | None = None
) -> None:
    row = await admin_conn.fetchrow("SELECT inventory, reserved FROM product_variants WHERE id = $1", UUID(variant))
    assert (row["inventory"], row["reserved"]) == (5, 0)
    assert await admin_conn.fetchval("SELECT count(*) FROM inventory_reservations") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM orders") == 0
    assert await admin_conn.fetchval("SELECT count(*) FROM payments") == 0
    if discount is not None:
        assert await admin_conn.fetchval("SELECT times_used FROM discounts WHERE id = $1", discount) == 0
    read = await guest.call("GET", f"checkout/{checkout_id}")
    assert (read.json()["status"], read.json()["order"], read.json()["expires_at"]) == ("open", None, None)


@pytest.mark.parametrize(
    ("step", "status", "kind"),
    [("raise", 502, "plugin-failed"), ("sleep:3", 504, "plugin-timeout")],
)
async def test_a_gateway_that_crashes_or_times_out_leaves_nothing_held(
    step: str,
    status: int,
    kind: str,
    shop: TwoStores,
    scripted: Any,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    add_discount: Callable[..., Awaitable[UUID]],
    admin_conn: asyncpg.Connection,
    problem: Callable[..., dict[str, Any]],
) -> None:
    discount = await add_discount(shop.a, "ONCE", "percentage", 1000, usage_limit=1)
    variant = await variant_id(shop.a)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(variant, 2)], method="scripted")
    await guest.update(checkout_id, {"discount_code": "ONCE"})
    scripted.script = [step]
    failed = await guest.complete(checkout_id)
    problem(failed, status, kind)
    await assert_nothing_held(admin_conn, guest, checkout_id, variant, discount)
    # The customer retries: it goes through, the code's one use counted once.
    retried = await guest.complete(checkout_id)
    assert retried.status_code == 200, retried.text
    assert retried.json()["order"]["number"] == 1001
    assert await admin_conn.fetchval("SELECT times_used FROM discounts WHERE id = $1", discount) == 1
    # 2000 - 10 % = 1800, + 20 % tax = 360, + 500 shipping: asked for the same amount both times.
    assert [request.amount_minor for request in scripted.calls] == [2660, 2660]


async def test_a_failed_payment_answers_422_and_leaves_nothing_held(
    shop: TwoStores,
    scripted: Any,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    problem: Callable[..., dict[str, Any]],
) -> None:
    variant = await variant_id(shop.a)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(variant, 2)], method="scripted")
    scripted.script = ["fail"]
    failed = await guest.complete(checkout_id)
    body = problem(failed, 422)
    assert body["errors"] == [{"field": "payment_method", "message": "card declined"}]
    await assert_nothing_held(admin_conn, guest, checkout_id, variant)


async def test_a_gateway_that_refuses_leaves_nothing_held(
    shop: TwoStores,
    scripted: Any,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    problem: Callable[..., dict[str, Any]],
) -> None:
    variant = await variant_id(shop.a)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(variant, 2)], method="scripted")
    scripted.script = ["refuse"]
    refused = await guest.complete(checkout_id)
    assert [error["field"] for error in problem(refused, 422)["errors"]] == ["payment_method"]
    await assert_nothing_held(admin_conn, guest, checkout_id, variant)


async def test_a_manual_method_the_store_has_not_turned_on_is_neither_offered_nor_accepted(
    shop: TwoStores,
    shopper: Callable[[str], Any],
    variant_id: Callable[..., Awaitable[str]],
    admin_conn: asyncpg.Connection,
    problem: Callable[..., dict[str, Any]],
) -> None:
    # The store configured bank transfer only; the plugin also has pay on delivery, which must not be offered.
    variant = await variant_id(shop.a)
    guest = shopper("alpha")
    checkout_id = await guest.ready([(variant, 2)])
    read = await guest.call("GET", f"checkout/{checkout_id}")
    assert [method["id"] for method in read.json()["payment_methods"]] == ["bank-transfer"]
    before = read.json()["version"]
    chosen = await guest.call("PATCH", f"checkout/{checkout_id}", {"payment_method": "cash-on-delivery"})
    assert [error["field"] for error in problem(chosen, 422)["errors"]] == ["payment_method"]
    refused = await guest.complete(checkout_id, {"payment_method": "cash-on-delivery"})
    assert [error["field"] for error in problem(refused, 422)["errors"]] == ["payment_method"]
    after = await guest.call("GET", f"checkout/{checkout_id}")
    assert (after.json()["version"], after.json()["payment_method"]) == (before, "bank-transfer"), "nothing changed"
    await assert_nothing_held(admin_conn, guest, checkout_id, variant)
    completed = await guest.complete(checkout_id)
    assert completed.status_code == 200, completed.text
