"""Both gateways pass the core's payment gateway contract (real Postgres, two stores)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from tenantcommerce.testing.contracts import PaymentGatewayContract

from tenantcommerce_manual_payments.gateways import BankTransferGateway, CashOnDeliveryGateway
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings


class _ManualContract(PaymentGatewayContract):
    plugin_id = "manual-payments"

    def decode_config(self, config: dict[str, Any]) -> Any:
        return msgspec.convert(config, ManualPaymentsSettings, strict=False)


class TestBankTransferContract(_ManualContract):
    @pytest.fixture
    def provider(self) -> BankTransferGateway:
        return BankTransferGateway()

    @pytest.fixture
    def plugin_config(self) -> dict[str, Any]:
        return {"bank_transfer": {"account_holder": "Contract GmbH", "iban": "DE89370400440532013000"}}


class TestCashOnDeliveryContract(_ManualContract):
    @pytest.fixture
    def provider(self) -> CashOnDeliveryGateway:
        return CashOnDeliveryGateway()

    @pytest.fixture
    def plugin_config(self) -> dict[str, Any]:
        return {"cash_on_delivery": True}
