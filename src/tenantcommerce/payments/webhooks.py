"""Payment provider webhooks (``POST /api/payments/{plugin_id}/webhook``): verified, routed to their store, applied
exactly once.

1. The plugin's gateways verify and translate the call (:meth:`PaymentGateway.parse_webhook`). A bad signature or
   body answers 400 and writes nothing.
2. The event is routed by ``event.store_id`` (set by the gateway from metadata it attached when it created the
   payment or account). An event for no store of this deployment is acknowledged and ignored.
3. An event already recorded for the store and gateway is a duplicate: acknowledged, nothing changes.
4. The gateway's own bookkeeping runs (:meth:`PaymentGateway.handle_event`), then one store-scoped transaction writes
   the ``payment_events`` row (its unique index settles concurrent duplicates) and applies the event:

   * ``payment.succeeded``: amount, currency, account, gateway and payment are checked against the checkout; a
     mismatch places no order and flags the checkout (audited). Otherwise the checkout becomes an order (its
     reservation a stock decrement). When the hold had expired, the stock is taken again if it is there; if not, the
     order is placed without stock, flagged, with a full refund recorded pending in the same transaction; the
     refund is sent and the order cancelled right after the commit (if that fails, the refund stays pending on the
     flagged order for the merchant to retry).
   * ``payment.failed``: the reservation stays so the customer can try again; the checkout shows the failure.
   * ``payment.cancelled``: the hold is given back and the checkout opens again.
   * ``payment.refunded``: money refunded at the provider beyond what the platform knows of is recorded as a refund.
   * ``refund.succeeded`` / ``refund.failed``: a refund still pending is settled.
   * ``dispute.created``: the order is flagged and the dispute audited.

A payment that succeeded while its checkout still waits for the gateway's answer (the complete call has not written
the payment yet) answers 409, so the provider delivers it again a little later.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import msgspec
import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from tenantcommerce.auth.audit_log import audit
from tenantcommerce.checkout.models import Checkout
from tenantcommerce.checkout.services import unhold
from tenantcommerce.db.base import new_id
from tenantcommerce.discounts import usage
from tenantcommerce.errors import Conflict, InputError, NotFound, TenantCommerceError
from tenantcommerce.inventory.reservations import OutOfStock
from tenantcommerce.orders import emails
from tenantcommerce.orders.models import Order, Refund
from tenantcommerce.orders.placement import PlacedOrder, place_order
from tenantcommerce.orders.queries import find_order
from tenantcommerce.orders.refunds import retry_refund, settle_refund
from tenantcommerce.orders.schemas import CancelInput
from tenantcommerce.orders.services import Actor, record_payment_succeeded
from tenantcommerce.payments.models import Payment, ProviderEvent
from tenantcommerce.plugins.dispatch import call_with_timeout
from tenantcommerce.plugins.providers import PaymentEvent, PaymentGateway, PaymentResult, WebhookRequest
from tenantcommerce.tenancy.context import use_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.runtime import Runtime
    from tenantcommerce.tenancy.context import StoreContext

_log = structlog.get_logger("tenantcommerce.payments")

Outcome = Literal["applied", "ignored", "flagged", "duplicate"]

AUTO_REFUND_REASON = "paid after the checkout's hold expired, and the stock is gone: refunded in full automatically"


class WebhookReceipt(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the webhook endpoint answers (200): what became of the event."""

    received: bool = True
    event_id: str | None = None
    outcome: Outcome
    detail: str | None = None


@dataclass
class _Applied:
    outcome: Outcome
    detail: str | None = None
    placed: PlacedOrder | None = None
    refund_id: UUID | None = None
    """A full refund recorded pending with the order (paid after expiry, no stock): sent after the commit."""
    flags: list[str] = field(default_factory=list)


