"""An offline Stripe API for tests: point the real ``stripe`` library at :class:`FakeStripe`.

```python
from tenantcommerce_stripe.testing import FakeStripe, sign_webhook

with FakeStripe() as fake:
    client = fake.client()  # stripe.StripeClient(DEFAULT_SECRET_KEY, base_addresses={"api": fake.api_base})
    account = client.v1.accounts.create(params={"type": "express", "country": "DE"})
    fake.enable_account(account.id)
```
"""

from tenantcommerce_stripe.testing.resources import DEFAULT_API_VERSION, StripeObjects, new_id
from tenantcommerce_stripe.testing.server import (
    DEFAULT_SECRET_KEY,
    FakeStripe,
    RecordedRequest,
    SignedWebhook,
    fake_stripe,
    sign_webhook,
)
from tenantcommerce_stripe.testing.wire import Param, StripeApiError, parse_form, validate

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_SECRET_KEY",
    "FakeStripe",
    "Param",
    "RecordedRequest",
    "SignedWebhook",
    "StripeApiError",
    "StripeObjects",
    "fake_stripe",
    "new_id",
    "parse_form",
    "sign_webhook",
    "validate",
]
