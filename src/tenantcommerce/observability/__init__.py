"""Logs (structlog) and metrics (Prometheus) with the store, user and request on every line."""