async def _parse(runtime: Runtime, plugin_id: str, webhook: WebhookRequest) -> tuple[str, PaymentEvent | None]:
    """The first gateway of ``plugin_id`` that recognises the call: its id and the event (``None``: not needed)."""
    gateways: list[PaymentGateway] = [
        registered.value
        for registered in runtime.plugin_host.registrations.payment_gateways.values()
        if registered.plugin_id == plugin_id
    ]
    if not gateways:
        raise NotFound(f"no installed plugin {plugin_id!r} takes payments, so none receives webhooks here")
    for gateway in gateways:
        event: PaymentEvent | None = await call_with_timeout(
            plugin_id,
            f"{gateway.id}.parse_webhook",
            runtime.settings.plugin_timeout,
            functools.partial(gateway.parse_webhook, webhook),
            runtime.metrics,
        )
        if event is not None:
            return gateway.id, event
    return gateways[0].id, None


async def receive_webhook(
    runtime: Runtime, plugin_id: str, webhook: WebhookRequest, *, request_id: str | None = None
) -> WebhookReceipt:
    """Verify, route, deduplicate and apply one webhook call (see the module's docstring).

    Raises:
        NotFound: no installed plugin ``plugin_id`` has a payment gateway.
        InputError: the gateway rejected the signature or the body (nothing was written).
        Conflict: the payment's checkout is still waiting for the gateway's answer: deliver again later.
    """
    gateway_id, event = await _parse(runtime, plugin_id, webhook)
    if event is None:
        return _receipt(runtime, gateway_id, "unknown", None, "ignored", "this event type is not used")
    store = await runtime.resolver.by_id(event.store_id) if event.store_id is not None else None
    if store is None:
        _log.info("payment event for no store", gateway=gateway_id, event_id=event.event_id, kind=event.kind)
        return _receipt(
            runtime, gateway_id, event.kind, event.event_id, "ignored", "it names no store of this platform"
        )
    with use_store(store):
        return await _receive_for_store(runtime, store, gateway_id, event, request_id)


async def _receive_for_store(
    runtime: Runtime, store: StoreContext, gateway_id: str, event: PaymentEvent, request_id: str | None
) -> WebhookReceipt:
    async with runtime.database.session() as session:
        seen = await session.scalar(
            select(ProviderEvent.id).where(
                ProviderEvent.gateway_id == gateway_id, ProviderEvent.event_id == event.event_id
            )
        )
    if seen is not None:
        return _receipt(runtime, gateway_id, event.kind, event.event_id, "duplicate", "already processed")
    plugins = await runtime.plugins.for_store(store)
    with contextlib.suppress(NotFound):  # a gateway turned off still has its payments settled by the core
        await plugins.payment_gateway(gateway_id).handle_event(event)
    actor = Actor(principal=None, request_id=request_id)
    async with runtime.database.session() as session:
        recorded = await session.scalar(
            insert(ProviderEvent)
            .values(
                store_id=store.id,
                id=new_id(),
                gateway_id=gateway_id,
                event_id=event.event_id,
                kind=event.kind,
                payment_ref=event.payment_ref,
                checkout_id=event.checkout_id,
                outcome="applied",
            )
            .on_conflict_do_nothing(index_elements=["store_id", "gateway_id", "event_id"])
            .returning(ProviderEvent.id)
        )
        if recorded is None:  # the same event, delivered concurrently, was applied meanwhile
            await session.rollback()
            return _receipt(runtime, gateway_id, event.kind, event.event_id, "duplicate", "already processed")
        applied = await _apply(session, gateway_id, event, actor)
        row = await session.get(ProviderEvent, (store.id, recorded))
        assert row is not None
        row.outcome = "ignored" if applied.outcome == "duplicate" else applied.outcome
        row.detail = applied.detail[:1000] if applied.detail else None
        confirmation = None
        if applied.placed is not None and applied.refund_id is None:
            confirmation = emails.order_confirmation(applied.placed.order, applied.placed.items, store)
        await session.commit()
    if applied.placed is not None:
        runtime.metrics.order_placed(store.slug, applied.placed.order.payment_status)
    if confirmation is not None:
        try:
            await runtime.mailer.send(confirmation)
        except Exception as exc:  # the order stands; a mail that cannot be sent must not make the provider retry
            _log.warning("order mail not sent", kind=confirmation.kind, error=repr(exc))
    if applied.placed is not None and applied.refund_id is not None:
        await _refund_unstocked(runtime, applied.placed.order.id, applied.refund_id, actor)
    return _receipt(runtime, gateway_id, event.kind, event.event_id, applied.outcome, applied.detail)


