"""Completing a checkout: hold, pay, settle (see :mod:`tenantcommerce.checkout.services`), the one sequence the JSON
API (``POST .../checkout/{id}/complete``) and the storefront pages both run.

No transaction is open while the gateway is called. If the call fails in any way (refused, failed, timed out), the
hold is given back before the error propagates. The confirmation mail goes out after the order's commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from tenantcommerce.auth.guards import principal_of
from tenantcommerce.cart.services import CartOwner, owner_of
from tenantcommerce.cart.tokens import cart_token_of
from tenantcommerce.checkout import services
from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.orders import emails
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from litestar import Request
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.plugins.facade import StorePlugins
    from tenantcommerce.plugins.providers import PaymentRequest
    from tenantcommerce.runtime import Runtime


async def _owner(session: AsyncSession, request: Request[Any, Any, Any]) -> CartOwner:
    return await owner_of(session, principal_of(request), cart_token_of(request))


async def complete_checkout(
    runtime: Runtime, request: Request[Any, Any, Any], checkout_id: UUID, payment_method: str | None = None
) -> None:
    """Reserve the stock and pay for the caller's checkout ``checkout_id`` (already completed or awaiting its
    payment: nothing to do).

    Raises:
        NotFound: not the caller's checkout.
        Conflict: the checkout expired or was cancelled.
        BusinessRuleError: not ready, out of stock, refused by a plugin, or the payment failed (the hold is given
            back).
        PluginError: the gateway failed or timed out (the hold is given back).
    """
    plugins = await runtime.plugins.for_store(current_store())
    async with runtime.database.session() as session:
        checkout = await services.get_checkout(session, await _owner(session, request), checkout_id, lock=True)
        held = await services.hold(session, plugins, checkout, payment_method, runtime.settings.checkout_hold)
        payment_request = services.payment_request(checkout)
        await session.commit()
    if held:
        await _pay(runtime, plugins, checkout_id, request, payment_request)


async def _pay(
    runtime: Runtime,
    plugins: StorePlugins,
    checkout_id: UUID,
    request: Request[Any, Any, Any],
    payment_request: PaymentRequest,
) -> None:
    store = current_store()
    async with runtime.database.session() as session:
        checkout = await services.get_checkout(session, await _owner(session, request), checkout_id)
        gateway = plugins.payment_gateway(checkout.payment_method or "")
    try:
        result = await gateway.create_payment(payment_request)  # no transaction is open meanwhile
    except Exception:
        # Whatever went wrong (the provider refused, failed or timed out), nothing stays held.
        runtime.metrics.payment_attempt(store.slug, gateway.id, "error")
        async with runtime.database.session() as session:
            checkout = await services.get_checkout(session, await _owner(session, request), checkout_id, lock=True)
            await services.unhold(session, checkout)
            await session.commit()
        raise
    runtime.metrics.payment_attempt(store.slug, gateway.id, result.status)
    async with runtime.database.session() as session:
        checkout = await services.get_checkout(session, await _owner(session, request), checkout_id, lock=True)
        placed = await services.settle(session, checkout, result)
        confirmation = None
        if placed is not None:
            payment_status = placed.order.payment_status
            confirmation = emails.order_confirmation(
                placed.order, placed.items, store, instructions=result.instructions
            )
        await session.commit()
    if confirmation is not None:
        runtime.metrics.order_placed(store.slug, payment_status)
        await runtime.mailer.send(confirmation)
    elif result.status in {"failed", "cancelled"}:
        raise BusinessRuleError(
            f"the payment {result.status}: {result.failure_reason or 'try another payment method'}",
            errors=[FieldError("payment_method", result.failure_reason or f"payment {result.status}")],
        )
