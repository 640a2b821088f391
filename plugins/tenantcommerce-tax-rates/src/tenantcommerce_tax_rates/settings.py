"""Per-store settings of the plugin (``store_plugins.config``), validated by the core when a merchant saves them."""

from __future__ import annotations

from typing import Literal

import msgspec

Rounding = Literal["half_up", "half_even"]
"""How a line's tax is rounded to a whole minor unit when it falls exactly half-way: ``half_up`` rounds away from
zero (2.5 -> 3), ``half_even`` to the even neighbour (2.5 -> 2, 3.5 -> 4)."""


class TaxRatesSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the store's prices and tax are to be read.

    Attributes:
        prices_include_tax: ``True`` when prices are gross (tax is taken out of them and the total does not grow);
            ``False`` when tax is added on top.
        rounding: the rounding of each line's tax (see :data:`Rounding`).
    """

    prices_include_tax: bool = False
    rounding: Rounding = "half_up"


def settings_of(config: object) -> TaxRatesSettings:
    """The decoded config a call received, or the defaults when there is none."""
    return config if isinstance(config, TaxRatesSettings) else TaxRatesSettings()