def _receipt(
    runtime: Runtime, gateway_id: str, kind: str, event_id: str | None, outcome: Outcome, detail: str | None
) -> WebhookReceipt:
    runtime.metrics.payment_event(gateway_id, kind, outcome)
    return WebhookReceipt(event_id=event_id, outcome=outcome, detail=detail)


async def _refund_unstocked(runtime: Runtime, order_id: UUID, refund_id: UUID, actor: Actor) -> None:
    """Send the full refund recorded with an order placed without stock, then cancel the order. The refund was
    written pending in the order's own transaction, so if this fails (or the process stops first) it stays pending
    on the flagged order, for the merchant to retry (``POST .../orders/{id}/refunds/{refund_id}/retry``)."""
    try:
        await retry_refund(runtime, order_id, refund_id, actor, cancel=CancelInput(reason=AUTO_REFUND_REASON))
    except TenantCommerceError as exc:
        _log.warning("automatic refund failed", order_id=str(order_id), refund_id=str(refund_id), reason=exc.detail)


async def _apply(session: AsyncSession, gateway_id: str, event: PaymentEvent, actor: Actor) -> _Applied:
    match event.kind:
        case "payment.succeeded":
            return await _payment_succeeded(session, gateway_id, event, actor)
        case "payment.failed":
            return await _payment_failed(session, gateway_id, event)
        case "payment.cancelled":
            return await _payment_cancelled(session, gateway_id, event)
        case "payment.refunded":
            return await _payment_refunded(session, gateway_id, event, actor)
        case "refund.succeeded" | "refund.failed":
            return await _refund_settled(session, gateway_id, event, actor)
        case "dispute.created":
            return await _dispute_created(session, gateway_id, event, actor)
        case _:  # account.updated: the gateway's handle_event did what there is to do
            return _Applied("applied")


# --- payments -------------------------------------------------------------------------------------------------------


async def _checkout_of(session: AsyncSession, event: PaymentEvent) -> Checkout | None:
    query = select(Checkout).with_for_update()
    if event.checkout_id is not None:
        found = await session.scalar(query.where(Checkout.id == event.checkout_id))
        if found is not None:
            return found
    if event.payment_ref is not None:
        return await session.scalar(query.where(Checkout.payment_ref == event.payment_ref).limit(1))
    return None


def _mismatches(checkout: Checkout, gateway_id: str, event: PaymentEvent) -> list[str]:
    """What in a success event differs from the checkout it names."""
    found = []
    if checkout.payment_method != gateway_id:
        found.append(f"gateway: the checkout pays with {checkout.payment_method!r}, not {gateway_id!r}")
    if checkout.payment_ref is not None and event.payment_ref != checkout.payment_ref:
        found.append(f"payment: the checkout's payment is {checkout.payment_ref}, not {event.payment_ref}")
    if event.amount_minor != checkout.total_minor:
        found.append(f"amount: the checkout's total is {checkout.total_minor}, not {event.amount_minor}")
    if event.currency != checkout.currency:
        found.append(f"currency: the checkout is in {checkout.currency}, not {event.currency}")
    expected_account = (checkout.metadata_ or {}).get("payment_account")
    if event.account != expected_account:
        found.append(f"account: the checkout pays into {expected_account}, not {event.account}")
    return found


def _flag_checkout(session: AsyncSession, checkout: Checkout, event: PaymentEvent, problems: list[str]) -> _Applied:
    flags = list((checkout.metadata_ or {}).get("flags", []))
    flags.append({"event_id": event.event_id, "kind": event.kind, "problems": problems})
    checkout.metadata_ = {**(checkout.metadata_ or {}), "flags": flags}
    changes = {"event_id": event.event_id, "payment_ref": event.payment_ref, "problems": problems}
    audit(session, None, "payment.flagged", "checkout", checkout.id, changes)
    _log.warning("payment event flagged", checkout_id=str(checkout.id), event_id=event.event_id, problems=problems)
    return _Applied("flagged", "; ".join(problems))


