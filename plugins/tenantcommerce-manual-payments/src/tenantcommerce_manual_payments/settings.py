"""The per-store settings of manual payments (``store_plugins.config``), validated when the merchant saves them."""

from __future__ import annotations

from typing import Annotated

import msgspec
from tenantcommerce.fields import NO_NUL

IBAN_PATTERN = r"^[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}$"
"""The shape of an IBAN: country, two check digits, 11 to 30 letters or digits (single spaces allowed between)."""
BIC_PATTERN = r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$"
"""The shape of a BIC (SWIFT code): 8 or 11 characters."""
REFERENCE_PREFIX_PATTERN = r"^[A-Z][A-Z0-9]{0,5}$"
"""1 to 6 upper-case letters or digits, starting with a letter."""

AccountHolder = Annotated[str, msgspec.Meta(min_length=1, max_length=70, pattern=NO_NUL)]
Iban = Annotated[
    str,
    msgspec.Meta(
        pattern=IBAN_PATTERN,
        description="Upper case, e.g. DE89370400440532013000 or DE89 3704 0044 0532 0130 00.",
    ),
]
Bic = Annotated[str, msgspec.Meta(pattern=BIC_PATTERN, description="8 or 11 characters, upper case.")]
Instructions = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=NO_NUL)]
ReferencePrefix = Annotated[
    str, msgspec.Meta(pattern=REFERENCE_PREFIX_PATTERN, description="Short and upper case, e.g. PAY or SHOP1.")
]


class BankTransferSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where customers send a bank transfer.

    Attributes:
        account_holder: the name on the account.
        iban: the account's IBAN (its shape is checked, not its check digits).
        bic: the bank's BIC, if customers need it.
        instructions: shown to the customer after the bank details (e.g. "We ship once the money arrives").
    """

    account_holder: AccountHolder
    iban: Iban
    bic: Bic | None = None
    instructions: Instructions | None = None


class ManualPaymentsSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a store takes manual payments. With neither method configured the plugin offers nothing (and warns).

    Attributes:
        bank_transfer: the account to pay into; ``None`` turns bank transfer off.
        cash_on_delivery: offer paying the courier on delivery.
        cash_on_delivery_instructions: shown to the customer choosing pay on delivery.
        reference_prefix: starts every payment reference (``PAY-7K3Q9XA2``), which customers quote on transfers.
    """

    bank_transfer: BankTransferSettings | None = None
    cash_on_delivery: bool = False
    cash_on_delivery_instructions: Instructions | None = None
    reference_prefix: ReferencePrefix = "PAY"

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods this store offers (``bank_transfer``, ``cash_on_delivery``)."""
        offered = []
        if self.bank_transfer is not None:
            offered.append("bank_transfer")
        if self.cash_on_delivery:
            offered.append("cash_on_delivery")
        return tuple(offered)
