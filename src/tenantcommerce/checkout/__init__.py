"""Checkout: a frozen snapshot of a cart, priced by one totals pipeline, completed by reserving stock and paying."""
