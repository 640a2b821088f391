"""The hook implementations of the ``manual-payments`` plugin (entry point ``manual-payments`` in the group
``tenantcommerce``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from tenantcommerce.plugins import PaymentGateway, Routes, StoreWarning, hookimpl

from tenantcommerce_manual_payments.admin import ManualPaymentsController
from tenantcommerce_manual_payments.gateways import BankTransferGateway, CashOnDeliveryGateway, settings_of
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

if TYPE_CHECKING:
    from tenantcommerce.plugins import PluginContext
    from tenantcommerce.tenancy.context import StoreContext

PLUGIN_ID = "manual-payments"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


@hookimpl
def tc_register_payment_gateways(register: Callable[[PaymentGateway], None]) -> None:
    """Bank transfer (``bank-transfer``) and pay on delivery (``cash-on-delivery``)."""
    register(BankTransferGateway())
    register(CashOnDeliveryGateway())


@hookimpl
def tc_register_settings_schemas(register: Callable[[type[msgspec.Struct]], None]) -> None:
    """:class:`~tenantcommerce_manual_payments.settings.ManualPaymentsSettings`."""
    register(ManualPaymentsSettings)


@hookimpl
def tc_register_routes(register: Callable[[Routes], None]) -> None:
    """The admin routes (payments, mark paid)."""
    register(Routes("admin", [ManualPaymentsController]))


@hookimpl
def tc_register_migrations(register: Callable[[Path], None]) -> None:
    """The ``manual_payments`` Alembic branch."""
    register(MIGRATIONS)


@hookimpl
async def tc_collect_store_warnings(ctx: StoreContext, plugin: PluginContext) -> Sequence[StoreWarning]:
    """Warn while neither bank transfer nor pay on delivery is configured: customers could not pay."""
    if settings_of(plugin).methods:
        return []
    return [
        StoreWarning(
            message="no manual payment method is configured: add bank details (bank_transfer) or turn on "
            "cash_on_delivery in the plugin's settings",
        )
    ]
