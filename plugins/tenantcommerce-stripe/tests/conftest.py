"""Fixtures of the tenantcommerce-stripe tests: the offline Stripe server and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tenantcommerce_stripe.testing import FakeStripe


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A running :class:`FakeStripe` on a free port of 127.0.0.1."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    """The real ``stripe.StripeClient``, its API base set to the fake server."""
    return fake_stripe.client()
