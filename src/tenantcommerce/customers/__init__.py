"""Customers of a store."""
