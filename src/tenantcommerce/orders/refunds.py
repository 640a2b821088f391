"""Refunds and cancellation: full and partial refunds through the order's gateway (optionally restocking lines), and
cancelling an order (restocking what was not shipped, refunding what was paid, cancelling a payment still open).

A refund is first recorded ``pending`` (holding its amount, so two refunds can never exceed what was paid); the
gateway is then called, outside any transaction, with the idempotency key ``refund:<refund id>``; the outcome is
written in one transaction. A refund left ``pending`` by a failed call is retried with the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from sqlalchemy import select, update

from tenantcommerce.db.base import new_id, utcnow
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound, PluginError, TenantCommerceError
from tenantcommerce.money import Money
from tenantcommerce.orders import states
from tenantcommerce.orders.models import Order, Refund
from tenantcommerce.orders.schemas import (
    CancelInput,
    OrderDetail,
    RefundInput,
    counts,
    given,
)
from tenantcommerce.payments.models import Payment
from tenantcommerce.plugins.providers import RefundRequest
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.plugins.facade import BoundGateway
    from tenantcommerce.runtime import Runtime
from tenantcommerce.orders.queries import detail_of, find_order, items_of
from tenantcommerce.orders.services import (
    Actor,
    _audit,
    _gateway,
    _moved,
    _payment_of,
    _pick_lines,
    _restock,
    _set_payment_status,
    _settle_statuses,
    _stored_lines,
)

_log = structlog.get_logger("tenantcommerce.orders")


# --- refunds and cancellation ---------------------------------------------------------------------------------------


async def _pending_refunds(session: AsyncSession, order_id: UUID) -> list[Refund]:
    query = select(Refund).where(Refund.order_id == order_id, Refund.status == "pending")
    return list(await session.scalars(query.execution_options(populate_existing=True)))


def _left(order_left: int, payment_left: int, held: int) -> int:
    """What may still go back: neither more than the payment nor than the order has left, less pending refunds."""
    return max(0, min(payment_left, order_left) - held)


def _left_to_refund(order: Order, payment: Payment, pending: Sequence[Refund]) -> int:
    held = sum(refund.amount_minor for refund in pending)
    return _left(order.total_minor - order.refunded_minor, payment.amount_minor - payment.refunded_minor, held)


def left_to_refund(order: OrderDetail) -> int:
    """The most :func:`request_refund` would accept for ``order`` now (0 when its states allow no refund): for
    forms that offer a refund."""
    try:
        states.check_can_refund(order.status, order.payment_status)
    except Conflict:
        return 0
    if not order.payments:
        return 0
    payment = max(order.payments, key=lambda payment: (payment.created_at, payment.id))  # the one refunds go to
    held = sum(refund.amount_minor for refund in order.refunds if refund.status == "pending")
    return _left(order.total_minor - order.refunded_minor, payment.amount_minor - payment.refunded_minor, held)


async def request_refund(runtime: Runtime, order_id: UUID, data: RefundInput, actor: Actor) -> OrderDetail:
    """Refund all or part of an order through its gateway, putting ``data.restock`` lines back in stock.

    Raises:
        NotFound: no such order.
        Conflict: the order's payment cannot be refunded (pending, refunded, cancelled ...).
        BusinessRuleError: more than is left, a restock line that is not the order's or exceeds what it holds,
            the gateway refused (the refund is recorded as failed).
        PluginError: the gateway failed without an answer; the refund stays pending (retry it).
    """
    store = current_store()
    async with runtime.database.session() as session:
        order = await find_order(session, order_id, lock=True)
        states.check_can_refund(order.status, order.payment_status)
        payment = await _payment_of(session, order)
        if payment is None:
            raise Conflict("cannot refund: the order has no payment")
        await _gateway(runtime, store, payment.method)
        pending = await _pending_refunds(session, order.id)
        left = _left_to_refund(order, payment, pending)
        if data.amount_minor > left:
            held = " (pending refunds hold the rest)" if pending else ""
            raise BusinessRuleError(
                f"at most {Money(left, order.currency).format()} is left to refund{held}",
                errors=[FieldError("amount_minor", f"at most {left}")],
            )
        items = await items_of(session, order.id)
        held_lines: dict[UUID, int] = {}
        for refund in pending:
            for line in refund.lines:
                key = UUID(str(line["order_item_id"]))
                held_lines[key] = held_lines.get(key, 0) + int(line["qty"])
        restock = _pick_lines(
            given(data.restock) or [],
            items,
            lambda item: item.qty - item.restocked_qty - held_lines.get(item.id, 0),
            "restock",
            "restock",
        )
        refund = Refund(
            id=new_id(),
            order_id=order.id,
            payment_id=payment.id,
            amount_minor=data.amount_minor,
            currency=payment.currency,
            status="pending",
            reason=given(data.reason),
            lines=_stored_lines(restock),
            actor_user_id=actor.user_id,
        )
        session.add(refund)
        _audit(
            session,
            actor,
            "order.refund_requested",
            order,
            {"refund_id": str(refund.id), "amount_minor": data.amount_minor, "restock": refund.lines},
        )
        await session.commit()
    return await _run_refund(runtime, order_id, refund.id, actor)


async def retry_refund(
    runtime: Runtime, order_id: UUID, refund_id: UUID, actor: Actor, *, cancel: CancelInput | None = None
) -> OrderDetail:
    """Send a pending refund to its gateway again, with the same idempotency key (it is never paid twice); with
    ``cancel``, the order is cancelled once the refund succeeded.

    Raises:
        NotFound: no such order, or no such refund of it.
        Conflict: the refund is not pending.
    """
    async with runtime.database.session() as session:
        order = await find_order(session, order_id)
        refund = await session.scalar(select(Refund).where(Refund.id == refund_id, Refund.order_id == order.id))
        if refund is None:
            raise NotFound("no such refund of this order")
        if refund.status != "pending":
            raise Conflict(f"cannot retry: refund is {refund.status}")
    return await _run_refund(runtime, order_id, refund_id, actor, cancel=cancel)


async def _run_refund(
    runtime: Runtime, order_id: UUID, refund_id: UUID, actor: Actor, cancel: CancelInput | None = None
) -> OrderDetail:
    """Call the gateway for a pending refund, then write its outcome (and the cancellation it was for)."""
    store = current_store()
    async with runtime.database.session() as session:
        refund = await session.scalar(select(Refund).where(Refund.id == refund_id))
        payment = await session.scalar(select(Payment).where(Payment.id == refund.payment_id)) if refund else None
        assert refund is not None
        assert payment is not None
    gateway = await _gateway(runtime, store, payment.method)
    request = RefundRequest(
        payment_ref=payment.transaction_id,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        idempotency_key=f"refund:{refund.id}",
        reason=refund.reason,
    )
    try:
        result = await gateway.refund(request)
    except PluginError as exc:  # no answer: the gateway may or may not have paid; keep the refund pending
        raise type(exc)(
            f"{exc.detail}. Refund {refund.id} is kept pending and holds its amount; nothing else "
            f"changed. Retry it: POST .../orders/{order_id}/refunds/{refund.id}/retry",
            plugin_id=exc.plugin_id,
        ) from exc
    except TenantCommerceError as exc:  # the gateway refused: no money moved
        await _finish_refund(runtime, order_id, refund_id, actor, failure=exc.detail)
        raise
    if result.status == "failed":
        reason = result.failure_reason or "no reason given"
        await _finish_refund(runtime, order_id, refund_id, actor, failure=reason)
        raise BusinessRuleError(f"the gateway refused the refund: {reason}")
    return await _finish_refund(
        runtime,
        order_id,
        refund_id,
        actor,
        refund_ref=result.refund_ref,
        succeeded=result.status == "succeeded",
        cancel=cancel,
    )


async def _finish_refund(
    runtime: Runtime,
    order_id: UUID,
    refund_id: UUID,
    actor: Actor,
    *,
    refund_ref: str | None = None,
    succeeded: bool = False,
    failure: str | None = None,
    cancel: CancelInput | None = None,
) -> OrderDetail:
    async with runtime.database.session() as session:
        order = await find_order(session, order_id, lock=True)
        refund = await session.scalar(
            select(Refund).where(Refund.id == refund_id).with_for_update().execution_options(populate_existing=True)
        )
        assert refund is not None
        cancelled_too = False
        if refund.status == "pending":
            await settle_refund(
                session, order, refund, actor, refund_ref=refund_ref, succeeded=succeeded, failure=failure
            )
            if cancel is not None and refund.status == "succeeded":
                cancelled_too = await _cancel_after_refund(session, order, cancel, actor)
        await session.commit()
        detail = await detail_of(session, order)
    if cancel is not None and not cancelled_too:
        if refund.status == "pending":
            raise Conflict(
                f"refund {refund_id} is pending at the payment provider: the order stays open until it "
                "succeeds; cancel again then"
            )
        raise Conflict(
            f"refund {refund_id} was recorded ({refund.status}), but the order was not cancelled (it "
            "changed meanwhile, or the refund did not go through): check it and cancel again"
        )
    return detail


async def _cancel_after_refund(session: AsyncSession, order: Order, cancel: CancelInput, actor: Actor) -> bool:
    try:
        states.check_can_cancel(order.status, order.fulfillment_status)
    except Conflict:
        return False
    await _apply_cancel(session, order, cancel, actor)
    return True


async def settle_refund(
    session: AsyncSession,
    order: Order,
    refund: Refund,
    actor: Actor,
    *,
    refund_ref: str | None,
    succeeded: bool,
    failure: str | None = None,
) -> None:
    """Write the outcome of a pending refund in ``session`` (the order locked; the caller commits).

    ``succeeded``: the money went back: the refund, payment and order count it, the payment status moves, its lines
    go back in stock, and it is audited. Neither succeeded nor ``failure``: still pending at the provider (its
    ``refund_ref`` is kept; a webhook settles it later). ``failure``: recorded as failed, nothing else changes.
    """
    if refund_ref is not None:
        refund.refund_ref = refund_ref
    if failure is not None:
        refund.status = "failed"
        _audit(
            session,
            actor,
            "order.refund_failed",
            order,
            {"refund_id": str(refund.id), "amount_minor": refund.amount_minor, "reason": failure},
        )
        return
    if not succeeded:
        return
    payment = await session.scalar(select(Payment).where(Payment.id == refund.payment_id).with_for_update())
    assert payment is not None
    refund.status = "succeeded"
    payment.refunded_minor += refund.amount_minor
    order.refunded_minor += refund.amount_minor
    target = states.payment_status_after_refund(payment.amount_minor, payment.refunded_minor)
    changes: dict[str, Any] = {
        "refund_id": str(refund.id),
        "amount_minor": refund.amount_minor,
        "refunded_minor": order.refunded_minor,
        "restock": refund.lines,
    }
    _set_payment_status(order, target, changes, "refund")
    payment.status = target
    items = await items_of(session, order.id)
    restock = {UUID(str(line["order_item_id"])): int(line["qty"]) for line in refund.lines}
    await _restock(session, items, restock, f"order #{order.order_number} refunded", actor)
    _settle_statuses(order, items, changes, "refund")
    _audit(session, actor, "order.refunded", order, changes)


async def _apply_cancel(session: AsyncSession, order: Order, data: CancelInput, actor: Actor) -> None:
    items = await items_of(session, order.id)
    waiting = {item.id: counts(item).waiting for item in items}
    await _restock(session, items, waiting, f"order #{order.order_number} cancelled", actor)
    changes: dict[str, Any] = {
        "reason": given(data.reason),
        "restock": _stored_lines({k: v for k, v in waiting.items() if v}),
    }
    if order.payment_status in ("pending", "authorized", "failed"):
        _set_payment_status(order, "voided", changes, "void payment")
        await session.execute(
            update(Payment)
            .where(Payment.order_id == order.id, Payment.status.in_(("pending", "authorized", "failed")))
            .values(status="cancelled")
        )
    states.transition(states.STATUS, order.status, "cancelled", action="cancel")
    changes["status"] = _moved(order.status, "cancelled")
    order.status = "cancelled"
    order.cancelled_at = utcnow()
    order.cancel_reason = given(data.reason)
    _audit(session, actor, "order.cancelled", order, changes)


async def cancel_order(runtime: Runtime, order_id: UUID, data: CancelInput, actor: Actor) -> OrderDetail:
    """Cancel an open order of which nothing shipped: put every waiting item back in stock, refund in full what was
    paid (through the gateway), cancel a payment still pending at its gateway.

    Raises:
        NotFound: no such order.
        Conflict: the order cannot be cancelled (shipped, completed, cancelled), or a refund of it is pending.
        BusinessRuleError: the gateway refused (nothing was cancelled).
        PluginError: the gateway failed. Nothing was cancelled; a refund stays pending (retry it, then cancel).
    """
    store = current_store()
    async with runtime.database.session() as session:
        order = await find_order(session, order_id, lock=True)
        states.check_can_cancel(order.status, order.fulfillment_status)
        pending = await _pending_refunds(session, order.id)
        if pending:
            raise Conflict(
                f"cannot cancel: refund {pending[0].id} is pending; retry it first "
                f"(POST .../orders/{order.id}/refunds/{pending[0].id}/retry)"
            )
        payment = await _payment_of(session, order)
        if payment is not None and payment.status in ("pending", "authorized"):
            gateway = await _gateway(runtime, store, payment.method)
            payment_ref = payment.transaction_id
        elif (
            payment is not None
            and order.payment_status in states.REFUNDABLE_PAYMENTS
            and _left_to_refund(order, payment, pending) > 0
        ):
            await _gateway(runtime, store, payment.method)
            left = _left_to_refund(order, payment, pending)
            reason = "order cancelled" + (f": {data.reason}" if given(data.reason) else "")
            refund = Refund(
                id=new_id(),
                order_id=order.id,
                payment_id=payment.id,
                amount_minor=left,
                currency=payment.currency,
                status="pending",
                reason=reason[:500],
                lines=[],
                actor_user_id=actor.user_id,
            )
            session.add(refund)
            changes = {"refund_id": str(refund.id), "amount_minor": left, "for": "cancellation"}
            _audit(session, actor, "order.refund_requested", order, changes)
            await session.commit()
            return await _run_refund(runtime, order_id, refund.id, actor, cancel=data)
        else:
            await _apply_cancel(session, order, data, actor)
            await session.commit()
            return await detail_of(session, order)
    return await _cancel_open_payment(runtime, gateway, order_id, payment_ref, data, actor)


async def _cancel_open_payment(
    runtime: Runtime, gateway: BoundGateway, order_id: UUID, payment_ref: str, data: CancelInput, actor: Actor
) -> OrderDetail:
    """Cancel the payment at its gateway (harmless twice, so a failure here or later can be retried), then the order.

    Raises:
        Conflict: the gateway says the money came meanwhile (confirm the payment, then cancel: that refunds it).
    """
    result = await gateway.cancel(payment_ref)
    if result.status == "succeeded":
        raise Conflict(
            f"cannot cancel: the gateway says payment {payment_ref} was paid; confirm the payment, then "
            "cancel (which refunds it)"
        )
    async with runtime.database.session() as session:
        order = await find_order(session, order_id, lock=True)
        states.check_can_cancel(order.status, order.fulfillment_status)
        await _apply_cancel(session, order, data, actor)
        await session.commit()
        return await detail_of(session, order)
