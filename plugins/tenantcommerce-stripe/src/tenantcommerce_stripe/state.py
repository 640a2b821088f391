"""The plugin's per-store state (``store_plugin_state``, never editable by merchants):

```json
{"account": {"id": "acct_1...", "charges_enabled": true, "payouts_enabled": true, "details_submitted": true,
             "synced_at": 1767225600},
 "fee": {"percent_bp": 250, "fixed_minor": 30}}
```

``account`` is written by onboarding (the only writer of its ``id``) and by syncs with Stripe; ``fee`` by platform
operators (:mod:`tenantcommerce_stripe.fees`). Writers change their own key in a read-modify-write under a row lock
(:func:`locked`), so concurrent writers never lose each other's keys.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import msgspec
from tenantcommerce.plugins.state import write_state
from uuid_utils.compat import uuid7

from tenantcommerce_stripe.objects import Account

PLUGIN_ID = "stripe"
ACCOUNT_KEY = "account"

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


class AccountState(msgspec.Struct, frozen=True, kw_only=True):
    """The store's connected account as last read from Stripe.

    Attributes:
        id: the Express account's id (``acct_...``).
        charges_enabled: Stripe lets it take payments.
        payouts_enabled: Stripe pays its balance out.
        details_submitted: the merchant finished the onboarding form.
        synced_at: when these flags were read from Stripe (Unix seconds).
    """

    id: str
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    synced_at: int = 0

    @classmethod
    def of(cls, account: Account) -> AccountState:
        """The flags of ``account``, read now."""
        return cls(
            id=account.id,
            charges_enabled=account.charges_enabled,
            payouts_enabled=account.payouts_enabled,
            details_submitted=account.details_submitted,
            synced_at=int(time.time()),
        )


def account_of(state: dict[str, Any]) -> AccountState | None:
    """The connected account recorded in ``state``, if onboarding started."""
    raw = state.get(ACCOUNT_KEY)
    if raw is None:
        return None
    return msgspec.convert(raw, AccountState)


def with_account(state: dict[str, Any], account: AccountState) -> dict[str, Any]:
    """``state`` with ``account`` recorded (the other keys kept)."""
    return {**state, ACCOUNT_KEY: msgspec.to_builtins(account)}


async def locked(conn: Connection) -> dict[str, Any]:
    """The plugin's state in the store of ``conn``'s (writable) transaction, its row locked until the transaction
    ends: the row is created first if missing, so even the first writers queue behind each other."""
    await conn.execute(
        """
        INSERT INTO store_plugin_state (store_id, id, plugin_id, state)
        VALUES (current_setting('app.current_store_id')::uuid, $1, $2, '{}'::jsonb)
        ON CONFLICT (store_id, plugin_id) DO NOTHING
        """,
        uuid7(),
        PLUGIN_ID,
    )
    raw = await conn.fetchval(
        "SELECT state::text FROM store_plugin_state WHERE store_id = current_setting('app.current_store_id')::uuid "
        "AND plugin_id = $1 FOR UPDATE",
        PLUGIN_ID,
    )
    return dict(msgspec.json.decode(raw)) if raw is not None else {}


async def save(conn: Connection, state: dict[str, Any]) -> None:
    """Write ``state`` (read with :func:`locked` in the same transaction)."""
    await write_state(conn, PLUGIN_ID, state)
