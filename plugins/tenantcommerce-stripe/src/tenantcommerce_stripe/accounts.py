"""Connected accounts: creating a store's Express account (onboarding) and keeping its flags current.

Both run inside a writable transaction of the store with the plugin's state row locked (:func:`state.locked`), so
two onboarding requests never create two accounts, and a sync never overwrites a newer one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from uuid import UUID

from tenantcommerce_stripe import state as plugin_state
from tenantcommerce_stripe.client import StripeApi
from tenantcommerce_stripe.state import AccountState, Connection

if TYPE_CHECKING:
    from stripe.params import AccountCreateParams


def account_key(store_id: UUID, country: str | None, email: str | None) -> str:
    """The idempotency key of creating the store's account: the same store with the same details never makes a
    second account at Stripe (other details make another key, so a corrected retry is not refused)."""
    details = hashlib.sha256(f"{country or ''}\n{email or ''}".encode()).hexdigest()[:16]
    return f"tc-stripe:{store_id}:account:{details}"


async def onboard(
    api: StripeApi, conn: Connection, store_id: UUID, *, country: str | None, email: str | None
) -> tuple[AccountState, bool]:
    """The store's connected account, created at Stripe (and recorded) unless it has one: an Express account that
    asks for the ``card_payments`` and ``transfers`` capabilities, its ``metadata[store_id]`` naming the store.

    Returns:
        The account, and whether this call created it.
    """
    state = await plugin_state.locked(conn)
    existing = plugin_state.account_of(state)
    if existing is not None:
        return existing, False
    params: AccountCreateParams = {
        "type": "express",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "metadata": {"store_id": str(store_id)},
    }
    if country:
        params["country"] = country
    if email:
        params["email"] = email
    created = await api.create_account(params, idempotency_key=account_key(store_id, country, email))
    account = AccountState.of(created)
    await plugin_state.save(conn, plugin_state.with_account(state, account))
    return account, True


async def sync(api: StripeApi, conn: Connection, *, only: str | None = None) -> AccountState | None:
    """Read the store's account from Stripe and record its current flags.

    Args:
        only: sync only if the store's account is this one (an event about another account changes nothing).

    Returns:
        The account as recorded now; ``None`` when the store has no account (or not ``only``).
    """
    state = await plugin_state.locked(conn)
    current = plugin_state.account_of(state)
    if current is None or (only is not None and current.id != only):
        return None
    account = AccountState.of(await api.retrieve_account(current.id))
    await plugin_state.save(conn, plugin_state.with_account(state, account))
    return account
