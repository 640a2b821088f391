"""``find_usable`` accepts a code a customer may use now for this subtotal and refuses every other with 422 naming
``discount_code`` and saying why; another store's code answers exactly like an unknown one."""

from __future__ import annotations

import datetime

import pytest

from tenantcommerce.discounts.services import find_usable
from tenantcommerce.errors import BusinessRuleError
from tenantcommerce.tenancy.context import StoreContext, use_store
from tenantcommerce.testing.stores import make_store

NOW = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


async def find(database, store: StoreContext, code: str, subtotal: int = 10_000, now: datetime.datetime = NOW):
    with use_store(store):
        async with database.session() as session:
            return await find_usable(session, code, subtotal_minor=subtotal, now=now)


async def refusal(database, store: StoreContext, code: str, subtotal: int = 10_000, now=NOW) -> BusinessRuleError:
    with pytest.raises(BusinessRuleError) as caught:
        await find(database, store, code, subtotal, now)
    error = caught.value
    assert error.status_code == 422
    assert [e.field for e in error.errors] == ["discount_code"]
    return error


async def test_a_usable_code_is_found_whatever_its_case_and_spaces(tc_database, two_stores, add_discount) -> None:
    made = await add_discount(two_stores.a.store, code="SUMMER-10", min_subtotal_minor=5000, usage_limit=3)
    found = await find(tc_database, two_stores.a.store, "  summer-10 ")
    assert (found.id, found.code) == (made.id, "SUMMER-10")


async def test_an_unknown_code_is_refused(tc_database, two_stores) -> None:
    error = await refusal(tc_database, two_stores.a.store, "NOPE")
    assert error.errors[0].message == "is not a valid code"


async def test_another_stores_code_answers_exactly_like_an_unknown_one(tc_database, two_stores, add_discount) -> None:
    await add_discount(two_stores.b.store, code="BRAVO-ONLY")
    foreign = await refusal(tc_database, two_stores.a.store, "BRAVO-ONLY")
    unknown = await refusal(tc_database, two_stores.a.store, "NO-SUCH-CODE")
    assert (foreign.detail, foreign.errors) == (unknown.detail, unknown.errors)
    assert "BRAVO" not in foreign.detail
    # ... while bravo's own checkout finds it.
    assert (await find(tc_database, two_stores.b.store, "bravo-only")).code == "BRAVO-ONLY"


@pytest.mark.parametrize("code", ["", "   ", "two words", "x" * 500, "nul\x00code", "ÜBER", "-LEADING"])
async def test_malformed_codes_are_unknown_codes(tc_database, two_stores, code: str) -> None:
    error = await refusal(tc_database, two_stores.a.store, code)
    assert error.errors[0].message == "is not a valid code"


async def test_an_inactive_code_is_refused(tc_database, two_stores, add_discount) -> None:
    await add_discount(two_stores.a.store, code="PAUSED", active=False)
    error = await refusal(tc_database, two_stores.a.store, "PAUSED")
    assert error.errors[0].message == "is not active"


async def test_a_code_not_started_yet_is_refused_until_its_start(tc_database, two_stores, add_discount) -> None:
    store = two_stores.a.store
    await add_discount(store, code="LATER", starts_at=NOW + HOUR)
    error = await refusal(tc_database, store, "LATER")
    assert error.errors[0].message == f"is valid from {(NOW + HOUR).isoformat()}"
    assert (await find(tc_database, store, "LATER", now=NOW + HOUR)).code == "LATER"  # from its first instant


async def test_an_ended_code_is_refused_from_its_end(tc_database, two_stores, add_discount) -> None:
    store = two_stores.a.store
    await add_discount(store, code="OVER", starts_at=NOW - 2 * HOUR, ends_at=NOW)
    error = await refusal(tc_database, store, "OVER")
    assert error.errors[0].message == f"expired at {NOW.isoformat()}"
    assert (await find(tc_database, store, "OVER", now=NOW - datetime.timedelta(seconds=1))).code == "OVER"


async def test_a_subtotal_below_the_minimum_is_refused_naming_the_minimum(
    tc_database, two_stores, add_discount
) -> None:
    await add_discount(two_stores.a.store, code="BIG-BASKET", min_subtotal_minor=5000)
    await add_discount(two_stores.b.store, code="BIG-BASKET", min_subtotal_minor=7550)
    error = await refusal(tc_database, two_stores.a.store, "BIG-BASKET", subtotal=4999)
    assert error.errors[0].message == "needs a subtotal of at least 50.00 EUR"
    assert "50.00 EUR" in error.detail
    assert (await find(tc_database, two_stores.a.store, "BIG-BASKET", subtotal=5000)).code == "BIG-BASKET"
    error = await refusal(tc_database, two_stores.b.store, "BIG-BASKET", subtotal=0)
    assert error.errors[0].message == "needs a subtotal of at least 75.50 USD"


async def test_the_minimum_is_formatted_in_the_currencys_minor_unit(tc_database, add_discount) -> None:
    yen = await make_store(tc_database, "yen-shop", "JPY", products=0)
    await add_discount(yen.store, code="SEN", min_subtotal_minor=1000)
    error = await refusal(tc_database, yen.store, "SEN", subtotal=999)
    assert error.errors[0].message == "needs a subtotal of at least 1000 JPY"


async def test_a_used_up_code_is_refused(tc_database, two_stores, add_discount) -> None:
    store = two_stores.a.store
    await add_discount(store, code="ONCE-MORE", usage_limit=2, times_used=1)
    assert (await find(tc_database, store, "ONCE-MORE")).times_used == 1
    await add_discount(store, code="GONE", usage_limit=2, times_used=2)
    error = await refusal(tc_database, store, "GONE")
    assert error.errors[0].message == "has been used up"
