"""The per-store settings of the plugin (``store_plugins.config``), edited through
``PATCH /api/admin/{slug}/plugins/shipping-rates``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Days = Annotated[int, msgspec.Meta(ge=0, le=365)]


class ShippingRatesSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the rate table behaves in one store. Every field is optional: ``{}`` is a valid config."""

    default_estimated_days: Days | None = None
    """Delivery estimate (days) quoted for rates that have none of their own; ``null``: no estimate."""

    seed_default_rate: bool = True
    """When the plugin is first enabled for a store that has no rates, create one free flat rate,
    "Standard shipping", so checkout works at once (see the README). ``false``: start with an empty table."""


def settings_of(config: Any) -> ShippingRatesSettings:
    """``plugin.config`` as settings (the defaults when the core passed none)."""
    return config if isinstance(config, ShippingRatesSettings) else ShippingRatesSettings()
