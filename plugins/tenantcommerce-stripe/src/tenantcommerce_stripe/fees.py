"""The platform fee: a percentage of the amount plus a fixed part, taken as the PaymentIntent's
``application_fee_amount``.

The deployment's default comes from ``TC_STRIPE_FEE_BP`` and ``TC_STRIPE_FEE_FIXED``; platform operators may give a
store its own policy (kept in the plugin's per-store state under :data:`STATE_KEY`), through the platform routes
only. Merchants can neither see how to change it nor change it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

MAX_PERCENT_BP = 10_000
"""100 %."""
MAX_FIXED_MINOR = 100_000_000
"""A bound on the fixed part (a million units of a two-decimal currency): a typo, not a fee, above it."""
STATE_KEY = "fee"
"""Where a store's own policy lives in the plugin's state."""

PercentBp = Annotated[
    int, msgspec.Meta(ge=0, le=MAX_PERCENT_BP, description="Basis points of the amount: 250 is 2.5 %.")
]
FixedMinor = Annotated[
    int, msgspec.Meta(ge=0, le=MAX_FIXED_MINOR, description="Minor units of the store's currency, added on top.")
]
FeeSource = Literal["default", "store"]


class FeePolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A platform fee: ``percent_bp`` basis points of the amount (rounded half up) plus ``fixed_minor``, never more
    than the amount itself.

    Attributes:
        percent_bp: 0 to 10000 (250 is 2.5 %).
        fixed_minor: added on top, in minor units of the store's currency.
    """

    percent_bp: PercentBp = 0
    fixed_minor: FixedMinor = 0

    def fee_for(self, amount_minor: int) -> int:
        """The fee on ``amount_minor``: ``round_half_up(amount * bp / 10000) + fixed``, at most the amount."""
        percentage = (amount_minor * self.percent_bp * 2 + MAX_PERCENT_BP) // (MAX_PERCENT_BP * 2)
        return max(0, min(amount_minor, percentage + self.fixed_minor))


class EffectiveFee(msgspec.Struct, frozen=True, kw_only=True):
    """The policy a store's payments use, and where it comes from (``store``: set by an operator for this store;
    ``default``: the deployment's)."""

    percent_bp: int
    fixed_minor: int
    source: FeeSource

    @property
    def policy(self) -> FeePolicy:
        """The policy itself."""
        return FeePolicy(percent_bp=self.percent_bp, fixed_minor=self.fixed_minor)


def store_policy(state: dict[str, Any]) -> FeePolicy | None:
    """The store's own policy from the plugin's state, if an operator set one."""
    raw = state.get(STATE_KEY)
    if raw is None:
        return None
    return msgspec.convert(raw, FeePolicy)


def effective(default: FeePolicy, state: dict[str, Any]) -> EffectiveFee:
    """The policy that applies to the store whose plugin state is ``state``."""
    own = store_policy(state)
    if own is None:
        return EffectiveFee(percent_bp=default.percent_bp, fixed_minor=default.fixed_minor, source="default")
    return EffectiveFee(percent_bp=own.percent_bp, fixed_minor=own.fixed_minor, source="store")
