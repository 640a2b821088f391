"""tenantcommerce-stripe: Stripe Connect payments for tenantcommerce stores.

Each store onboards an Express connected account; checkouts are paid with destination charges (a PaymentIntent whose
``transfer_data[destination]`` is the store's account, with the platform fee as ``application_fee_amount``); webhooks
of the platform and Connect endpoints are verified and translated for the core; refunds reverse the transfer and the
fee. :mod:`tenantcommerce_stripe.testing` is an offline Stripe API server for tests.
"""

__version__ = "0.1.0"
