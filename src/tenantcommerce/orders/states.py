"""The three state machines of an order, and the rules that say what may happen to an order in which state.

An order has three separate statuses, each with its own transition table:

* ``status``: ``open`` -> ``completed`` | ``cancelled``; both are final.
* ``payment_status``: ``pending`` -> ``authorized`` -> ``paid`` -> ``partially_refunded`` -> ``refunded``, with
  ``failed`` and ``voided`` on the side.
* ``fulfillment_status``: ``unfulfilled`` -> ``partially_fulfilled`` -> ``fulfilled`` -> ``returned``.

So an order can be fulfilled and partially refunded at once. Everything here is pure (no I/O): the services lock the
order, ask these functions, and write. An illegal move raises :class:`~tenantcommerce.errors.Conflict` (409) with a
detail that says why ("cannot refund: payment is pending").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from tenantcommerce.errors import Conflict

OrderStatus = Literal["open", "completed", "cancelled"]
PaymentStatus = Literal["pending", "authorized", "paid", "partially_refunded", "refunded", "failed", "voided"]
FulfillmentStatus = Literal["unfulfilled", "partially_fulfilled", "fulfilled", "returned"]
MachineName = Literal["status", "payment_status", "fulfillment_status"]


@dataclass(frozen=True)
class Machine:
    """One status column and its transition table (``state -> the states it may move to``).

    A state moving to itself is legal only where the table says so (another partial refund keeps
    ``partially_refunded``; another partial shipment keeps ``partially_fulfilled``).
    """

    name: MachineName
    noun: str
    """What the status is about, for messages: ``order``, ``payment``, ``fulfilment``."""
    transitions: Mapping[str, frozenset[str]]

    @property
    def states(self) -> tuple[str, ...]:
        """Every state, in the table's order."""
        return tuple(self.transitions)

    def allows(self, current: str, target: str) -> bool:
        """Whether ``current -> target`` is in the table."""
        return target in self.transitions.get(current, frozenset())


STATUS: Final = Machine(
    "status",
    "order",
    {
        "open": frozenset({"completed", "cancelled"}),
        "completed": frozenset(),
        "cancelled": frozenset(),
    },
)
"""``orders.status``: an open order completes (fulfilled and paid) or is cancelled; both are final."""

PAYMENT: Final = Machine(
    "payment_status",
    "payment",
    {
        "pending": frozenset({"authorized", "paid", "failed", "voided"}),
        "authorized": frozenset({"paid", "failed", "voided"}),
        "paid": frozenset({"partially_refunded", "refunded"}),
        "partially_refunded": frozenset({"partially_refunded", "refunded"}),
        "refunded": frozenset(),
        "failed": frozenset({"paid", "voided"}),
        "voided": frozenset(),
    },
)
"""``orders.payment_status``: money arrives (``paid``), goes back (``*refunded``), or never comes (``voided``)."""

FULFILLMENT: Final = Machine(
    "fulfillment_status",
    "fulfilment",
    {
        "unfulfilled": frozenset({"partially_fulfilled", "fulfilled"}),
        "partially_fulfilled": frozenset({"partially_fulfilled", "fulfilled", "returned"}),
        "fulfilled": frozenset({"returned"}),
        "returned": frozenset(),
    },
)
"""``orders.fulfillment_status``: lines ship, in one go or in parts; shipped goods may come back."""

MACHINES: Final[Mapping[str, Machine]] = {machine.name: machine for machine in (STATUS, PAYMENT, FULFILLMENT)}
"""The three machines by column name."""


def _words(state: str) -> str:
    return state.replace("_", " ")


def transition(machine: Machine, current: str, target: str, *, action: str | None = None) -> None:
    """Check that ``machine`` may move from ``current`` to ``target``.

    Args:
        machine: :data:`STATUS`, :data:`PAYMENT` or :data:`FULFILLMENT`.
        current: the state the order is in.
        target: the state it would move to.
        action: what the caller is doing, for the message (``refund``, ``fulfil``, ...).

    Raises:
        Conflict: the move is not in the table; the detail says why.
    """
    if current not in machine.transitions:
        raise ValueError(f"{current!r} is not a state of {machine.name}")
    if target not in machine.transitions:
        raise ValueError(f"{target!r} is not a state of {machine.name}")
    if machine.allows(current, target):
        return
    doing = action or f"move the {machine.noun} to {_words(target)}"
    raise Conflict(f"cannot {doing}: {machine.noun} is {_words(current)}")


# --- what may happen to an order ------------------------------------------------------------------------------------

