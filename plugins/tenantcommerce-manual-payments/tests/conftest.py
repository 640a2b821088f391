"""Fixtures of the manual-payments tests (names start with ``mp_`` so they never shadow the core kit's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
from tenantcommerce.db.database import Database
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.providers import PaymentRequest
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.tenancy.services import create_store
from tenantcommerce.testing.plugins import enable_plugin, plugin_context, store_context
from uuid_utils.compat import uuid7

from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

PLUGIN_ID = "manual-payments"


@dataclass(frozen=True)
class ManualStore:
    """A store with the plugin enabled, and the ``plugin`` context its gateways get."""

    ctx: StoreContext
    plugin: PluginContext
    database: Database

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """``sql`` as the runtime role in this store's transaction (RLS applies)."""
        async with self.database.store_transaction(self.ctx.id) as conn:
            return list(await conn.fetch(sql, *args))

    async def execute(self, sql: str, *args: Any) -> None:
        """``sql`` as the runtime role in a writable transaction of this store."""
        async with self.database.store_transaction(self.ctx.id, readonly=False) as conn:
            await conn.execute(sql, *args)


@pytest.fixture
def mp_bank() -> dict[str, Any]:
    """Bank details that pass validation."""
    return {
        "account_holder": "Beans GmbH",
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "COBADEFFXXX",
        "instructions": "We ship once the money arrives.",
    }


@pytest.fixture
def mp_config(mp_bank: dict[str, Any]) -> dict[str, Any]:
    """A config offering both methods."""
    return {
        "bank_transfer": mp_bank,
        "cash_on_delivery": True,
        "cash_on_delivery_instructions": "Cash or card at the door.",
        "reference_prefix": "BEANS",
    }


@pytest.fixture
def mp_store(tc_database: Database) -> Callable[..., Awaitable[ManualStore]]:
    """``await mp_store(slug, config=..., currency="EUR")``: a store with the plugin enabled with ``config``."""

    async def make(slug: str, *, config: dict[str, Any], currency: str = "EUR") -> ManualStore:
        created = await create_store(
            tc_database, slug=slug, name=slug.title(), currency=currency, owner_email=f"owner@{slug}.test"
        )
        await enable_plugin(tc_database, created.id, PLUGIN_ID, config=config)
        ctx = await store_context(tc_database, created.id)
        settings = msgspec.convert(config, ManualPaymentsSettings, strict=False)
        return ManualStore(ctx, plugin_context(tc_database, ctx.id, PLUGIN_ID, settings), tc_database)

    return make


@pytest.fixture
def mp_request() -> Callable[..., PaymentRequest]:
    """``mp_request(key, amount=4250, currency="EUR", checkout_id=None)``: a payment request."""

    def make(
        key: str = "key-1", *, amount: int = 4_250, currency: str = "EUR", checkout_id: UUID | None = None
    ) -> PaymentRequest:
        return PaymentRequest(
            checkout_id=checkout_id or UUID(str(uuid7())),
            amount_minor=amount,
            currency=currency,
            reference=f"C-{key}",
            idempotency_key=key,
            customer_email="ada@example.com",
        )

    return make
