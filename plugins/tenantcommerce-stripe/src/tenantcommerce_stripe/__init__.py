"""tenantcommerce-stripe: Stripe Connect payments for tenantcommerce stores.

For now the package ships :mod:`tenantcommerce_stripe.testing`, an offline Stripe API server the real ``stripe``
library can be pointed at; the plugin itself (gateway, onboarding, webhooks, refunds) follows.
"""

__version__ = "0.1.0"
