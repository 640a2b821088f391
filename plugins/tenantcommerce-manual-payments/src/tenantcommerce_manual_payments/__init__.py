"""tenantcommerce-manual-payments: bank transfer and pay on delivery for tenantcommerce stores.

The money arrives outside the platform: a payment is created ``pending`` with instructions for the customer, and an
admin marks it paid (``POST /api/admin/{slug}/plugins/manual-payments/payments/{reference}/mark-paid``).
"""

__version__ = "0.1.0"