def _flag_order(order: Order, flag: str, **details: Any) -> None:
    order.flags = [*(order.flags or []), {"flag": flag, **details}]


async def _payment_succeeded(session: AsyncSession, gateway_id: str, event: PaymentEvent, actor: Actor) -> _Applied:
    checkout = await _checkout_of(session, event)
    if checkout is None:
        return _Applied("ignored", "no checkout of this store has this payment")
    if checkout.status == "awaiting_payment" and checkout.payment_ref is None:
        raise Conflict("the checkout is still waiting for its payment to be recorded: deliver the event again later")
    problems = _mismatches(checkout, gateway_id, event)
    if problems:
        return _flag_checkout(session, checkout, event, problems)
    result = PaymentResult(
        status="succeeded",
        payment_ref=event.payment_ref or "",
        amount_minor=event.amount_minor or 0,
        currency=event.currency or checkout.currency,
        account=event.account,
    )
    if checkout.status == "completed":
        try:
            await record_payment_succeeded(
                session,
                gateway_id=gateway_id,
                payment_ref=result.payment_ref,
                amount_minor=result.amount_minor,
                currency=result.currency,
                request_id=actor.request_id,
            )
        except TenantCommerceError as exc:
            return _flag_checkout(session, checkout, event, [exc.detail])
        return _Applied("applied", "the order was placed already")
    if checkout.payment is not None:
        checkout.payment = {**checkout.payment, "status": "succeeded", "failure_reason": None}
    if checkout.status == "awaiting_payment":
        return _Applied("applied", "order placed", placed=await place_order(session, checkout, result))
    return await _place_after_expiry(session, checkout, event, result)


async def _place_after_expiry(
    session: AsyncSession, checkout: Checkout, event: PaymentEvent, result: PaymentResult
) -> _Applied:
    """The hold was given back before the money came: take the stock again if it is there, else place the order
    without stock and have it refunded."""
    if checkout.discount_id is not None:
        await usage.count_paid_use(session, checkout.discount_id)
    try:
        async with session.begin_nested():
            placed = await place_order(session, checkout, result)
    except OutOfStock as exc:
        placed = await place_order(session, checkout, result, take_stock=False)
        _flag_order(placed.order, "paid_after_expiry_out_of_stock", event_id=event.event_id, detail=exc.detail)
        payment = await session.scalar(select(Payment).where(Payment.order_id == placed.order.id))
        assert payment is not None
        refund = Refund(
            id=new_id(),
            order_id=placed.order.id,
            payment_id=payment.id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            status="pending",
            reason=AUTO_REFUND_REASON,
            lines=[],
        )
        session.add(refund)
        await session.flush()
        return _Applied(
            "flagged",
            f"order #{placed.order.order_number} was paid after its hold expired and the stock is gone: it is "
            "refunded and cancelled",
            placed=placed,
            refund_id=refund.id,
        )
    _flag_order(placed.order, "paid_after_expiry", event_id=event.event_id)
    await session.flush()
    return _Applied("applied", "order placed after the hold expired (the stock was taken again)", placed=placed)


def _waiting_for(checkout: Checkout | None, gateway_id: str, event: PaymentEvent) -> bool:
    return (
        checkout is not None
        and checkout.status == "awaiting_payment"
        and checkout.payment_method == gateway_id
        and checkout.payment_ref == event.payment_ref
    )


async def _payment_failed(session: AsyncSession, gateway_id: str, event: PaymentEvent) -> _Applied:
    checkout = await _checkout_of(session, event)
    if checkout is None or not _waiting_for(checkout, gateway_id, event):
        return _Applied("ignored", "no checkout is waiting for this payment")
    if checkout.payment is not None:
        checkout.payment = {**checkout.payment, "status": "failed", "failure_reason": event.reason}
    return _Applied("applied", "the checkout keeps its hold: the customer may try again")


