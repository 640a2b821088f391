"""The three order state machines, every pair of states legal or illegal, and the rules built on them (no I/O).

The legal moves are written out here on purpose: a change to a transition table fails these tests until the table
here, and the one in docs/orders.md, say the same.
"""

from __future__ import annotations

import itertools

import pytest

from tenantcommerce.errors import Conflict
from tenantcommerce.orders import states
from tenantcommerce.orders.models import FULFILLMENT_STATUSES, ORDER_STATUSES, PAYMENT_STATUSES
from tenantcommerce.orders.states import LineCounts

LEGAL = {
    "status": {("open", "completed"), ("open", "cancelled")},
    "payment_status": {
        ("pending", "authorized"),
        ("pending", "paid"),
        ("pending", "failed"),
        ("pending", "voided"),
        ("authorized", "paid"),
        ("authorized", "failed"),
        ("authorized", "voided"),
        ("paid", "partially_refunded"),
        ("paid", "refunded"),
        ("partially_refunded", "partially_refunded"),
        ("partially_refunded", "refunded"),
        ("failed", "paid"),
        ("failed", "voided"),
    },
    "fulfillment_status": {
        ("unfulfilled", "partially_fulfilled"),
        ("unfulfilled", "fulfilled"),
        ("partially_fulfilled", "partially_fulfilled"),
        ("partially_fulfilled", "fulfilled"),
        ("partially_fulfilled", "returned"),
        ("fulfilled", "returned"),
    },
}
STATES = {"status": ORDER_STATUSES, "payment_status": PAYMENT_STATUSES, "fulfillment_status": FULFILLMENT_STATUSES}
PAIRS = [(name, a, b) for name, values in STATES.items() for a, b in itertools.product(values, repeat=2)]


def test_each_machine_has_exactly_the_states_the_database_allows() -> None:
    for name, values in STATES.items():
        assert set(states.MACHINES[name].states) == set(values), name


@pytest.mark.parametrize(("machine", "current", "target"), PAIRS, ids=[f"{m}:{a}->{b}" for m, a, b in PAIRS])
def test_every_transition_is_legal_or_refused_with_the_reason(machine: str, current: str, target: str) -> None:
    table = states.MACHINES[machine]
    if (current, target) in LEGAL[machine]:
        states.transition(table, current, target)
        assert table.allows(current, target)
        return
    with pytest.raises(Conflict) as refused:
        states.transition(table, current, target, action="do it")
    assert refused.value.status_code == 409
    assert refused.value.detail == f"cannot do it: {table.noun} is {current.replace('_', ' ')}"


def test_unknown_states_are_a_programming_error_not_a_conflict() -> None:
    with pytest.raises(ValueError, match="not a state"):
        states.transition(states.PAYMENT, "lost", "paid")
    with pytest.raises(ValueError, match="not a state"):
        states.transition(states.PAYMENT, "paid", "lost")


def test_the_default_message_names_the_target() -> None:
    with pytest.raises(Conflict, match="cannot move the payment to paid: payment is refunded"):
        states.transition(states.PAYMENT, "refunded", "paid")


# --- the rules ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "payment", "fulfillment", "why"),
    [
        ("cancelled", "voided", "unfulfilled", "cannot fulfil a cancelled order"),
        ("completed", "paid", "fulfilled", "cannot fulfil: order is completed"),
        ("open", "paid", "fulfilled", "cannot fulfil: order is already fulfilled"),
        ("open", "refunded", "unfulfilled", "cannot fulfil: payment is refunded"),
        ("open", "voided", "unfulfilled", "cannot fulfil: payment is voided"),
        ("open", "failed", "unfulfilled", "cannot fulfil: payment is failed"),
    ],
)
def test_what_cannot_ship_and_why(status: str, payment: str, fulfillment: str, why: str) -> None:
    with pytest.raises(Conflict) as refused:
        states.check_can_fulfil(status, payment, fulfillment)
    assert refused.value.detail == why


@pytest.mark.parametrize("payment", ["pending", "authorized", "paid", "partially_refunded"])
@pytest.mark.parametrize("fulfillment", ["unfulfilled", "partially_fulfilled"])
def test_an_open_order_ships_before_or_after_payment(payment: str, fulfillment: str) -> None:
    states.check_can_fulfil("open", payment, fulfillment)


@pytest.mark.parametrize(
    ("status", "payment", "why"),
    [
        ("open", "pending", "cannot refund: payment is pending"),
        ("open", "failed", "cannot refund: payment is failed"),
        ("open", "voided", "cannot refund: payment is voided"),
        ("open", "refunded", "cannot refund: payment is already refunded in full"),
        ("open", "authorized", "cannot refund: payment is authorized but not captured (cancel the order to void it)"),
        ("cancelled", "refunded", "cannot refund: order is cancelled (cancelling refunded what was paid)"),
    ],
)
def test_what_cannot_be_refunded_and_why(status: str, payment: str, why: str) -> None:
    with pytest.raises(Conflict) as refused:
        states.check_can_refund(status, payment)
    assert refused.value.detail == why


