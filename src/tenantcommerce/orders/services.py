"""What every change of an order shares (who acts, audit entries, status moves, line choices, restocking, the order's
gateway), and payment changes: confirming a payment that settles later, recording a provider's success.

Every change locks the order row (``SELECT ... FOR UPDATE``) first, checks the state machines
(:mod:`tenantcommerce.orders.states`), and writes the change, its audit entry and its outbox event in one transaction.
Calls to a plugin never run inside a transaction. Fulfilment is :mod:`~tenantcommerce.orders.fulfilment`, refunds and
cancellation :mod:`~tenantcommerce.orders.refunds`, reading :mod:`~tenantcommerce.orders.queries`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from sqlalchemy import select, update

from tenantcommerce.auth.audit_log import audit
from tenantcommerce.catalog.models import ProductVariant
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound
from tenantcommerce.inventory.models import InventoryAdjustment
from tenantcommerce.jobs.outbox import emit
from tenantcommerce.money import Money
from tenantcommerce.orders import states
from tenantcommerce.orders.models import Order, OrderItem
from tenantcommerce.orders.schemas import (
    ConfirmPaymentInput,
    LineInput,
    OrderDetail,
    counts,
    given,
)
from tenantcommerce.payments.models import Payment
from tenantcommerce.plugins.providers import PaymentConfirmation
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.mailer import EmailMessage, Mailer
    from tenantcommerce.auth.principal import Principal
    from tenantcommerce.plugins.facade import BoundGateway
    from tenantcommerce.runtime import Runtime
    from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.orders.placement import order_event
from tenantcommerce.orders.queries import detail_of, find_order, get_order, items_of

_log = structlog.get_logger("tenantcommerce.orders")


@dataclass(frozen=True)
class Actor:
    """Who makes a change (for ``actor_user_id`` columns and the audit log)."""

    principal: Principal | None
    request_id: str | None = None

    @property
    def user_id(self) -> UUID | None:
        """The acting user, if any."""
        return self.principal.user_id if self.principal is not None else None


# --- shared pieces of the changes ---------------------------------------------------------------------------------


def _audit(session: AsyncSession, actor: Actor, action: str, order: Order, changes: dict[str, Any]) -> None:
    audit(session, actor.principal, action, "order", order.id, changes, request_id=actor.request_id)


def _moved(before: str, after: str) -> dict[str, str]:
    return {"from": before, "to": after}


def _settle_statuses(order: Order, items: Sequence[OrderItem], changes: dict[str, Any], action: str) -> None:
    """Move ``fulfillment_status`` and ``status`` to what the items and payment say, through the machines."""
    fulfillment = states.fulfillment_status_of(counts(item) for item in items)
    if fulfillment != order.fulfillment_status:
        states.transition(states.FULFILLMENT, order.fulfillment_status, fulfillment, action=action)
        changes["fulfillment_status"] = _moved(order.fulfillment_status, fulfillment)
        order.fulfillment_status = fulfillment
    status = states.status_of(order.status, order.payment_status, order.fulfillment_status)
    if status != order.status:
        states.transition(states.STATUS, order.status, status, action=action)
        changes["status"] = _moved(order.status, status)
        order.status = status


def _set_payment_status(order: Order, target: str, changes: dict[str, Any], action: str) -> None:
    if target == order.payment_status and not states.PAYMENT.allows(target, target):
        return
    states.transition(states.PAYMENT, order.payment_status, target, action=action)
    changes["payment_status"] = _moved(order.payment_status, target)
    order.payment_status = target


def _pick_lines(
    requested: Sequence[LineInput], items: Sequence[OrderItem], room: Callable[[OrderItem], int], field: str, verb: str
) -> dict[UUID, int]:
    """The requested quantities by item, each within ``room(item)``.

    Raises:
        BusinessRuleError: a line is not the order's, is listed twice, or asks for more than is left.
    """
    by_id = {item.id: item for item in items}
    chosen: dict[UUID, int] = {}
    errors: list[FieldError] = []
    for index, line in enumerate(requested):
        where = f"{field}[{index}]"
        item = by_id.get(line.order_item_id)
        if item is None:
            errors.append(FieldError(f"{where}.order_item_id", "is not a line of this order"))
        elif item.id in chosen:
            errors.append(FieldError(f"{where}.order_item_id", "is listed twice"))
        elif line.qty > (left := room(item)):
            errors.append(FieldError(f"{where}.qty", f"only {left} of {item.sku} left to {verb}"))
        else:
            chosen[item.id] = line.qty
    if errors:
        raise BusinessRuleError(
            f"some lines cannot be {verb}ed as asked: " + "; ".join(e.message for e in errors), errors=errors
        )
    return chosen


def _stored_lines(chosen: dict[UUID, int]) -> list[dict[str, Any]]:
    return [{"order_item_id": str(item_id), "qty": qty} for item_id, qty in chosen.items()]


async def _restock(
    session: AsyncSession, items: Sequence[OrderItem], chosen: dict[UUID, int], reason: str, actor: Actor
) -> None:
    """Put ``chosen`` quantities back in stock, each with a line in the stock history."""
    for item in items:
        qty = chosen.get(item.id, 0)
        if qty <= 0:
            continue
        inventory = await session.scalar(
            update(ProductVariant)
            .where(ProductVariant.id == item.variant_id)
            .values(inventory=ProductVariant.inventory + qty)
            .returning(ProductVariant.inventory)
        )
        assert inventory is not None, "order items keep their variants (foreign key)"
        session.add(
            InventoryAdjustment(
                variant_id=item.variant_id,
                delta=qty,
                inventory_after=inventory,
                reason=reason,
                actor_user_id=actor.user_id,
            )
        )
        item.restocked_qty += qty


async def _payment_of(session: AsyncSession, order: Order) -> Payment | None:
    query = select(Payment).where(Payment.order_id == order.id).order_by(Payment.created_at.desc(), Payment.id.desc())
    return await session.scalar(query.limit(1).execution_options(populate_existing=True))


async def _gateway(runtime: Runtime, store: StoreContext, method: str) -> BoundGateway:
    try:
        return (await runtime.plugins.for_store(store)).payment_gateway(method)
    except NotFound:
        raise BusinessRuleError(
            f"payment method {method!r} is not available in this store: enable its plugin to move this order's money",
            errors=[FieldError("payment_method", "not enabled in this store")],
        ) from None


async def _send(mailer: Mailer, message: EmailMessage) -> None:
    try:
        await mailer.send(message)
    except Exception as exc:  # the change is committed: a mail that cannot be sent must not undo or hide it
        _log.warning("order mail not sent", kind=message.kind, error=repr(exc))


# --- payments -------------------------------------------------------------------------------------------------------

_PAID_PAYMENT_ROWS = ("succeeded", "partially_refunded", "refunded")
"""``payments.status`` values of a payment whose money arrived."""


async def record_payment_succeeded(
    session: AsyncSession,
    *,
    gateway_id: str,
    payment_ref: str,
    amount_minor: int,
    currency: str,
    principal: Principal | None = None,
    request_id: str | None = None,
    note: str | None = None,
) -> Order | None:
    """The one way an order becomes paid: its gateway says the money of payment ``payment_ref`` arrived.

    Marks the payment ``succeeded`` and the order ``paid`` (``completed`` when nothing is left to ship), audits it
    and emits ``order.paid``, in ``session``'s transaction (the caller commits). Harmless when already paid.

    Returns:
        The order, or ``None`` when no order has this payment (it was never placed).

    Raises:
        BusinessRuleError: the amount or currency are not the payment's.
        Conflict: the order was cancelled, or its payment cannot become paid.
    """
    payment_id = await session.scalar(
        select(Payment.id).where(Payment.method == gateway_id, Payment.transaction_id == payment_ref)
    )
    if payment_id is None:
        return None
    order_id = await session.scalar(select(Payment.order_id).where(Payment.id == payment_id))
    assert order_id is not None
    order = await find_order(session, order_id, lock=True)
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    assert payment is not None
    if payment.status in _PAID_PAYMENT_ROWS and order.payment_status in states.PAID_STATES:
        return order
    errors = []
    if currency != payment.currency:
        errors.append(FieldError("currency", f"the payment is in {payment.currency}"))
    if amount_minor != payment.amount_minor:
        errors.append(FieldError("amount_minor", f"the payment is for {payment.amount_minor}"))
    if errors:
        raise BusinessRuleError(
            f"payment {payment_ref} of order #{order.order_number} is for "
            f"{Money(payment.amount_minor, payment.currency).format()}",
            errors=errors,
        )
    states.check_can_confirm_payment(order.status, order.payment_status)
    changes: dict[str, Any] = {
        "payment_id": str(payment.id),
        "gateway": gateway_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "note": note,
    }
    _set_payment_status(order, "paid", changes, "mark paid")
    payment.status = "succeeded"
    _settle_statuses(order, await items_of(session, order.id), changes, "mark paid")
    audit(session, principal, "order.paid", "order", order.id, changes, request_id=request_id)
    await session.flush()
    await emit(session, "order.paid", order_event(order))
    return order


async def confirm_payment(
    runtime: Runtime, order_id: UUID, payment_id: UUID, data: ConfirmPaymentInput, actor: Actor
) -> OrderDetail:
    """Ask the gateway to confirm a payment that settles later (its money arrived); on success the order is paid.

    Raises:
        NotFound: no such order, or no such payment of it.
        Conflict: the order cannot be paid now, or the gateway says the payment is not settled yet.
        BusinessRuleError: the gateway refused, or says the payment failed (recorded as failed).
        PluginError: the gateway failed; nothing was written.
    """
    store = current_store()
    async with runtime.database.session() as session:
        order = await find_order(session, order_id)
        payment = await session.scalar(select(Payment).where(Payment.id == payment_id, Payment.order_id == order.id))
        if payment is None:
            raise NotFound("no such payment of this order")
        if order.payment_status in states.PAID_STATES and payment.status in _PAID_PAYMENT_ROWS:
            return await detail_of(session, order)  # confirming again is harmless
        states.check_can_confirm_payment(order.status, order.payment_status)
        gateway = await _gateway(runtime, store, payment.method)
    result = await gateway.confirm(
        PaymentConfirmation(
            payment_ref=payment.transaction_id,
            currency=payment.currency,
            amount_minor=payment.amount_minor,
            note=given(data.note),
        )
    )
    async with runtime.database.session() as session:
        if result.status == "succeeded":
            await record_payment_succeeded(
                session,
                gateway_id=payment.method,
                payment_ref=payment.transaction_id,
                amount_minor=result.amount_minor,
                currency=result.currency,
                principal=actor.principal,
                request_id=actor.request_id,
                note=given(data.note),
            )
            await session.commit()
            return await get_order(session, order_id)
        if result.status != "failed":
            raise Conflict(f"the gateway says payment {payment.transaction_id} is {result.status}: not paid yet")
        order = await find_order(session, order_id, lock=True)
        changes: dict[str, Any] = {"payment_id": str(payment.id), "reason": result.failure_reason}
        _set_payment_status(order, "failed", changes, "record a failed payment")
        await session.execute(update(Payment).where(Payment.id == payment.id).values(status="failed"))
        _audit(session, actor, "order.payment_failed", order, changes)
        await session.commit()
    raise BusinessRuleError(
        f"the gateway says payment {payment.transaction_id} failed: {result.failure_reason or 'no reason given'}"
    )