async def _payment_cancelled(session: AsyncSession, gateway_id: str, event: PaymentEvent) -> _Applied:
    checkout = await _checkout_of(session, event)
    if checkout is None or not _waiting_for(checkout, gateway_id, event):
        return _Applied("ignored", "no checkout is waiting for this payment")
    if checkout.payment is not None:
        checkout.payment = {**checkout.payment, "status": "cancelled"}
    await unhold(session, checkout)
    return _Applied("applied", "the hold was given back and the checkout is open again")


# --- after the payment ---------------------------------------------------------------------------------------------


async def _order_of_payment(session: AsyncSession, gateway_id: str, payment_ref: str | None) -> Order | None:
    if payment_ref is None:
        return None
    order_id = await session.scalar(
        select(Payment.order_id).where(Payment.method == gateway_id, Payment.transaction_id == payment_ref)
    )
    return None if order_id is None else await find_order(session, order_id, lock=True)


async def _payment_refunded(session: AsyncSession, gateway_id: str, event: PaymentEvent, actor: Actor) -> _Applied:
    order = await _order_of_payment(session, gateway_id, event.payment_ref)
    if order is None or event.amount_minor is None:
        return _Applied("ignored", "no order has this payment")
    payment = await session.scalar(
        select(Payment)
        .where(Payment.method == gateway_id, Payment.transaction_id == event.payment_ref)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert payment is not None
    if event.currency != payment.currency:
        raise InputError(f"the refund is in {event.currency}, the payment in {payment.currency}")
    pending = sum(
        await session.scalars(
            select(Refund.amount_minor).where(Refund.payment_id == payment.id, Refund.status == "pending")
        )
    )
    unknown = min(event.amount_minor - payment.refunded_minor - pending, payment.amount_minor - payment.refunded_minor)
    if unknown <= 0:
        return _Applied("applied", "every refund is known already")
    refund = Refund(
        id=new_id(),
        order_id=order.id,
        payment_id=payment.id,
        amount_minor=unknown,
        currency=payment.currency,
        status="pending",
        reason="refunded at the payment provider",
        lines=[],
    )
    session.add(refund)
    await session.flush()
    await settle_refund(session, order, refund, actor, refund_ref=None, succeeded=True)
    return _Applied("applied", f"recorded a refund of {unknown} made at the provider")


async def _refund_settled(session: AsyncSession, gateway_id: str, event: PaymentEvent, actor: Actor) -> _Applied:
    if event.refund_ref is None:
        return _Applied("ignored", "the event names no refund")
    refund = await session.scalar(
        select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.refund_ref == event.refund_ref, Payment.method == gateway_id)
    )
    if refund is None or refund.status != "pending":
        return _Applied("ignored", "no pending refund has this reference")
    order = await find_order(session, refund.order_id, lock=True)
    refund = await session.scalar(
        select(Refund).where(Refund.id == refund.id).with_for_update().execution_options(populate_existing=True)
    )
    assert refund is not None
    if refund.status != "pending":
        return _Applied("ignored", "the refund was settled meanwhile")
    succeeded = event.kind == "refund.succeeded"
    failure = None if succeeded else (event.reason or "the provider says the refund failed")
    await settle_refund(
        session, order, refund, actor, refund_ref=event.refund_ref, succeeded=succeeded, failure=failure
    )
    return _Applied("applied", f"refund {refund.id} {refund.status}")


async def _dispute_created(session: AsyncSession, gateway_id: str, event: PaymentEvent, actor: Actor) -> _Applied:
    order = await _order_of_payment(session, gateway_id, event.payment_ref)
    if order is None:
        return _Applied("ignored", "no order has this payment")
    details = {"event_id": event.event_id, "reason": event.reason, "amount_minor": event.amount_minor}
    _flag_order(order, "disputed", **details)
    audit(session, actor.principal, "order.disputed", "order", order.id, details, request_id=actor.request_id)
    await session.flush()
    return _Applied("flagged", f"order #{order.order_number} is disputed: {event.reason or 'no reason given'}")