FULFILLABLE_PAYMENTS: Final = frozenset({"pending", "authorized", "paid", "partially_refunded"})
"""Payment states in which goods may ship (``pending`` too: pay on delivery ships before the money arrives)."""
REFUNDABLE_PAYMENTS: Final = frozenset({"paid", "partially_refunded"})
"""Payment states with money to give back."""
CONFIRMABLE_PAYMENTS: Final = frozenset({"pending", "authorized", "failed"})
"""Payment states a confirmation (the money arrived) can move to ``paid``."""
PAID_STATES: Final = frozenset({"paid", "partially_refunded", "refunded"})
"""Payment states in which the order was paid (perhaps refunded since)."""


def check_can_fulfil(status: str, payment_status: str, fulfillment_status: str) -> None:
    """Whether lines of an order in these states may ship.

    Raises:
        Conflict: they may not; the detail says why.
    """
    if status == "cancelled":
        raise Conflict("cannot fulfil a cancelled order")
    if status == "completed":
        raise Conflict("cannot fulfil: order is completed")
    if fulfillment_status in ("fulfilled", "returned"):
        raise Conflict(f"cannot fulfil: order is already {_words(fulfillment_status)}")
    if payment_status not in FULFILLABLE_PAYMENTS:
        raise Conflict(f"cannot fulfil: payment is {_words(payment_status)}")


def check_can_refund(status: str, payment_status: str) -> None:
    """Whether money of an order in these states can be given back.

    Raises:
        Conflict: it cannot; the detail says why.
    """
    if status == "cancelled":
        raise Conflict("cannot refund: order is cancelled (cancelling refunded what was paid)")
    if payment_status == "authorized":
        raise Conflict("cannot refund: payment is authorized but not captured (cancel the order to void it)")
    if payment_status == "refunded":
        raise Conflict("cannot refund: payment is already refunded in full")
    if payment_status not in REFUNDABLE_PAYMENTS:
        raise Conflict(f"cannot refund: payment is {_words(payment_status)}")


def check_can_cancel(status: str, fulfillment_status: str) -> None:
    """Whether an order in these states may be cancelled: only an open order of which nothing has shipped.

    Raises:
        Conflict: it may not; the detail says why.
    """
    if status == "cancelled":
        raise Conflict("cannot cancel: order is already cancelled")
    if status == "completed":
        raise Conflict("cannot cancel a completed order (refund it instead)")
    if fulfillment_status != "unfulfilled":
        raise Conflict(f"cannot cancel: order is {_words(fulfillment_status)} (refund what is left instead)")
    transition(STATUS, status, "cancelled", action="cancel")


def check_can_confirm_payment(status: str, payment_status: str) -> None:
    """Whether the payment of an order in these states may be confirmed (its money has arrived).

    Raises:
        Conflict: it may not; the detail says why.
    """
    if status == "cancelled":
        raise Conflict("cannot confirm payment: order is cancelled (refund the customer outside the platform)")
    if payment_status not in CONFIRMABLE_PAYMENTS:
        raise Conflict(f"cannot confirm payment: payment is {_words(payment_status)}")
    transition(PAYMENT, payment_status, "paid", action="confirm payment")


# --- what state an order is in --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineCounts:
    """How many of one order line were ordered, shipped and put back in stock."""

    qty: int
    fulfilled_qty: int
    restocked_qty: int

    @property
    def waiting(self) -> int:
        """Items still to ship: ordered, not shipped, not put back. Restocking takes waiting items first, so
        restocked items beyond the waiting ones are returns of shipped ones."""
        return max(0, self.qty - self.fulfilled_qty - self.restocked_qty)

    @property
    def returned(self) -> int:
        """Shipped items that came back (restocked beyond the items that were waiting)."""
        return max(0, self.fulfilled_qty + self.restocked_qty - self.qty)


def fulfillment_status_of(lines: Iterable[LineCounts]) -> FulfillmentStatus:
    """The fulfilment status the lines' counts describe.

    Nothing shipped: ``unfulfilled``. Something shipped and something waiting: ``partially_fulfilled``. Nothing
    waiting: ``fulfilled``, or ``returned`` when every shipped item came back.
    """
    counts = list(lines)
    shipped = sum(line.fulfilled_qty for line in counts)
    waiting = sum(line.waiting for line in counts)
    returned = sum(line.returned for line in counts)
    if shipped == 0:
        return "unfulfilled"
    if waiting > 0:
        return "partially_fulfilled"
    return "returned" if returned >= shipped else "fulfilled"


def payment_status_after_refund(amount_minor: int, refunded_minor: int) -> PaymentStatus:
    """``refunded`` once everything paid went back, else ``partially_refunded``."""
    return "refunded" if refunded_minor >= amount_minor else "partially_refunded"


def status_of(status: str, payment_status: str, fulfillment_status: str) -> str:
    """The order's ``status`` given the other two: an open order completes once nothing is left to ship and it
    was paid (even if refunded since); ``completed`` and ``cancelled`` stay."""
    if status == "open" and fulfillment_status in ("fulfilled", "returned") and payment_status in PAID_STATES:
        return "completed"
    return status
