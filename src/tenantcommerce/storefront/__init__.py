"""What every storefront call shares: idempotency keys and the client a call comes from."""
