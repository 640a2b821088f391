"""tenantcommerce-theme-default: the storefront theme every store starts with, and every other theme falls back to."""

__version__ = "0.1.0"
