"""Arguments and results of the decide and collect hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

import msgspec

from tenantcommerce.plugins.providers import Address


class CheckoutLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a checkout."""

    sku: str
    quantity: int
    unit_price_minor: int


class CheckoutSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A checkout as ``tc_check_checkout`` sees it."""

    checkout_id: UUID
    currency: str
    lines: Sequence[CheckoutLine]
    subtotal_minor: int
    total_minor: int
    destination: Address | None = None
    customer_email: str | None = None


class CheckoutRejection(msgspec.Struct, frozen=True, kw_only=True):
    """Why a checkout may not go ahead; ``message`` is shown to the customer, ``field`` names what to change."""

    message: str
    field: str | None = None


class StoreWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something a merchant should fix for a plugin to work in their store."""

    message: str
    severity: Literal["warning", "error"] = "warning"
    plugin_id: str = ""
