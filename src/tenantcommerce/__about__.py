"""Version of the tenantcommerce core package."""

__version__ = "0.1.0"