@pytest.mark.parametrize("status", ["open", "completed"])
@pytest.mark.parametrize("payment", ["paid", "partially_refunded"])
def test_paid_money_can_be_refunded_even_after_completion(status: str, payment: str) -> None:
    states.check_can_refund(status, payment)


@pytest.mark.parametrize(
    ("status", "fulfillment", "why"),
    [
        ("cancelled", "unfulfilled", "cannot cancel: order is already cancelled"),
        ("completed", "fulfilled", "cannot cancel a completed order (refund it instead)"),
        ("open", "partially_fulfilled", "cannot cancel: order is partially fulfilled (refund what is left instead)"),
        ("open", "fulfilled", "cannot cancel: order is fulfilled (refund what is left instead)"),
    ],
)
def test_what_cannot_be_cancelled_and_why(status: str, fulfillment: str, why: str) -> None:
    with pytest.raises(Conflict) as refused:
        states.check_can_cancel(status, fulfillment)
    assert refused.value.detail == why


def test_only_an_open_order_of_which_nothing_shipped_can_be_cancelled() -> None:
    states.check_can_cancel("open", "unfulfilled")


@pytest.mark.parametrize(
    ("status", "payment", "why"),
    [
        (
            "cancelled",
            "voided",
            "cannot confirm payment: order is cancelled (refund the customer outside the platform)",
        ),
        ("open", "paid", "cannot confirm payment: payment is paid"),
        ("open", "refunded", "cannot confirm payment: payment is refunded"),
        ("open", "voided", "cannot confirm payment: payment is voided"),
    ],
)
def test_what_payment_cannot_be_confirmed_and_why(status: str, payment: str, why: str) -> None:
    with pytest.raises(Conflict) as refused:
        states.check_can_confirm_payment(status, payment)
    assert refused.value.detail == why


@pytest.mark.parametrize("payment", ["pending", "authorized", "failed"])
def test_unpaid_payments_can_be_confirmed(payment: str) -> None:
    states.check_can_confirm_payment("open", payment)


# --- derived states -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([(2, 0, 0)], "unfulfilled"),
        ([(2, 0, 2)], "unfulfilled"),
        ([(2, 1, 0)], "partially_fulfilled"),
        ([(2, 2, 0), (1, 0, 0)], "partially_fulfilled"),
        ([(2, 2, 0), (1, 0, 1)], "fulfilled"),
        ([(3, 1, 2)], "fulfilled"),
        ([(2, 2, 1)], "fulfilled"),
        ([(2, 2, 2)], "returned"),
        ([(3, 1, 3)], "returned"),
    ],
    ids=["none", "all-restocked", "half", "one-line", "rest-restocked", "waiting-restocked", "one-back", "all-back",
         "shipped-one-back"],
)  # fmt: skip
def test_the_fulfilment_status_follows_the_lines(lines: list[tuple[int, int, int]], expected: str) -> None:
    assert states.fulfillment_status_of(LineCounts(*line) for line in lines) == expected


def test_restocking_takes_waiting_items_first() -> None:
    line = LineCounts(qty=3, fulfilled_qty=1, restocked_qty=1)
    assert (line.waiting, line.returned) == (1, 0)
    line = LineCounts(qty=3, fulfilled_qty=1, restocked_qty=3)
    assert (line.waiting, line.returned) == (0, 1)


def test_the_payment_status_after_a_refund() -> None:
    assert states.payment_status_after_refund(1000, 1) == "partially_refunded"
    assert states.payment_status_after_refund(1000, 999) == "partially_refunded"
    assert states.payment_status_after_refund(1000, 1000) == "refunded"


@pytest.mark.parametrize(
    ("status", "payment", "fulfillment", "expected"),
    [
        ("open", "paid", "fulfilled", "completed"),
        ("open", "partially_refunded", "fulfilled", "completed"),
        ("open", "refunded", "returned", "completed"),
        ("open", "pending", "fulfilled", "open"),
        ("open", "paid", "partially_fulfilled", "open"),
        ("open", "refunded", "unfulfilled", "open"),
        ("cancelled", "refunded", "unfulfilled", "cancelled"),
        ("completed", "refunded", "returned", "completed"),
    ],
)
def test_an_order_completes_when_nothing_is_left_to_ship_and_it_was_paid(
    status: str, payment: str, fulfillment: str, expected: str
) -> None:
    assert states.status_of(status, payment, fulfillment) == expected
